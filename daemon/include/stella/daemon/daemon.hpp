// Daemon: stellad's `run` command as an object. It ties the parts together in order —
// config, open-file limit, instance lock, pid file, segments (SegmentManager), status socket
// (HealthServer), signals, reaper thread (Reaper), bridges, readiness (Notifier) — and takes
// them down in reverse, on every path: a start that fails part-way removes the segments it
// created during that run (never adopted ones), its pid file and its socket, then throws
// StartupError.
//
// Threads: the caller's thread runs the io_context (status socket, SIGTERM/SIGINT/SIGHUP,
// reloads); the reaper has a thread of its own. They share only the SegmentManager, which
// locks.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "stella/config/config.hpp"
#include "stella/daemon/protocol.hpp"

namespace stella::daemon {

struct DaemonOptions {
  std::filesystem::path config_path;
  std::optional<std::filesystem::path> socket;  // --socket: overrides daemon.socket
  std::optional<config::LogLevel> log_level;    // --log-level: overrides daemon.log_level
  /// Called on the daemon's thread once every segment exists and status is served (where
  /// systemd gets READY=1); the Windows service reports SERVICE_RUNNING from it.
  std::function<void()> on_ready;
};

/// A failure before the daemon is serving: main prints it and exits 1.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Configures spdlog's default logger (stderr) at `level`.
void setup_logging(config::LogLevel level);

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Runs until SIGTERM or SIGINT (Windows: a console control or a stop request) or
  /// request_stop(); returns the exit status. Throws StartupError.
  int run();
  /// Stops a running daemon as SIGTERM would; callable from any thread (the Windows
  /// service's control handler). Before run() serves, it stops as soon as it does.
  void request_stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Builds the status report: the daemon's figures, each segment's, and the verdict
/// (degraded: a segment refused or missing, a reader evicted or lagging past its warning, a
/// recovery within health_window, a reaper that stopped running, or a reload that failed
/// and has not been followed by one that succeeded).
[[nodiscard]] protocol::StatusReport assess(protocol::DaemonReport daemon,
                                            std::vector<protocol::SegmentReport> segments,
                                            const config::DaemonConfig& config,
                                            std::chrono::system_clock::time_point now);

}  // namespace stella::daemon
