// Windows: console controls through SetConsoleCtrlHandler, and a stop request through the
// named event Local\stellad-stop!<pid> (set by `stellad stop`, stop_event_name()).
// No reload: Windows has no SIGHUP; restart stellad (or the service) for a new config.
//
// The console handler runs on a thread of its own: it posts the signal to the io_context.
// For a window close, logoff or shutdown, Windows ends the process as soon as the handler
// returns, so the handler waits (up to 10 s) for the daemon to finish stopping.
// Asio first: it includes winsock2.h, which must come before windows.h.
#include <asio.hpp>
// (windows.h after)
#include <windows.h>

#include <mutex>
#include <optional>
#include <string>

#include "platform/signals.hpp"
#include "stop_event.hpp"

namespace stella::daemon::sys {

const char* signal_name(Signal signal) noexcept {
  switch (signal) {
    case Signal::interrupt: return "console control (Ctrl-C)";
    case Signal::terminate: return "stop request";
    case Signal::reload: return "reload request";
  }
  return "signal";
}

struct SignalWatcher::Impl {
  asio::io_context& io;
  asio::windows::object_handle stop_event;
  std::function<void(Signal)> handler;
  std::optional<Signal> pending;

  Impl(asio::io_context& context, HANDLE event) : io(context), stop_event(context, event) {}

  void deliver(Signal s) {
    if (handler) {
      auto h = std::move(handler);
      handler = nullptr;
      h(s);
    } else if (!pending) {
      pending = s;
    }
  }

  void wait_for_stop_event() {
    stop_event.async_wait([this](const std::error_code& ec) {
      if (ec) return;  // closed: the watcher is going away
      ::ResetEvent(stop_event.native_handle());
      deliver(Signal::terminate);
      wait_for_stop_event();
    });
  }
};

namespace {

// The one watcher that console controls go to, and whether it has gone (the daemon has
// stopped), for the handler that waits for that.
std::mutex g_mutex;
std::function<void(Signal)> g_post;  // posts a signal to the active watcher's io_context
const void* g_active = nullptr;
HANDLE g_finished = nullptr;

BOOL WINAPI on_console_control(DWORD type) {
  HANDLE finished = nullptr;
  {
    std::lock_guard lock(g_mutex);
    if (g_active == nullptr) return FALSE;  // the default: end the process
    g_post(type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT ? Signal::interrupt : Signal::terminate);
    finished = g_finished;
  }
  if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT) {
    ::WaitForSingleObject(finished, 10000);
  }
  return TRUE;
}

}  // namespace

SignalWatcher::SignalWatcher(asio::io_context& io) {
  const std::wstring name = stop_event_name(::GetCurrentProcessId());
  HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, name.c_str());
  if (event == nullptr) event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);  // no stop requests then
  impl_ = std::make_unique<Impl>(io, event);
  impl_->wait_for_stop_event();
  std::lock_guard lock(g_mutex);
  if (g_finished == nullptr) g_finished = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  ::ResetEvent(g_finished);
  g_active = impl_.get();
  g_post = [impl = impl_.get()](Signal s) { asio::post(impl->io, [impl, s] { impl->deliver(s); }); };
  ::SetConsoleCtrlHandler(on_console_control, TRUE);
}

SignalWatcher::~SignalWatcher() {
  {
    std::lock_guard lock(g_mutex);
    if (g_active == impl_.get()) {
      g_active = nullptr;
      g_post = nullptr;
    }
    ::SetEvent(g_finished);
  }
  std::error_code ignored;
  impl_->stop_event.close(ignored);
}

void SignalWatcher::async_wait(std::function<void(Signal)> handler) {
  if (impl_->pending) {
    const Signal s = *impl_->pending;
    impl_->pending.reset();
    asio::post(impl_->io, [h = std::move(handler), s] { h(s); });
    return;
  }
  impl_->handler = std::move(handler);
}

}  // namespace stella::daemon::sys
