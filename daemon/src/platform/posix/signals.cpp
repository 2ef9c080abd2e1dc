#include "platform/signals.hpp"

#include <asio.hpp>
#include <csignal>

namespace stella::daemon::sys {

const char* signal_name(Signal signal) noexcept {
  switch (signal) {
    case Signal::interrupt: return "SIGINT";
    case Signal::terminate: return "SIGTERM";
    case Signal::reload: return "SIGHUP";
  }
  return "signal";
}

struct SignalWatcher::Impl {
  asio::signal_set signals;
  explicit Impl(asio::io_context& io) : signals(io, SIGINT, SIGTERM, SIGHUP) {}
};

SignalWatcher::SignalWatcher(asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
SignalWatcher::~SignalWatcher() = default;

void SignalWatcher::async_wait(std::function<void(Signal)> handler) {
  impl_->signals.async_wait([h = std::move(handler)](const std::error_code& ec, int signal) {
    if (ec) return;  // cancelled: the daemon is going away
    h(signal == SIGHUP ? Signal::reload : signal == SIGTERM ? Signal::terminate : Signal::interrupt);
  });
}

}  // namespace stella::daemon::sys
