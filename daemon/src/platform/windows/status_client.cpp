// Windows client of the health endpoint: the named pipe of pipe_name.hpp, opened for
// overlapped I/O so that every step waits against one deadline for the whole exchange.
#include <windows.h>

#include <string>
#include <system_error>

#include "pipe_name.hpp"
#include "stella/daemon/status_client.hpp"

namespace stella::daemon {

namespace {

using Clock = std::chrono::steady_clock;

std::string win_error(DWORD code) { return std::system_category().message(static_cast<int>(code)); }

DWORD remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<DWORD>(left);
}

class Handle {
 public:
  explicit Handle(HANDLE h) : h_(h) {}
  ~Handle() {
    if (h_ != nullptr && h_ != INVALID_HANDLE_VALUE) ::CloseHandle(h_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  [[nodiscard]] HANDLE get() const noexcept { return h_; }
  [[nodiscard]] bool valid() const noexcept { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }

 private:
  HANDLE h_;
};

enum class Io { done, eof, timeout, failed };

// One overlapped ReadFile/WriteFile, waited for until the deadline (then cancelled).
Io overlapped_io(HANDLE pipe, HANDLE event, bool write, void* data, DWORD size, DWORD& moved, DWORD& error,
                 Clock::time_point deadline) {
  OVERLAPPED ov{};
  ov.hEvent = event;
  ::ResetEvent(event);
  const BOOL ok = write ? ::WriteFile(pipe, data, size, nullptr, &ov) : ::ReadFile(pipe, data, size, nullptr, &ov);
  if (!ok) {
    error = ::GetLastError();
    if (error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED) return Io::eof;
    if (error != ERROR_IO_PENDING) return Io::failed;
    if (::WaitForSingleObject(event, remaining_ms(deadline)) != WAIT_OBJECT_0) {
      ::CancelIoEx(pipe, &ov);
      ::GetOverlappedResult(pipe, &ov, &moved, TRUE);  // the buffer is ours again after this
      return Io::timeout;
    }
  }
  if (!::GetOverlappedResult(pipe, &ov, &moved, TRUE)) {
    error = ::GetLastError();
    return error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED ? Io::eof : Io::failed;
  }
  return Io::done;
}

}  // namespace

QueryResult query(const std::filesystem::path& socket, protocol::Command command, std::chrono::milliseconds timeout) {
  QueryResult result;
  const auto deadline = Clock::now() + timeout;
  const std::wstring name = sys::pipe_name(socket);
  const std::string path = sys::pipe_name_utf8(socket);

  HANDLE raw = INVALID_HANDLE_VALUE;
  for (;;) {
    raw = ::CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
    if (raw != INVALID_HANDLE_VALUE) break;
    const DWORD err = ::GetLastError();
    if (err != ERROR_PIPE_BUSY) {
      result.error = "cannot connect to " + path + ": " + win_error(err) + " (is stellad running?)";
      return result;
    }
    // Every instance is taken: wait for one (the server creates the next at each accept).
    const DWORD left = remaining_ms(deadline);
    if (left == 0) {
      result.error = "timed out connecting to " + path;
      return result;
    }
    (void)::WaitNamedPipeW(name.c_str(), left);  // then try again, whatever it says
  }
  Handle pipe(raw);
  Handle event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!event.valid()) {
    result.error = "CreateEvent: " + win_error(::GetLastError());
    return result;
  }

  std::string request = protocol::format_request(command);
  std::size_t sent = 0;
  while (sent < request.size()) {
    DWORD moved = 0, err = 0;
    switch (overlapped_io(pipe.get(), event.get(), true, request.data() + sent,
                          static_cast<DWORD>(request.size() - sent), moved, err, deadline)) {
      case Io::done: sent += moved; break;
      case Io::timeout: result.error = "timed out sending to " + path; return result;
      case Io::eof:
      case Io::failed: result.error = "sending to " + path + ": " + win_error(err); return result;
    }
  }
  std::string response;
  char buf[65536];
  for (;;) {
    DWORD moved = 0, err = 0;
    const Io r = overlapped_io(pipe.get(), event.get(), false, buf, sizeof buf, moved, err, deadline);
    if (r == Io::eof) break;
    if (r == Io::timeout) {
      result.error = "timed out waiting for stellad's answer on " + path;
      return result;
    }
    if (r == Io::failed) {
      result.error = "reading from " + path + ": " + win_error(err);
      return result;
    }
    response.append(buf, moved);
    if (response.size() > protocol::kMaxResponseBytes) {
      result.error = "response from " + path + " exceeds " + std::to_string(protocol::kMaxResponseBytes) + " bytes";
      return result;
    }
  }
  if (!response.empty() && response.back() == '\n') response.pop_back();
  result.raw = response;
  try {
    result.response = protocol::decode_response(response);
  } catch (const protocol::ProtocolError& e) {
    result.error = std::string("bad response from ") + path + ": " + e.what();
  }
  return result;
}

}  // namespace stella::daemon
