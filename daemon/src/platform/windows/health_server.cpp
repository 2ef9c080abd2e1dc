// Windows transport of the health endpoint: the named pipe of pipe_name.hpp, served with
// Asio on the caller's io_context. One pipe instance at a time waits for a client
// (ConnectNamedPipe, overlapped, completed through Asio's IOCP); when a client connects,
// the instance becomes a Session (health_session.hpp) over a windows::stream_handle, and
// a new instance waits for the next. The first instance is created with
// FILE_FLAG_FIRST_PIPE_INSTANCE, so a pipe some other process already serves is an error,
// never shared. The pipe gets the default security descriptor (the creator, SYSTEM and
// Administrators) and rejects remote clients; daemon.socket_mode has no meaning here.
// Asio first: it includes winsock2.h, which must come before windows.h.
#include <asio.hpp>
// (windows.h after)
#include <windows.h>

#include <system_error>

#include "health_session.hpp"
#include "pipe_name.hpp"
#include "platform/limits.hpp"
#include "stella/daemon/health_server.hpp"

namespace stella::daemon {

using Session = detail::Session<asio::windows::stream_handle>;
using detail::Shared;

namespace {

constexpr DWORD kPipeBuffer = 64 * 1024;

std::string win_error(DWORD code) { return std::system_category().message(static_cast<int>(code)); }

}  // namespace

struct HealthServer::Impl {
  asio::io_context& io;
  std::filesystem::path path;
  std::wstring pipe;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // false once stopped
  std::unique_ptr<asio::windows::stream_handle> waiting;       // the instance awaiting a client
  bool started = false;

  Impl(asio::io_context& context, std::filesystem::path p)
      : io(context), path(std::move(p)), pipe(sys::pipe_name(path)) {}

  // A new pipe instance; INVALID_HANDLE_VALUE with `error` set when it cannot be made.
  HANDLE create_instance(bool first, DWORD& error) const {
    const HANDLE h = ::CreateNamedPipeW(
        pipe.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES,
        kPipeBuffer, kPipeBuffer, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) error = ::GetLastError();
    return h;
  }

  void accept(HANDLE instance) {
    waiting = std::make_unique<asio::windows::stream_handle>(io, instance);
    asio::windows::overlapped_ptr op(io, [this, alive = alive](const std::error_code& ec, std::size_t) {
      if (!*alive) return;
      on_connect(ec);
    });
    const BOOL ok = ::ConnectNamedPipe(instance, op.get());
    const DWORD err = ::GetLastError();
    if (!ok && err == ERROR_PIPE_CONNECTED) {
      op.complete(std::error_code(), 0);  // the client came before the call: no packet queued
    } else if (!ok && err != ERROR_IO_PENDING) {
      op.complete(std::error_code(static_cast<int>(err), asio::error::get_system_category()), 0);
    } else {
      op.release();  // the completion arrives through the io_context
    }
  }

  void on_connect(const std::error_code& ec) {
    std::unique_ptr<asio::windows::stream_handle> connected = std::move(waiting);
    if (ec == asio::error::operation_aborted || !started) return;
    if (ec) {
      shared->accept_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("status pipe: accept failed: {}", ec.message());
    } else {
      shared->make_room();  // full: the oldest idle connection goes, not this one
      std::make_shared<Session>(std::move(*connected), shared)->start();
    }
    DWORD error = 0;
    const HANDLE next = create_instance(false, error);
    if (next == INVALID_HANDLE_VALUE) {
      spdlog::error("status pipe: cannot create the next instance of {}: {}; status is no longer served",
                    sys::pipe_name_utf8(path), win_error(error));
      return;
    }
    accept(next);
  }
};

HealthServer::HealthServer(asio::io_context& io, std::filesystem::path socket, std::uint32_t mode,
                           std::chrono::nanoseconds client_timeout, Handler handler)
    : impl_(std::make_unique<Impl>(io, std::move(socket))) {
  impl_->shared->handler = std::move(handler);
  set_client_timeout(client_timeout);
  set_mode(mode);
}

HealthServer::~HealthServer() { stop(); }

void HealthServer::start() {
  DWORD error = 0;
  const HANDLE first = impl_->create_instance(true, error);
  if (first == INVALID_HANDLE_VALUE) {
    const std::string name = sys::pipe_name_utf8(impl_->path);
    if (error == ERROR_ACCESS_DENIED || error == ERROR_PIPE_BUSY) {
      throw std::runtime_error("cannot serve the status pipe " + name +
                               ": another process already serves it (another stellad with the same socket "
                               "file name?)");
    }
    throw std::runtime_error("cannot serve the status pipe " + name + ": " + win_error(error));
  }
  impl_->started = true;
  impl_->shared->cap.store(connection_cap(sys::open_file_limit()), std::memory_order_relaxed);
  spdlog::info("status on the named pipe {} (default security; daemon.socket_mode applies on POSIX only)",
               sys::pipe_name_utf8(impl_->path));
  impl_->accept(first);
}

void HealthServer::set_mode(std::uint32_t) {
  // POSIX file modes do not apply to a named pipe (default security: creator, SYSTEM,
  // Administrators); said once in the log at start, not per reload.
}

void HealthServer::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  *impl_->alive = false;
  std::error_code ignored;
  if (impl_->waiting) impl_->waiting->close(ignored);
  impl_->shared->close_all();
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
