// POSIX client of the health socket: a non-blocking AF_UNIX stream socket driven with poll()
// against one deadline for the whole exchange (connect retries included).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <thread>

#include "stella/daemon/status_client.hpp"

namespace stella::daemon {

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

namespace {

// How one attempt ended: done (result filled in), or worth another attempt (the backlog
// was full, or the daemon closed the connection before answering: it drops the oldest
// idle connections when a flood fills it, and a status request may be repeated freely).
enum class Attempt { done, retry };

Attempt attempt(const sockaddr_un& addr, const std::string& path, const std::string& request,
                Clock::time_point deadline, QueryResult& result) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    result.error = std::string("socket: ") + std::strerror(errno);
    return Attempt::done;
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    // A full listen backlog: a non-blocking AF_UNIX connect fails with EAGAIN at once;
    // nothing is in progress, this attempt is over.
    if (err == EAGAIN || err == EINTR) {
      result.error = "timed out connecting to " + path + ": its listen backlog stayed full";
      return Attempt::retry;
    }
    if (err != EINPROGRESS) {
      result.error = "cannot connect to " + path + ": " + std::strerror(err) + " (is stellad running?)";
      return Attempt::done;
    }
    if (!wait_for(fd.get(), POLLOUT, deadline)) {
      result.error = "timed out connecting to " + path;
      return Attempt::done;
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      result.error = "cannot connect to " + path + ": " + std::strerror(so_error) + " (is stellad running?)";
      return Attempt::done;
    }
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd.get(), POLLOUT, deadline)) {
        result.error = "timed out sending to " + path;
        return Attempt::done;
      }
    } else {
      result.error = "sending to " + path + ": " + std::strerror(errno);
      return errno == EPIPE || errno == ECONNRESET ? Attempt::retry : Attempt::done;
    }
  }
  std::string response;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      response.append(buf, static_cast<std::size_t>(n));
      if (response.size() > protocol::kMaxResponseBytes) {
        result.error = "response from " + path + " exceeds " + std::to_string(protocol::kMaxResponseBytes) + " bytes";
        return Attempt::done;
      }
    } else if (n == 0) {
      if (response.empty()) {
        result.error = "stellad closed the connection on " + path + " without answering";
        return Attempt::retry;
      }
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_for(fd.get(), POLLIN, deadline)) {
        result.error = "timed out waiting for stellad's answer on " + path;
        return Attempt::done;
      }
    } else {
      result.error = "reading from " + path + ": " + std::strerror(errno);
      return errno == ECONNRESET && response.empty() ? Attempt::retry : Attempt::done;
    }
  }
  if (!response.empty() && response.back() == '\n') response.pop_back();
  result.raw = response;
  try {
    result.response = protocol::decode_response(response);
    result.error.clear();
  } catch (const protocol::ProtocolError& e) {
    result.error = std::string("bad response from ") + path + ": " + e.what();
  }
  return Attempt::done;
}

}  // namespace

QueryResult query(const std::filesystem::path& socket, protocol::Command command, std::chrono::milliseconds timeout) {
  QueryResult result;
  const auto deadline = Clock::now() + timeout;
  const std::string path = socket.string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    result.error = "socket path too long: " + path;
    return result;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const std::string request = protocol::format_request(command);
  // Attempts that may be repeated are, backing off from 1 ms to 50 ms, until the deadline.
  auto backoff = std::chrono::milliseconds(1);
  for (int attempts = 1;; ++attempts) {
    if (attempt(addr, path, request, deadline, result) == Attempt::done) return result;
    if (Clock::now() + backoff >= deadline) {
      result.error += " (" + std::to_string(attempts) + " attempts in " + std::to_string(timeout.count()) + " ms)";
      return result;
    }
    std::this_thread::sleep_for(backoff);  // a retry's backoff, not a wait for an event
    backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace stella::daemon
