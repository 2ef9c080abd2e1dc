// POSIX transport of the health endpoint: a Unix-domain stream socket (Asio), with the
// configured file mode. Sessions, the connection cap and dropping the oldest idle
// connection: health_session.hpp. Running out of descriptors: lower_cap() below.
#include "stella/daemon/health_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <asio.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <algorithm>
#include <system_error>

#include "health_session.hpp"
#include "platform/limits.hpp"

namespace stella::daemon {

using stream = asio::local::stream_protocol;
using Session = detail::Session<stream::socket>;
using detail::Shared;

namespace {

// The errno of an accept error (Asio reports them in its own system category, which does
// not compare equal to std::errc), or 0 for an error of another category.
int errno_of(const std::error_code& ec) {
  return ec.category() == asio::error::get_system_category() || ec.category() == std::system_category() ||
                 ec.category() == std::generic_category()
             ? ec.value()
             : 0;
}

// Accept errors that mean the process (or the system) has no descriptor or memory for the
// connection waiting in the backlog: retrying at once would fail again at once.
bool out_of_resources(const std::error_code& ec) {
  const int e = errno_of(ec);
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

// Accept errors about one connection only (it went away while queued): accept the next.
bool connection_gone(const std::error_code& ec) {
  const int e = errno_of(ec);
  return e == ECONNABORTED || e == EINTR || e == EAGAIN || e == EWOULDBLOCK || e == EPROTO;
}

}  // namespace

struct HealthServer::Impl {
  asio::io_context& io;
  std::filesystem::path path;
  std::uint32_t mode;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  stream::acceptor acceptor{io};
  asio::steady_timer pause{io};  // accepting paused after running out of descriptors
  detail::BurstLog accept_errors;
  bool failing = false;  // the last accept failed
  std::chrono::steady_clock::time_point last_shortage{};  // of descriptors (epoch: none since the cap was set)
  bool started = false;

  Impl(asio::io_context& context, std::filesystem::path p, std::uint32_t m) : io(context), path(std::move(p)), mode(m) {}

  void accept() {
    acceptor.async_accept([this](const std::error_code& ec, stream::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      const auto now = std::chrono::steady_clock::now();
      if (!ec) {
        if (failing) {
          failing = false;
          spdlog::info("status socket: accepting again ({} failed accepts in that burst)", accept_errors.count());
        }
        restore_cap(now);
        shared->make_room();  // full: the oldest idle connection goes, not this one
        std::make_shared<Session>(std::move(socket), shared)->start();
        accept();
        return;
      }
      failing = true;
      shared->accept_failures.fetch_add(1, std::memory_order_relaxed);
      const bool shortage = out_of_resources(ec);
      if (shortage) lower_cap(now);
      if (const std::uint64_t previous = accept_errors.note(now); previous != 0) {
        spdlog::warn("status socket: accept failed: {}{}; {} connections open, cap {}{}{}", ec.message(),
                     shortage ? " (out of file descriptors): pausing accepts for " +
                                    std::to_string(kAcceptPause.count()) + " ms at each failure"
                              : "",
                     shared->connected(), shared->cap.load(std::memory_order_relaxed),
                     shortage ? " (lowered until accepting has not failed for " +
                                    std::to_string(kCapRecovery.count()) + " s)"
                              : "",
                     previous > 1 ? "; " + std::to_string(previous) + " failures in the previous burst" : "");
      }
      if (connection_gone(ec)) {
        accept();
        return;
      }
      // Out of descriptors, or an error we do not know: never retry in a tight loop.
      pause.expires_after(kAcceptPause);
      pause.async_wait([this](const std::error_code& wait_ec) {
        if (wait_ec || !started) return;
        accept();
      });
    });
  }

  // Out of descriptors with `held` connections open: the cap was too high for what else
  // the process holds (or the limit was lowered under it). Lower it to what the limit now
  // allows and below `held`, and drop the oldest connections down to it, so that the
  // connection waiting in the backlog (and the next ones) find a descriptor.
  void lower_cap(std::chrono::steady_clock::time_point now) {
    last_shortage = now;
    const std::size_t held = shared->connected();
    const std::size_t margin = std::max<std::size_t>(8, held / 8);
    const std::size_t lowered = std::max(
        kMinConnections, std::min(held > margin ? held - margin : 0, connection_cap(sys::open_file_limit())));
    if (lowered < shared->cap.load(std::memory_order_relaxed)) shared->cap.store(lowered, std::memory_order_relaxed);
    shared->make_room();
  }

  // After kCapRecovery without a shortage: the cap the open-file limit allows now.
  void restore_cap(std::chrono::steady_clock::time_point now) {
    if (last_shortage == std::chrono::steady_clock::time_point{} || now - last_shortage < kCapRecovery) return;
    last_shortage = {};
    const std::size_t cap = connection_cap(sys::open_file_limit());
    shared->cap.store(cap, std::memory_order_relaxed);
    spdlog::info("status socket: no accept failed for {} s: the connection cap is {} again", kCapRecovery.count(), cap);
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
  impl_->shared->cap.store(connection_cap(sys::open_file_limit()), std::memory_order_relaxed);
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
  impl_->pause.cancel();
  impl_->shared->close_all();
  ::unlink(impl_->path.c_str());
}

void HealthServer::set_client_timeout(std::chrono::nanoseconds timeout) {
  impl_->shared->timeout_ns.store(timeout.count(), std::memory_order_relaxed);
}

std::size_t HealthServer::open_connections() const noexcept { return impl_->shared->open.load(std::memory_order_relaxed); }
std::uint64_t HealthServer::served() const noexcept { return impl_->shared->served.load(std::memory_order_relaxed); }
std::size_t HealthServer::max_connections() const noexcept { return impl_->shared->cap.load(std::memory_order_relaxed); }
std::uint64_t HealthServer::dropped() const noexcept { return impl_->shared->dropped.load(std::memory_order_relaxed); }
std::uint64_t HealthServer::evicted() const noexcept { return impl_->shared->evicted.load(std::memory_order_relaxed); }
std::uint64_t HealthServer::accept_failures() const noexcept {
  return impl_->shared->accept_failures.load(std::memory_order_relaxed);
}

}  // namespace stella::daemon
