// POSIX transport of the health endpoint: a Unix-domain stream socket (Asio), with the
// configured file mode. Sessions: health_session.hpp.
#include "stella/daemon/health_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <asio.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>

#include "health_session.hpp"

namespace stella::daemon {

using stream = asio::local::stream_protocol;
using Session = detail::Session<stream::socket>;
using detail::Shared;

struct HealthServer::Impl {
  asio::io_context& io;
  std::filesystem::path path;
  std::uint32_t mode;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  stream::acceptor acceptor{io};
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool started = false;

  Impl(asio::io_context& context, std::filesystem::path p, std::uint32_t m) : io(context), path(std::move(p)), mode(m) {}

  void accept() {
    acceptor.async_accept([this](const std::error_code& ec, stream::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (shared->open.load(std::memory_order_relaxed) >= kMaxConnections) {
          shared->dropped.fetch_add(1, std::memory_order_relaxed);
          std::error_code ignored;
          socket.close(ignored);  // over the limit: refuse at once rather than queue
        } else {
          auto session = std::make_shared<Session>(std::move(socket), shared);
          // Forget sessions that are gone, so the set stays as small as the open ones.
          for (auto it = sessions.begin(); it != sessions.end();) it = it->expired() ? sessions.erase(it) : std::next(it);
          sessions.insert(session);
          session->start();
        }
      } else {
        spdlog::warn("status socket: accept failed: {}", ec.message());
      }
      accept();
    });
  }
};

HealthServer::HealthServer(asio::io_context& io, std::filesystem::path socket, std::uint32_t mode,
                           std::chrono::nanoseconds client_timeout, Handler handler)
    : impl_(std::make_unique<Impl>(io, std::move(socket), mode)) {
  impl_->shared->handler = std::move(handler);
  set_client_timeout(client_timeout);
}

HealthServer::~HealthServer() { stop(); }

void HealthServer::start() {
  const std::string p = impl_->path.string();
  std::error_code fs_ec;
  if (impl_->path.has_parent_path()) std::filesystem::create_directories(impl_->path.parent_path(), fs_ec);
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error("the socket path " + p + " exists and is not a socket; refusing to replace it");
    }
    // A stale socket of a stellad that died: we hold the instance lock, so nobody serves it.
    ::unlink(p.c_str());
  }
  std::error_code ec;
  impl_->acceptor.open(stream(), ec);
  if (!ec) {
    // Bind with a umask that lets nobody in, then set the configured mode: no window in
    // which the socket is more open than configured.
    const mode_t old_mask = ::umask(0177);
    impl_->acceptor.bind(stream::endpoint(p), ec);
    ::umask(old_mask);
  }
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot serve the status socket " + p + ": " + ec.message());
  impl_->started = true;
  set_mode(impl_->mode);
  impl_->accept();
}

void HealthServer::set_mode(std::uint32_t mode) {
  impl_->mode = mode;
  if (!impl_->started) return;
  if (::chmod(impl_->path.c_str(), static_cast<mode_t>(mode)) != 0) {
    throw std::runtime_error("cannot set the mode of " + impl_->path.string() + ": " + std::strerror(errno));
  }
}

void HealthServer::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  std::error_code ignored;
  impl_->acceptor.close(ignored);
  for (const auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->close();
  }
  impl_->sessions.clear();
  ::unlink(impl_->path.c_str());
}

void HealthServer::set_client_timeout(std::chrono::nanoseconds timeout) {
  impl_->shared->timeout_ns.store(timeout.count(), std::memory_order_relaxed);
}

std::size_t HealthServer::open_connections() const noexcept { return impl_->shared->open.load(std::memory_order_relaxed); }
std::uint64_t HealthServer::served() const noexcept { return impl_->shared->served.load(std::memory_order_relaxed); }
std::uint64_t HealthServer::dropped() const noexcept { return impl_->shared->dropped.load(std::memory_order_relaxed); }

}  // namespace stella::daemon
