#include "stella/daemon/daemon.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <asio.hpp>
#include <csignal>
#include <fstream>

#include "stella/daemon/bridge.hpp"
#include "stella/daemon/health_server.hpp"
#include "stella/daemon/instance_lock.hpp"
#include "stella/daemon/notifier.hpp"
#include "stella/daemon/reaper.hpp"
#include "stella/daemon/segment_manager.hpp"
#include "platform/signals.hpp"
#include "stella/version.hpp"

namespace stella::daemon {

using Clock = std::chrono::steady_clock;

void setup_logging(config::LogLevel level) {
  auto logger = spdlog::get("stellad");
  if (!logger) {
    logger = spdlog::stderr_color_mt("stellad");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e stellad[%P] %^%l%$: %v");
    spdlog::set_default_logger(logger);
  }
  static constexpr spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                         spdlog::level::info,  spdlog::level::warn,
                                                         spdlog::level::err,   spdlog::level::critical,
                                                         spdlog::level::off};
  logger->set_level(levels[static_cast<int>(level)]);
  logger->flush_on(spdlog::level::trace);  // stderr under systemd: every line at once
}

namespace {

std::string size_text(std::uint64_t b) { return config::format_size(b); }

std::string ago(std::chrono::nanoseconds d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms < 10000 ? std::to_string(ms) + " ms ago" : std::to_string(ms / 1000) + " s ago";
}

}  // namespace

protocol::StatusReport assess(protocol::DaemonReport daemon, std::vector<protocol::SegmentReport> segments,
                              const config::DaemonConfig& config, std::chrono::system_clock::time_point now) {
  protocol::StatusReport r;
  r.daemon = std::move(daemon);
  r.segments = std::move(segments);
  const auto now_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  const auto window = static_cast<std::uint64_t>(config.health_window.count());
  for (const protocol::SegmentReport& s : r.segments) {
    const std::string seg = "segment '" + s.name + "': ";
    if (s.state == "refused") r.problems.push_back(seg + "refused: " + s.detail);
    for (const protocol::ReaderReport& x : s.readers) {
      if (x.evicted) r.problems.push_back(seg + "reader pid " + std::to_string(x.pid) + " was evicted (stalled)");
      if (x.lagging) {
        r.problems.push_back(seg + "reader pid " + std::to_string(x.pid) + " lags " + size_text(x.lag_bytes) +
                             " (warning at " + size_text(s.lag_warning_bytes) + ")");
      }
    }
    if (s.last_recovery_unix_ns != 0 && now_ns >= s.last_recovery_unix_ns && now_ns - s.last_recovery_unix_ns <= window) {
      r.problems.push_back(seg + "recovered from a crashed process " +
                           ago(std::chrono::nanoseconds(now_ns - s.last_recovery_unix_ns)) + " (repaired " +
                           std::to_string(s.counters.records_repaired) + ", turns " +
                           std::to_string(s.counters.turns_recovered) + ", reaped " +
                           std::to_string(s.counters.reaps()) + ", evicted " +
                           std::to_string(s.counters.readers_evicted) + " in all)");
    }
  }
  // A reaper that has not run for many intervals is as bad as a crash nobody repairs.
  const auto stale = std::max<std::uint64_t>(10 * r.daemon.reap_interval_ns, 2'000'000'000ULL);
  if (r.daemon.last_reap_age_ns > stale) {
    r.problems.push_back("the reaper has not run for " + std::to_string(r.daemon.last_reap_age_ns / 1'000'000) + " ms");
  }
  r.health = r.problems.empty() ? protocol::Health::healthy : protocol::Health::degraded;
  return r;
}

struct Daemon::Impl {
  DaemonOptions options;
  config::Config config;
  asio::io_context io;
  std::unique_ptr<InstanceLock> lock;
  SegmentManager manager;
  Notifier notifier;
  std::unique_ptr<Reaper> reaper;
  std::unique_ptr<HealthServer> server;
  BridgeManager bridges;  // [[bridge]] tables: threads of their own (bridge.hpp)
  sys::SignalWatcher signals{io};  // SIGINT, SIGTERM, SIGHUP (platform/signals.hpp)
  Clock::time_point started = Clock::now();
  std::uint64_t reloads = 0;
  bool pid_file_written = false;

  explicit Impl(DaemonOptions o) : options(std::move(o)) {}

  config::Config load() {
    config::CheckResult checked = config::check_path(options.config_path);
    if (!checked.ok()) {
      std::string text = options.config_path.string() + " is not a valid config (" +
                         std::to_string(checked.problems.size()) + " problem(s)):";
      for (const config::Problem& p : checked.problems) text += "\n  " + p.to_string();
      throw StartupError(text);
    }
    config::Config c = std::move(*checked.config);
    if (options.socket) c.daemon.socket = *options.socket;  // lock_file follows, unless set explicitly
    return c;
  }

  ReaperSettings reaper_settings() const {
    return {config.daemon.reap_interval, config.daemon.recovery_timeout, config.daemon.stall_eviction};
  }

  std::string status_line() {
    std::size_t refused = 0;
    const auto segments = manager.report(config.daemon);
    for (const auto& s : segments) refused += s.state == "refused" ? 1 : 0;
    std::string line = std::to_string(segments.size()) + " segment(s)";
    if (refused > 0) line += ", " + std::to_string(refused) + " refused";
    return line + "; status on " + config.daemon.socket.string();
  }

  protocol::StatusReport status() {
    protocol::DaemonReport d;
    d.version = std::string(stella::version());
    d.pid = static_cast<std::uint64_t>(::getpid());
    d.uptime_ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count());
    d.config = options.config_path.string();
    d.socket = config.daemon.socket.string();
    d.reap_interval_ns = static_cast<std::uint64_t>(config.daemon.reap_interval.count());
    d.reap_passes = reaper->passes();
    const auto last = reaper->last_pass();
    d.last_reap_age_ns = last == Clock::time_point{} ? d.uptime_ns
                                                     : static_cast<std::uint64_t>(std::max<std::int64_t>(
                                                           0, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                                  Clock::now() - last).count()));
    d.reloads = reloads;
    protocol::StatusReport r =
        assess(std::move(d), manager.report(config.daemon), config.daemon, std::chrono::system_clock::now());
    add_bridge_reports(r, bridges.report());
    return r;
  }

  std::string answer(const protocol::Request& request) {
    switch (request.command) {
      case protocol::Command::ping: return protocol::encode_pong(request.version);
      case protocol::Command::version: return protocol::encode_version(stella::version(), request.version);
      case protocol::Command::status: return protocol::encode_status(status(), request.version);
    }
    return protocol::encode_error({protocol::ErrorCode::internal, "unhandled command"}, request.version);
  }

  void reload() {
    spdlog::info("reload: SIGHUP, reading {}", options.config_path.string());
    notifier.reloading("reloading " + options.config_path.string());
    config::Config next;
    try {
      next = load();
    } catch (const StartupError& e) {
      spdlog::error("reload refused, the running config is kept: {}", e.what());
      notifier.ready(status_line());
      return;
    }
    // What cannot change without a restart keeps its running value.
    config::DaemonConfig& d = next.daemon;
    const config::DaemonConfig& old = config.daemon;
    if (d.socket != old.socket || d.effective_lock_file() != old.effective_lock_file() || d.pid_file != old.pid_file) {
      spdlog::warn("reload: a new socket, lock_file or pid_file takes effect only after a restart; keeping {}",
                   old.socket.string());
      d.socket = old.socket;
      d.lock_file = old.lock_file;
      d.pid_file = old.pid_file;
    }
    if (d.segment_dir != old.segment_dir) {
      spdlog::warn("reload: a new segment_dir takes effect only after a restart; keeping the old one");
      d.segment_dir = old.segment_dir;
    }
    if (d.segment_dir) {
      try {
        prepare_segment_directory(next);  // new segments' groups may need to reach it
      } catch (const std::exception& e) {
        spdlog::error("reload: segment_dir: {}", e.what());
      }
    }
    if (d.socket_mode != old.socket_mode) {
      try {
        server->set_mode(d.socket_mode);
        spdlog::info("reload: socket mode {} -> {}", config::format_mode(old.socket_mode), config::format_mode(d.socket_mode));
      } catch (const std::exception& e) {
        spdlog::error("reload: {}", e.what());
        d.socket_mode = old.socket_mode;
      }
    }
    if (!options.log_level) setup_logging(d.log_level);
    config.daemon = d;
    config.segments = next.segments;
    reaper->set_settings(reaper_settings());
    server->set_client_timeout(d.client_timeout);
    // Bridges that went (or changed) stop before their segment may go; new ones start after.
    std::vector<config::BridgeConfig> kept;
    for (const config::BridgeConfig& b : config.bridges) {
      if (std::find(next.bridges.begin(), next.bridges.end(), b) != next.bridges.end()) kept.push_back(b);
    }
    bridges.apply(kept);
    const ReloadSummary s = manager.reload(next.segments);
    config.bridges = next.bridges;
    bridges.apply(config.bridges);
    ++reloads;
    spdlog::info("reload: done: {} added, {} removed, {} updated, {} refused", s.added.size(), s.removed.size(),
                 s.updated.size(), s.refused.size());
    notifier.ready(status_line());
  }

  void wait_for_signal() {
    signals.async_wait([this](sys::Signal signal) {
      if (signal == sys::Signal::reload) {
        try {
          reload();
        } catch (const std::exception& e) {
          spdlog::error("reload failed: {}", e.what());
        }
        wait_for_signal();
        return;
      }
      spdlog::info("{}: stopping", sys::signal_name(signal));
      notifier.stopping("stopping");
      io.stop();
    });
  }

  // The segment directory's mode and its ACL: every group a segment names may reach it
  // and create liveness tokens in it (docs/robustness.md, "Names cannot be squatted").
  static void prepare_segment_directory(const config::Config& c) {
    platform::DirectoryPermissions dp;
    dp.mode = c.daemon.segment_dir_mode;
    dp.allow_world_writable = true;  // config::check refused it unless allow_world_writable says so
    for (const config::SegmentConfig& s : c.segments) {
      for (const auto& g : {s.group, s.reader_group, s.writer_group}) {
        if (g) dp.member_gids.push_back(g->id);
      }
    }
    platform::prepare_segment_directory(c.daemon.segment_dir->string(), dp);
  }

  void write_pid_file() {
    if (!config.daemon.pid_file) return;
    std::ofstream out(*config.daemon.pid_file, std::ios::trunc);
    out << ::getpid() << "\n";
    if (!out) throw StartupError("cannot write the pid file " + config.daemon.pid_file->string());
    pid_file_written = true;
  }

  int run() {
    setup_logging(options.log_level.value_or(config::LogLevel::info));
    config = load();
    setup_logging(options.log_level.value_or(config.daemon.log_level));
    const config::DaemonConfig& d = config.daemon;

    std::error_code ec;
    if (d.socket.has_parent_path()) std::filesystem::create_directories(d.socket.parent_path(), ec);
    try {
      lock = std::make_unique<InstanceLock>(d.effective_lock_file());
    } catch (const std::exception& e) {
      throw StartupError(e.what());
    }
    write_pid_file();
    if (d.segment_dir) {
      try {
        prepare_segment_directory(config);
        platform::set_segment_directory(d.segment_dir->string());
      } catch (const std::exception& e) {
        throw StartupError(std::string("segment_dir: ") + e.what());
      }
      spdlog::info("segments live in {} (clients: STELLA_SEGMENT_DIR={})", d.segment_dir->string(),
                   d.segment_dir->string());
    }

    for (const config::SegmentConfig& s : config.segments) {
      try {
        (void)manager.ensure(s);
      } catch (const std::exception& e) {
        throw StartupError(std::string("cannot create or open segment '") + s.name + "': " + e.what());
      }
    }

    server = std::make_unique<HealthServer>(io, d.socket, d.socket_mode, d.client_timeout,
                                            [this](const protocol::Request& r) { return answer(r); });
    try {
      server->start();
    } catch (const std::exception& e) {
      throw StartupError(e.what());
    }
    wait_for_signal();
    reaper = std::make_unique<Reaper>(manager, reaper_settings(), [this] { notifier.watchdog(); });
    reaper->start();

    bridges.apply(config.bridges);
    spdlog::info("stellad {} ready: {}", stella::version(), status_line());
    notifier.ready(status_line());
    if (options.on_ready) options.on_ready();
    io.run();

    // Down in reverse order.
    bridges.stop_all();
    shutdown_bridges();
    reaper->stop();
    server->stop();
    if (config.daemon.remove_on_exit) manager.remove_all();
    if (pid_file_written) std::filesystem::remove(*config.daemon.pid_file, ec);
    spdlog::info("stopped{}", config.daemon.remove_on_exit ? " (segments removed: remove_on_exit)" : "; the segments stay");
    return 0;
  }
};

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(impl_->options.config_path, ec);
  if (!ec) impl_->options.config_path = absolute;  // reloads and status name the same file
}
Daemon::~Daemon() = default;
int Daemon::run() { return impl_->run(); }
void Daemon::request_stop() {
  asio::post(impl_->io, [impl = impl_.get()] {
    spdlog::info("stop requested: stopping");
    impl->notifier.stopping("stopping");
    impl->io.stop();
  });
}

}  // namespace stella::daemon
