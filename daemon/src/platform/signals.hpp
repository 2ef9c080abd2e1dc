// What stops or reloads stellad from outside, as one seam over the platforms:
//   POSIX    SIGINT, SIGTERM (stop) and SIGHUP (reload), through asio::signal_set;
//   Windows  a console control (Ctrl-C, Ctrl-Break, window close, logoff, shutdown) through
//            SetConsoleCtrlHandler, and a stop request (`stellad stop`: the named event
//            Local\stellad-stop!<pid>). No reload: Windows has no SIGHUP (docs/windows.md).
// Handlers run on the io_context's thread.
#pragma once

#include <functional>
#include <memory>

namespace asio {
class io_context;
}

namespace stella::daemon::sys {

enum class Signal { interrupt, terminate, reload };

/// How the log names it: "SIGINT", "SIGTERM", "SIGHUP" on POSIX.
[[nodiscard]] const char* signal_name(Signal signal) noexcept;

class SignalWatcher {
 public:
  /// Starts catching at once: a signal that arrives before async_wait is kept for it.
  explicit SignalWatcher(asio::io_context& io);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  /// Calls `handler` once, for the next signal.
  void async_wait(std::function<void(Signal)> handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stella::daemon::sys
