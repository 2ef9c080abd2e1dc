// systemd's readiness protocol (sd_notify): READY=1 once every segment exists, WATCHDOG=1
// from the reaper loop, RELOADING=1 / STOPPING=1 and a STATUS= line. The message is one
// AF_UNIX datagram to $NOTIFY_SOCKET (a path, or an abstract name written "@name"); with
// libsystemd found at build time, sd_notify() sends it, otherwise send_datagram() below.
// Without NOTIFY_SOCKET every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace stella::daemon {

class Notifier {
 public:
  /// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment.
  Notifier();

  [[nodiscard]] bool enabled() const noexcept { return !socket_.empty(); }
  /// The watchdog period systemd asked for (WATCHDOG_USEC), when it is meant for us.
  [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_period() const noexcept { return watchdog_; }

  void ready(std::string_view status);
  void reloading(std::string_view status);
  void stopping(std::string_view status);
  void status(std::string_view status);
  /// WATCHDOG=1, at most every quarter of the watchdog period (called after every reap pass).
  void watchdog();

  /// Sends `message` as one datagram to `socket` ("@name": abstract). False on failure.
  static bool send_datagram(const std::string& socket, std::string_view message);

 private:
  void send(const std::string& message);

  std::string socket_;
  std::optional<std::chrono::microseconds> watchdog_;
  std::chrono::steady_clock::time_point last_watchdog_{};
};

}  // namespace stella::daemon
