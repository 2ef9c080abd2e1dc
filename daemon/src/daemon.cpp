#include "stella/common/platform/barrier.hpp"
#include "stella/common/platform/process.hpp"
#include "stella/daemon/daemon.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio.hpp>
#include <csignal>
#include <ctime>
#include <fstream>

#include "stella/daemon/bridge.hpp"
#include "stella/daemon/health_server.hpp"
#include "stella/daemon/instance_lock.hpp"
#include "stella/daemon/metrics_server.hpp"
#include "stella/daemon/notifier.hpp"
#include "stella/daemon/reaper.hpp"
#include "stella/daemon/segment_manager.hpp"
#include "platform/limits.hpp"
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

// "2026-12-02 06:10:00 UTC" for a time in ns since the Unix epoch.
std::string utc_text(std::uint64_t unix_ns) {
  const std::time_t t = static_cast<std::time_t>(unix_ns / 1'000'000'000ULL);
  char buf[32] = "?";
  // std::gmtime: only ever called on the io thread (status and reload).
  if (const std::tm* tm = std::gmtime(&t)) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", tm);
  return buf;
}

std::uint64_t unix_ns(std::chrono::system_clock::time_point t) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// What run() set up, undone in reverse order on every way out of it: each undo is pushed
// BEFORE the step it undoes (and tolerates that step not having happened), so a step that
// fails half-way is undone too. `failed` tells the undo whether run() is failing.
class Teardown {
 public:
  Teardown() = default;
  Teardown(const Teardown&) = delete;
  Teardown& operator=(const Teardown&) = delete;
  ~Teardown() { run(true); }  // an exception leaves run()

  void push(const char* what, std::function<void(bool failed)> undo) { steps_.push_back({what, std::move(undo)}); }
  void run(bool failed) noexcept {
    while (!steps_.empty()) {
      Step step = std::move(steps_.back());
      steps_.pop_back();
      try {
        step.undo(failed);
      } catch (const std::exception& e) {
        spdlog::error("stopping: undoing the {} failed: {}", step.what, e.what());
      }
    }
  }

 private:
  struct Step {
    const char* what;
    std::function<void(bool)> undo;
  };
  std::vector<Step> steps_;
};

// A multi-line error as one line (a problem line in status).
std::string one_line(std::string text) {
  for (std::size_t i = 0; (i = text.find("\n", i)) != std::string::npos;) {
    std::size_t j = i + 1;
    while (j < text.size() && text[j] == ' ') ++j;
    const bool after_colon = i > 0 && text[i - 1] == ':';  // "problem(s):" then the list
    text.replace(i, j - i, after_colon ? " " : "; ");
  }
  return text;
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
    if (s.state == "missing") r.problems.push_back(seg + "missing: " + s.detail);
    for (const std::string& stall : s.stalls) r.problems.push_back(seg + stall);
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
  // The running config is not the file on disk until a reload succeeds.
  if (r.daemon.reload_failed_unix_ns != 0) {
    const std::string when = now_ns >= r.daemon.reload_failed_unix_ns
                                 ? " (" + ago(std::chrono::nanoseconds(now_ns - r.daemon.reload_failed_unix_ns)) + ")"
                                 : "";
    r.problems.push_back("the last reload, at " + utc_text(r.daemon.reload_failed_unix_ns) + when +
                         ", failed: " + r.daemon.reload_error + "; the running config is not " + r.daemon.config +
                         " until a reload succeeds");
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
  // [daemon] metrics: Prometheus over HTTP (off by default). Serves only while io runs; its
  // destructor closes it (declared after io, so destroyed before it).
  std::unique_ptr<MetricsServer> metrics;
  BridgeManager bridges;  // [[bridge]] tables: threads of their own (bridge.hpp)
  sys::SignalWatcher signals{io};  // SIGINT, SIGTERM, SIGHUP (platform/signals.hpp)
  Clock::time_point started = Clock::now();
  std::uint64_t reloads = 0;
  std::uint64_t reload_failures = 0;
  std::uint64_t reload_failed_unix_ns = 0;  // the failure in effect (0: the last reload succeeded)
  std::string reload_error;
  bool pid_file_written = false;
  bool serving = false;  // run() got as far as READY
  std::vector<std::string> created;  // segments this run created (a failed start removes them)

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
    std::size_t refused = 0, missing = 0;
    const auto segments = manager.report(config.daemon);
    for (const auto& s : segments) {
      refused += s.state == "refused" ? 1 : 0;
      missing += s.state == "missing" ? 1 : 0;
    }
    std::string line = std::to_string(segments.size()) + " segment(s)";
    if (refused > 0) line += ", " + std::to_string(refused) + " refused";
    if (missing > 0) line += ", " + std::to_string(missing) + " missing";
    if (reload_failed_unix_ns != 0) line += ", the last reload failed";
    return line + "; status on " + config.daemon.socket.string();
  }

  void reload_failed(const std::string& why) {
    ++reload_failures;
    reload_failed_unix_ns = unix_ns(std::chrono::system_clock::now());
    reload_error = one_line(why);
  }

  protocol::StatusReport status() {
    protocol::DaemonReport d;
    d.version = std::string(stella::version());
    d.pid = platform::current_process().pid;
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
    d.reload_failures = reload_failures;
    d.reload_failed_unix_ns = reload_failed_unix_ns;
    d.reload_error = reload_error;
    d.connections = server->open_connections();
    d.max_connections = server->max_connections();
    d.open_files_limit = sys::open_file_limit().value_or(0);
    d.connections_dropped = server->dropped();
    d.connections_evicted = server->evicted();
    d.accept_failures = server->accept_failures();
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
      reload_failed(std::string("refused, the running config is kept: ") + e.what());
      notifier.ready(status_line());
      return;
    }
    std::vector<std::string> not_applied;  // what of the file this reload could not apply
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
    if (d.metrics != old.metrics) {
      spdlog::warn("reload: a new metrics address takes effect only after a restart; keeping {}",
                   old.metrics ? old.metrics->to_string() : std::string("off"));
      d.metrics = old.metrics;
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
        not_applied.push_back(std::string("socket_mode: ") + e.what());
        d.socket_mode = old.socket_mode;
      }
    }
    if (!options.log_level) setup_logging(d.log_level);
    config.daemon = d;
    config.segments = next.segments;
    reaper->set_settings(reaper_settings());
    server->set_client_timeout(d.client_timeout);
    if (metrics) metrics->set_client_timeout(d.client_timeout);
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
    spdlog::info("reload: done: {} added, {} removed, {} updated, {} refused, {} failed", s.added.size(),
                 s.removed.size(), s.updated.size(), s.refused.size(), s.failed.size());
    for (const std::string& name : s.refused) {
      not_applied.push_back("segment '" + name + "' refused (see its detail)");
    }
    for (const std::string& f : s.failed) not_applied.push_back("cannot create segment " + f);
    if (not_applied.empty()) {
      reload_failed_unix_ns = 0;  // the running config is the file again
      reload_error.clear();
    } else {
      std::string why = "not applied: ";
      for (std::size_t i = 0; i < not_applied.size(); ++i) why += (i ? "; " : "") + not_applied[i];
      spdlog::error("reload: {}", why);
      reload_failed(why);
    }
    notifier.ready(status_line());
  }

  void wait_for_signal() {
    signals.async_wait([this](sys::Signal signal) {
      if (signal == sys::Signal::reload) {
        try {
          reload();
        } catch (const std::exception& e) {
          spdlog::error("reload failed: {}", e.what());
          reload_failed(e.what());
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
    out << platform::current_process().pid << "\n";
    if (!out) throw StartupError("cannot write the pid file " + config.daemon.pid_file->string());
    pid_file_written = true;
  }

  int run() {
    setup_logging(options.log_level.value_or(config::LogLevel::info));
    config = load();
    setup_logging(options.log_level.value_or(config.daemon.log_level));
    const config::DaemonConfig& d = config.daemon;
    // Before anything holds a descriptor: the health server sizes its cap from the limit.
    if (const std::string limit = sys::raise_open_file_limit(); !limit.empty()) spdlog::info("{}", limit);
    // Once per process, before any ring reader or writer exists: registering for the rings'
    // remote barriers can take milliseconds, which an out-bridge's reader must not spend
    // after stellad has said it is ready.
    (void)platform::register_for_remote_barriers();

    // Up in order, down in reverse, on every path (Teardown). A failure before READY takes
    // back what this run created: the segments it created (never adopted ones), the
    // socket and the pid file. The lock file and the socket's directory stay (see
    // instance_lock.hpp).
    Teardown teardown;
    std::error_code ec;
    if (d.socket.has_parent_path()) std::filesystem::create_directories(d.socket.parent_path(), ec);
    teardown.push("instance lock", [this](bool) { lock.reset(); });
    try {
      lock = std::make_unique<InstanceLock>(d.effective_lock_file());
    } catch (const std::exception& e) {
      throw StartupError(e.what());
    }

    teardown.push("pid file", [this](bool) {
      std::error_code ignored;
      if (pid_file_written) std::filesystem::remove(*config.daemon.pid_file, ignored);
      pid_file_written = false;
    });
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

    teardown.push("segments", [this](bool failed) {
      if (failed && !serving) {
        if (!created.empty()) {
          spdlog::info("start-up failed: removing the {} segment(s) this run created", created.size());
        }
        manager.remove_created(created);
        created.clear();
      } else if (config.daemon.remove_on_exit) {
        manager.remove_all();
      }
    });
    for (const config::SegmentConfig& s : config.segments) {
      try {
        if (manager.ensure(s) == EnsureOutcome::created) created.push_back(s.name);
      } catch (const std::exception& e) {
        throw StartupError(std::string("cannot create or open segment '") + s.name + "': " + e.what());
      }
    }

    server = std::make_unique<HealthServer>(io, d.socket, d.socket_mode, d.client_timeout,
                                            [this](const protocol::Request& r) { return answer(r); });
    teardown.push("status socket", [this](bool) { server->stop(); });
    try {
      server->start();
    } catch (const std::exception& e) {
      throw StartupError(e.what());
    }
    if (d.metrics) {
      metrics = std::make_unique<MetricsServer>(io, *d.metrics, d.client_timeout,
                                                [this] { return prometheus_text(status()); });
      try {
        metrics->start();
      } catch (const std::exception& e) {
        throw StartupError(e.what());
      }
    }
    wait_for_signal();

    reaper = std::make_unique<Reaper>(manager, reaper_settings(), [this] { notifier.watchdog(); });
    teardown.push("reaper", [this](bool) { reaper->stop(); });
    reaper->start();

    teardown.push("bridges", [this](bool) {
      bridges.stop_all();
      shutdown_bridges();
    });
    bridges.apply(config.bridges);

    serving = true;
    spdlog::info("stellad {} ready: {}", stella::version(), status_line());
    notifier.ready(status_line());
    if (options.on_ready) options.on_ready();
    io.run();

    teardown.run(false);
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
