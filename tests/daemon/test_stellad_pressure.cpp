// stellad under pressure (issue 14): the real binary, hostile local clients on its Unix
// socket, and a well-behaved `stellad status` (the real binary too) that must answer every
// time, within 1 s at the 99th percentile, while the reaper keeps its interval and the
// daemon's descriptors and memory stay bounded. Bounded in time (a fixed duration per
// case) and in count (connections per flood); Unix sockets only. docs/robustness.md
// "The status socket under pressure" lists the figures.
//
// The 1 s threshold is the acceptance criterion, measured with real clocks: it is
// generous on purpose (status answers in milliseconds when idle), so that a loaded 2-core
// machine passes and a daemon that stalls (a busy accept loop, a full backlog read as
// "unreachable") does not.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon_test_util.hpp"
#include "stella/daemon/health_server.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace proto = stella::daemon::protocol;
using Clock = std::chrono::steady_clock;

namespace {

// Under a sanitizer (scripts/test.sh runs every test in its ASan+UBSan build) stellad and
// `stellad status` run several times slower: the floods, the answers and every bound but
// latency are still asserted; latency is reported, not held to the 1 s threshold.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
constexpr double kP99LimitMs = 1000.0;
constexpr std::size_t kMinCalls = kSanitized ? 3 : 10;
// RSS allowed above the quiet daemon's (ASan's shadow memory and quarantine need more).
constexpr std::uint64_t kRssSlackKib = (kSanitized ? 512 : 64) * 1024;

// The floods hold thousands of descriptors in this process.
void raise_own_open_file_limit() {
  rlimit r{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &r) == 0);
  r.rlim_cur = r.rlim_max;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &r) == 0);
  REQUIRE(r.rlim_cur >= 4096);  // 2,000 idle connections and the rest
}

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return addr;
}

// A non-blocking connection: its fd, or -1 when the backlog is full (EAGAIN) or it failed.
int try_connect(const sockaddr_un& addr) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 || errno == EINPROGRESS) return fd;
  ::close(fd);
  return -1;
}

// True when the daemon closed `fd` (EOF or an error); drains what it sent.
bool closed_by_peer(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n == 0) return true;
    return errno != EAGAIN && errno != EINTR;
  }
}

struct FloodCounts {
  std::atomic<std::uint64_t> connects{0};      // connections made
  std::atomic<std::uint64_t> backlog_full{0};  // connects refused (EAGAIN)
  std::atomic<std::uint64_t> dropped{0};       // connections the daemon closed on us
  std::atomic<std::uint64_t> bytes{0};         // garbage bytes the daemon took
};

// Hostile clients, each kind on a thread of its own that polls its connections (never
// spins): started by the add_* members, stopped (and every descriptor closed) by stop().
class Flood {
 public:
  explicit Flood(const std::string& socket) : addr_(address_of(socket)) {}
  ~Flood() { stop(); }
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;

  FloodCounts idle, garbage, slowloris, never_read, connect_close;

  /// `count` connections that never send a byte; one the daemon drops is opened again.
  void add_idle(std::size_t count) {
    threads_.emplace_back([this, count] {
      std::vector<int> fds(count, -1);
      while (!stop_.load()) {
        reconnect(fds, idle, 400);
        poll_each(fds, POLLIN, 20, [&](int& fd, short) {
          if (closed_by_peer(fd)) drop(fd, idle);
        });
      }
      close_all(fds);
    });
  }

  /// `count` connections that each send `bytes` of garbage (no newline), then start again.
  void add_garbage(std::size_t count, std::size_t bytes) {
    threads_.emplace_back([this, count, bytes] {
      const std::string junk(64 * 1024, 'G');
      std::vector<int> fds(count, -1);
      std::vector<std::size_t> sent(count, 0);
      // A client starts again at most every 500 ms: each attempt fills a socket buffer
      // (~200 KiB) before it sees the daemon's close, and the machine is shared.
      std::vector<Clock::time_point> again(count, Clock::now());
      while (!stop_.load()) {
        const auto now = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
          if (fds[i] >= 0 || now < again[i]) continue;
          sent[i] = 0;
          again[i] = now + 500ms;
          fds[i] = try_connect(addr_);
          (fds[i] < 0 ? garbage.backlog_full : garbage.connects).fetch_add(1);
        }
        poll_each(fds, POLLOUT | POLLIN, 20, [&](int& fd, short revents) {
          const std::size_t i = static_cast<std::size_t>(&fd - fds.data());
          if ((revents & POLLOUT) != 0 && sent[i] < bytes) {
            const ssize_t n = ::send(fd, junk.data(), std::min(junk.size(), bytes - sent[i]), MSG_NOSIGNAL);
            if (n > 0) {
              sent[i] += static_cast<std::size_t>(n);
              garbage.bytes.fetch_add(static_cast<std::uint64_t>(n));
            } else if (n < 0 && errno != EAGAIN) {
              drop(fd, garbage);  // refused (too_large) and closed: start again
              return;
            }
          }
          if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && closed_by_peer(fd)) drop(fd, garbage);
        });
      }
      close_all(fds);
    });
  }

  /// `count` connections that send a request one byte per `every`, and never its end.
  void add_slowloris(std::size_t count, std::chrono::milliseconds every) {
    threads_.emplace_back([this, count, every] {
      const std::string request = "STELLA 1 status";
      std::vector<int> fds(count, -1);
      std::vector<std::size_t> next(count, 0);
      auto due = Clock::now();
      while (!stop_.load()) {
        for (std::size_t i = 0; i < count; ++i) {
          if (fds[i] < 0) next[i] = 0;
        }
        reconnect(fds, slowloris, count);
        const bool send_now = Clock::now() >= due;
        if (send_now) due = Clock::now() + every;
        poll_each(fds, POLLIN | (send_now ? POLLOUT : 0), 20, [&](int& fd, short revents) {
          const std::size_t i = static_cast<std::size_t>(&fd - fds.data());
          if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && closed_by_peer(fd)) {
            drop(fd, slowloris);
            return;
          }
          if ((revents & POLLOUT) != 0) {
            const char c = next[i] < request.size() ? request[next[i]] : 'x';
            if (::send(fd, &c, 1, MSG_NOSIGNAL) == 1) ++next[i];
          }
        });
      }
      close_all(fds);
    });
  }

  /// `count` connections that send a whole status request and never read the answer; each
  /// is held for `hold`, then replaced.
  void add_never_read(std::size_t count, std::chrono::milliseconds hold) {
    threads_.emplace_back([this, count, hold] {
      const std::string request = proto::format_request(proto::Command::status);
      std::vector<int> fds(count, -1);
      std::vector<Clock::time_point> opened(count);
      std::vector<bool> asked(count, false);
      while (!stop_.load()) {
        const auto now = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
          if (fds[i] >= 0 && now - opened[i] >= hold) {
            ::close(fds[i]);
            fds[i] = -1;
          }
          if (fds[i] < 0) {
            fds[i] = try_connect(addr_);
            (fds[i] < 0 ? never_read.backlog_full : never_read.connects).fetch_add(1);
            opened[i] = now;
            asked[i] = false;
          }
        }
        poll_each(fds, POLLOUT, 20, [&](int& fd, short revents) {
          const std::size_t i = static_cast<std::size_t>(&fd - fds.data());
          if ((revents & POLLOUT) != 0 && !asked[i]) {
            asked[i] = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                       static_cast<ssize_t>(request.size());
          }
        });
      }
      close_all(fds);
    });
  }

  /// Connects and closes at once, `per_second` times a second.
  void add_connect_close(std::uint64_t per_second) {
    threads_.emplace_back([this, per_second] {
      const auto start = Clock::now();
      std::uint64_t n = 0;
      while (!stop_.load()) {
        const int fd = try_connect(addr_);
        if (fd >= 0) {
          ::close(fd);
          connect_close.connects.fetch_add(1);
        } else {
          connect_close.backlog_full.fetch_add(1);
        }
        // Paced, not throttled by a sleep standing in for an event: the rate is the point.
        if (++n % 64 == 0) {
          std::this_thread::sleep_until(start + std::chrono::microseconds(n * 1'000'000 / per_second));
        }
      }
    });
  }

  void stop() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void reconnect(std::vector<int>& fds, FloodCounts& counts, std::size_t at_most) {
    std::size_t made = 0;
    for (int& fd : fds) {
      if (fd >= 0) continue;
      if (made++ == at_most) break;
      fd = try_connect(addr_);
      (fd < 0 ? counts.backlog_full : counts.connects).fetch_add(1);
    }
  }
  template <class F>
  void poll_each(std::vector<int>& fds, short events, int timeout_ms, F&& on_event) {
    std::vector<pollfd> p;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i] < 0) continue;
      p.push_back({fds[i], events, 0});
      index.push_back(i);
    }
    if (p.empty()) {
      ::poll(nullptr, 0, timeout_ms);  // nothing connected (backlog full): try again soon
      return;
    }
    if (::poll(p.data(), p.size(), timeout_ms) <= 0) return;
    for (std::size_t k = 0; k < p.size(); ++k) {
      if (p[k].revents != 0 && fds[index[k]] >= 0) on_event(fds[index[k]], p[k].revents);
    }
  }
  static void drop(int& fd, FloodCounts& counts) {
    ::close(fd);
    fd = -1;
    counts.dropped.fetch_add(1);
  }
  static void close_all(std::vector<int>& fds) {
    for (int& fd : fds) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

  sockaddr_un addr_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// ---- What /proc says about the daemon ----

std::size_t fd_count(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

std::uint64_t status_value_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1));
  }
  return 0;
}

// utime + stime, in clock ticks.
std::uint64_t cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

// "Max open files  <soft>  <hard>  files" of /proc/<pid>/limits.
std::pair<std::uint64_t, std::uint64_t> open_files_limits(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream words(line.substr(14));
      std::uint64_t soft = 0, hard = 0;
      words >> soft >> hard;
      return {soft, hard};
    }
  }
  return {0, 0};
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// ---- The well-behaved client: the real `stellad status --json`, timed ----

struct Observation {
  std::vector<double> latency_ms;
  std::size_t failures = 0;
  std::string first_failure;
  std::uint64_t max_reap_age_ns = 0;
  std::uint64_t max_connections_seen = 0;  // the daemon's open connections, highest seen
  std::size_t max_fds = 0;
  std::uint64_t max_rss_kib = 0;
  nlohmann::json first, last;  // the first and last status reports

  [[nodiscard]] double percentile(double p) const {
    if (latency_ms.empty()) return 0;
    std::vector<double> v = latency_ms;
    std::sort(v.begin(), v.end());
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
    return v[std::min(k, v.size() - 1)];
  }
  [[nodiscard]] std::string summary() const {
    std::ostringstream out;
    out << latency_ms.size() << " status calls, " << failures << " failed; latency p50 " << percentile(0.5)
        << " ms, p99 " << percentile(0.99) << " ms, max " << percentile(1.0) << " ms; reaper age max "
        << max_reap_age_ns / 1'000'000 << " ms; connections max " << max_connections_seen << "; fds max " << max_fds
        << "; RSS max " << max_rss_kib << " KiB";
    return out.str();
  }
};

// Calls `stellad status` one after another (a 50 ms pause between calls, as a health check
// would space them) for `duration`, sampling the daemon's fds and RSS between calls.
Observation observe(test::Stellad& d, std::chrono::seconds duration) {
  Observation o;
  const pid_t pid = d.proc().pid();
  const auto end = Clock::now() + duration;
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    const auto r = test::run_command(
        STELLAD, {"status", "--socket", d.socket(), "--json", "--timeout-ms", kSanitized ? "30000" : "10000"}, 60s);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    o.latency_ms.push_back(ms);
    nlohmann::json j;
    bool parsed = false;
    if (r.exit_code == 0) {
      try {
        j = nlohmann::json::parse(r.out);
        parsed = true;
      } catch (const std::exception&) {
      }
    }
    if (!parsed) {
      if (o.failures++ == 0) o.first_failure = "exit " + std::to_string(r.exit_code) + ": " + r.err + r.out;
    } else {
      if (o.first.is_null()) o.first = j;
      o.last = j;
      o.max_reap_age_ns = std::max(o.max_reap_age_ns, j["daemon"]["last_reap_age_ns"].get<std::uint64_t>());
      o.max_connections_seen = std::max(o.max_connections_seen, j["daemon"].value("connections", std::uint64_t{0}));
    }
    o.max_fds = std::max(o.max_fds, fd_count(pid));
    o.max_rss_kib = std::max(o.max_rss_kib, status_value_kib(pid, "VmRSS"));
    ::poll(nullptr, 0, 50);
  }
  return o;
}

const std::string kDaemonKeys = "reap_interval = \"50ms\"\nrecovery_timeout = \"500ms\"\n";
constexpr std::uint64_t kReapIntervalNs = 50'000'000;

}  // namespace

TEST_CASE("stellad under pressure: 2,000 idle, 200 x 1 MiB garbage, slowloris, never-read and a connect/close loop "
          "for 20 s; status answers every time, p99 < 1 s, the reaper keeps its interval, fds and RSS bounded") {
  raise_own_open_file_limit();
  const std::string ring = test::unique_name("press-ring"), blob = test::unique_name("press-blob");
  test::SegmentCleanup cleanup({ring, blob});
  test::Stellad d("pressure", kDaemonKeys,
                  test::ring_segment(ring, "64KiB", "overwrite") + test::blob_segment(blob, "4KiB"));
  d.start();
  const pid_t pid = d.proc().pid();
  const std::size_t fds_before = fd_count(pid);
  const std::uint64_t rss_before = status_value_kib(pid, "VmRSS");
  const auto quiet = d.status();
  CHECK(quiet.health == proto::Health::healthy);
  // The soft limit was raised to the hard one (stellad's own /proc/<pid>/limits), and
  // the cap comes from it.
  const auto [soft, hard] = open_files_limits(pid);
  CHECK(soft == hard);
  CHECK(quiet.daemon.open_files_limit == soft);
  CHECK(quiet.daemon.max_connections == daemon::HealthServer::connection_cap(soft));
  const std::uint64_t ticks_before = cpu_ticks(pid);

  Flood flood(d.socket());
  flood.add_idle(2000);
  flood.add_garbage(200, std::size_t{1} << 20);
  flood.add_slowloris(100, 100ms);
  flood.add_never_read(100, 1000ms);
  flood.add_connect_close(5000);
  const Observation o = observe(d, 20s);
  const std::uint64_t ticks = cpu_ticks(pid) - ticks_before;
  flood.stop();

  const double elapsed_s = 20.0;
  MESSAGE(o.summary());
  MESSAGE("floods: idle " << flood.idle.connects.load() << " connects / " << flood.idle.dropped.load()
                          << " dropped; garbage " << flood.garbage.connects.load() << " connects, "
                          << flood.garbage.bytes.load() / (1 << 20) << " MiB sent; slowloris "
                          << flood.slowloris.connects.load() << " / " << flood.slowloris.dropped.load()
                          << " dropped; never-read " << flood.never_read.connects.load() << "; connect/close "
                          << flood.connect_close.connects.load() << " (" << flood.connect_close.backlog_full.load()
                          << " backlog full); stellad CPU " << ticks * 100 / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK)) / 20
                          << " % of a core");
  INFO(o.summary() << "\nfirst failure: " << o.first_failure);
  REQUIRE(o.latency_ms.size() >= kMinCalls);
  CHECK(o.failures == 0);
  if (!kSanitized) CHECK(o.percentile(0.99) < kP99LimitMs);
  // The floods really ran: thousands of connections open at once, garbage refused, slow
  // clients dropped at their deadline.
  CHECK(o.max_connections_seen >= 1000);
  CHECK(flood.garbage.dropped >= 200);
  CHECK(flood.slowloris.dropped >= 100);
  CHECK(flood.connect_close.connects >= (kSanitized ? 5000U : 20000U));
  // The reaper kept its interval (it runs on its own thread): never 1 s without a pass,
  // and at least half the passes its interval asks for.
  CHECK(o.max_reap_age_ns < 1'000'000'000ULL);
  const auto passes = o.last["daemon"]["reap_passes"].get<std::uint64_t>() - o.first["daemon"]["reap_passes"].get<std::uint64_t>();
  const double wall_s = static_cast<double>(o.last["daemon"]["uptime_ns"].get<std::uint64_t>() -
                                            o.first["daemon"]["uptime_ns"].get<std::uint64_t>()) / 1e9;
  MESSAGE("reaper: " << passes << " passes in " << wall_s << " s (interval 50 ms: " << wall_s * 1e9 / kReapIntervalNs
                     << " expected)");
  CHECK(static_cast<double>(passes) >= 0.5 * wall_s * 1e9 / static_cast<double>(kReapIntervalNs));
  CHECK(wall_s > elapsed_s / 2);
  // Bounded: descriptors never beyond the cap (plus what the daemon holds anyway), memory
  // within 64 MiB of the quiet daemon's (release builds).
  CHECK(o.max_fds <= quiet.daemon.max_connections + fds_before + 16);
  CHECK(o.max_rss_kib <= rss_before + kRssSlackKib);

  // Once the floods stop, every connection goes (at its deadline at the latest).
  CHECK(test::eventually([&] { return fd_count(pid) <= fds_before + 2; }, 15s));
  const auto after = d.status();
  CHECK(after.health == proto::Health::healthy);
  CHECK(after.daemon.connections_dropped > 0);
  CHECK(d.stop() == 0);
}

TEST_CASE("stellad under pressure: with a hard limit of 512 files the cap is sized from it, the oldest idle "
          "connections make room for new ones, and running out of descriptors pauses accepting, logged once "
          "per burst") {
  raise_own_open_file_limit();
  const std::string ring = test::unique_name("press-fd");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("pressure-fd", kDaemonKeys, test::ring_segment(ring, "16KiB", "block"));
  d.set_open_files(256, 512);  // soft 256 as many shells give; stellad raises it to 512
  d.start();
  const pid_t pid = d.proc().pid();
  const auto quiet = d.status();
  CHECK(open_files_limits(pid) == std::pair<std::uint64_t, std::uint64_t>{512, 512});
  CHECK(quiet.daemon.open_files_limit == 512);
  CHECK(quiet.daemon.max_connections == daemon::HealthServer::connection_cap(512));
  CHECK(d.log().find("open-file limit raised from 256 to the hard limit 512") != std::string::npos);
  const std::size_t fds_before = fd_count(pid);

  // 1. More idle connections than the cap: the newest are taken, the oldest dropped.
  Flood flood(d.socket());
  flood.add_idle(2000);
  const Observation full = observe(d, 8s);
  INFO(full.summary() << "\nfirst failure: " << full.first_failure);
  MESSAGE("cap " << quiet.daemon.max_connections << ": " << full.summary());
  REQUIRE(full.latency_ms.size() >= kMinCalls);
  CHECK(full.failures == 0);
  if (!kSanitized) CHECK(full.percentile(0.99) < kP99LimitMs);
  CHECK(full.max_fds <= 512);
  // A full server accepts the newest connection, then drops the oldest idle one for it: for
  // that moment it holds one more than its cap.
  CHECK(full.max_connections_seen <= quiet.daemon.max_connections + 1);
  CHECK(full.last["daemon"]["connections_evicted"].get<std::uint64_t>() > 0);
  CHECK(flood.idle.dropped > 0);
  // Logged once per burst (the burst lasts as long as the flood), not once per drop.
  CHECK(count_of(d.log(), "dropping the oldest idle ones") <= 5);

  // 2. Descriptors run out below the cap (the soft limit lowered under the running daemon,
  // as other descriptors would take them): accept pauses instead of spinning, the cap is
  // lowered, and status still answers.
  const rlimit lowered{static_cast<rlim_t>(fds_before + 120), 512};
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, &lowered, nullptr) == 0);
  const std::uint64_t failures_before = full.last["daemon"]["accept_failures"].get<std::uint64_t>();
  const std::uint64_t ticks_before = cpu_ticks(pid);
  const Observation starved = observe(d, 8s);
  const std::uint64_t ticks = cpu_ticks(pid) - ticks_before;
  flood.stop();
  const std::string log = d.log();
  INFO(starved.summary() << "\nfirst failure: " << starved.first_failure << "\nlog (end):\n"
                         << log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  MESSAGE("soft limit " << lowered.rlim_cur << ": " << starved.summary() << "; stellad CPU "
                        << ticks * 100 / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK)) / 8 << " % of a core");
  REQUIRE(starved.latency_ms.size() >= kMinCalls);
  CHECK(starved.failures == 0);
  if (!kSanitized) CHECK(starved.percentile(0.99) < kP99LimitMs);
  CHECK(starved.max_fds <= lowered.rlim_cur);
  const auto& last = starved.last["daemon"];
  CHECK(last["max_connections"].get<std::uint64_t>() < quiet.daemon.max_connections);
  const std::uint64_t failures = last["accept_failures"].get<std::uint64_t>() - failures_before;
  MESSAGE("accept failures while starved: " << failures << "; log lines 'accept failed': "
                                            << count_of(d.log(), "accept failed"));
  CHECK(failures > 0);
  // No busy loop: at most one failed accept per pause (8 s / 50 ms = 160), doubled for slack.
  CHECK(failures <= 320);
  CHECK(count_of(d.log(), "accept failed") <= 10);
  CHECK(d.log().find("out of file descriptors") != std::string::npos);
  CHECK(d.stop() == 0);
}

TEST_CASE("stellad status: a connect that meets a full listen backlog is retried within --timeout-ms") {
  // A listener that accepts nothing for a while: its backlog is full, so a non-blocking
  // connect fails with EAGAIN (it used to be read as "in progress", then send() failed).
  test::TempDir dir("backlog");
  const std::string path = dir.file("full.sock");
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  const sockaddr_un addr = address_of(path);
  REQUIRE(::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 0) == 0);
  std::vector<int> fillers;
  for (int i = 0; i < 64; ++i) {
    const int fd = try_connect(addr);
    if (fd < 0) break;  // EAGAIN: the backlog is full now
    fillers.push_back(fd);
  }
  REQUIRE(fillers.size() < 64);
  REQUIRE(try_connect(addr) == -1);  // full, as the client will find it

  // The server frees the backlog once the client has been refused a few times, then
  // answers whatever connects with a pong.
  std::atomic<bool> done{false};
  std::thread server([&] {
    ::poll(nullptr, 0, 300);  // the delay is the point: the client must retry through it
    for (int fd : fillers) ::close(fd);
    while (!done.load()) {
      pollfd p{listener, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      char buf[256];
      (void)::recv(c, buf, sizeof buf, 0);  // whoever it is (a filler's ghost sends nothing)
      const std::string pong = proto::encode_pong();
      (void)::send(c, pong.data(), pong.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  });
  const auto t0 = Clock::now();
  const auto r = daemon::query(path, proto::Command::ping, 5s);
  const auto waited = Clock::now() - t0;
  done.store(true);
  server.join();
  ::close(listener);
  INFO(r.error);
  REQUIRE(r.response);
  CHECK(r.response->ok);
  CHECK(waited >= 250ms);  // it did meet the full backlog, and waited it out

  // Within its deadline only: a backlog that stays full is "timed out", reported as such.
  const int again = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const std::string path2 = dir.file("full2.sock");
  const sockaddr_un addr2 = address_of(path2);
  REQUIRE(::bind(again, reinterpret_cast<const sockaddr*>(&addr2), sizeof addr2) == 0);
  REQUIRE(::listen(again, 0) == 0);
  std::vector<int> fillers2;
  for (int fd = try_connect(addr2); fd >= 0 && fillers2.size() < 64; fd = try_connect(addr2)) fillers2.push_back(fd);
  const auto t1 = Clock::now();
  const auto timed_out = daemon::query(path2, proto::Command::ping, 300ms);
  CHECK_FALSE(timed_out.response);
  CHECK(timed_out.error.find("backlog") != std::string::npos);
  CHECK(Clock::now() - t1 < 2s);
  for (int fd : fillers2) ::close(fd);
  ::close(again);
}
