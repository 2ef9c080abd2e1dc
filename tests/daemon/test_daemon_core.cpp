// The daemon's parts driven without a process: the protocol parser and codec, the
// SegmentManager (create, adopt, refuse, reload, drain), one Reaper pass, and a HealthServer
// on its own io_context (which connection goes when it is full).
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include "stella/common/platform/shm.hpp"
#include "stella/config/config.hpp"
#include "stella/daemon/daemon.hpp"
#include "stella/daemon/health_server.hpp"
#include "stella/daemon/notifier.hpp"
#include "stella/daemon/protocol.hpp"
#include "stella/daemon/reaper.hpp"
#include "stella/daemon/segment_manager.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace stella::daemon;
namespace proto = stella::daemon::protocol;

TEST_CASE("protocol: well-formed requests") {
  auto ok = [](std::string_view text, proto::Command c) {
    const auto r = proto::parse_request(text);
    CAPTURE(text);
    REQUIRE(r.ok());
    CHECK(r.request->command == c);
    CHECK(r.request->version == 1);
  };
  ok("STELLA 1 status\n", proto::Command::status);
  ok("STELLA 1 ping\n", proto::Command::ping);
  ok("STELLA 1 version\r\n", proto::Command::version);
  ok("STELLA 0001 status\n", proto::Command::status);
  CHECK(proto::parse_request(proto::format_request(proto::Command::status)).ok());
}

TEST_CASE("protocol: every bad request is an error with a reason, never a crash") {
  auto bad = [](std::string_view text, proto::ErrorCode code, std::string_view fragment = {}) {
    const auto r = proto::parse_request(text);
    CAPTURE(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error.code == code);
    CHECK(r.error.message.find(fragment) != std::string::npos);
  };
  bad("", proto::ErrorCode::incomplete);
  bad("STELLA 1 stat", proto::ErrorCode::incomplete);
  bad(std::string(proto::kMaxRequestBytes, 'x'), proto::ErrorCode::too_large, "4096");
  bad(std::string(proto::kMaxRequestBytes, 'x') + "\n", proto::ErrorCode::too_large);
  bad("status\n", proto::ErrorCode::malformed, "STELLA <version> <command>");
  bad("STELLA  1 status\n", proto::ErrorCode::malformed);
  bad("STELLA 1 status \n", proto::ErrorCode::malformed);
  bad("STELLA 1 status extra\n", proto::ErrorCode::malformed);
  bad("stella 1 status\n", proto::ErrorCode::malformed);
  bad("STELLA 1 status\nSTELLA 1 ping\n", proto::ErrorCode::malformed, "one request per connection");
  bad("STELLA x status\n", proto::ErrorCode::malformed, "must be a number");
  bad("STELLA 1234567890 status\n", proto::ErrorCode::malformed);
  bad("STELLA 0 status\n", proto::ErrorCode::unsupported_version);
  bad("STELLA 2 status\n", proto::ErrorCode::unsupported_version, "speaks 1 to 1");
  bad("STELLA 1 frobnicate\n", proto::ErrorCode::unknown_command, "\"frobnicate\"");
  bad(std::string("STELLA 1 st\0tus\n", 16), proto::ErrorCode::malformed, "printable");
  bad("STELLA 1 \xff\xfe\n", proto::ErrorCode::malformed);
  // Every prefix and every single-byte corruption of a good request parses to something.
  const std::string good = "STELLA 1 status\n";
  for (std::size_t n = 0; n <= good.size(); ++n) (void)proto::parse_request(good.substr(0, n));
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int b = 0; b < 256; ++b) {
      std::string s = good;
      s[i] = static_cast<char>(b);
      const auto r = proto::parse_request(s);
      if (!r.ok()) CHECK_FALSE(r.error.message.empty());
    }
  }
}

TEST_CASE("protocol: responses round-trip, errors carry code and message") {
  proto::StatusReport r;
  r.daemon.version = "0.1.0";
  r.daemon.pid = 42;
  r.daemon.uptime_ns = 5'000'000'000;
  r.daemon.config = "/etc/stella/stella.toml";
  r.daemon.socket = "/run/stella/stellad.sock";
  r.daemon.reap_interval_ns = 100'000'000;
  r.daemon.reap_passes = 50;
  r.health = proto::Health::degraded;
  r.problems = {"segment 'x': reader pid 7 lags 3 MiB (warning at 1 MiB)"};
  proto::SegmentReport s;
  s.name = "x";
  s.kind = "ring";
  s.state = "live";
  s.capacity = 4 << 20;
  s.mode = "block";
  s.permissions = 0660;
  s.write_position = 123456;
  s.writers = {{0, 9, 1000}};
  s.readers = {{1, 7, 100, 3 << 20, 900, 0, false, true}};
  s.counters = {1, 2, 3, 4, 5};
  s.last_recovery_unix_ns = 77;
  r.segments = {s};
  const auto decoded = proto::decode_response(proto::encode_status(r));
  CHECK(decoded.ok);
  CHECK(decoded.protocol == 1);
  REQUIRE(decoded.status);
  CHECK(*decoded.status == r);
  const std::string table = proto::render_table(r);
  CHECK(table.find("degraded") != std::string::npos);
  CHECK(table.find("LAGGING") != std::string::npos);
  CHECK(proto::exit_status(proto::Health::degraded) == 1);

  const auto err = proto::decode_response(proto::encode_error({proto::ErrorCode::unknown_command, "unknown \xff"}));
  CHECK_FALSE(err.ok);
  REQUIRE(err.error);
  CHECK(err.error->code == proto::ErrorCode::unknown_command);
  CHECK_THROWS_AS((void)proto::decode_response("{not json"), proto::ProtocolError);
  CHECK_THROWS_AS((void)proto::decode_response("{\"protocol\":1}"), proto::ProtocolError);
}

TEST_CASE("protocol: the appended daemon fields round-trip; a status without them (an older daemon) still decodes") {
  proto::StatusReport r;
  r.daemon.version = "0.1.0";
  r.daemon.reload_failures = 3;
  r.daemon.reload_failed_unix_ns = 1'700'000'000'000'000'000ULL;
  r.daemon.reload_error = "refused, the running config is kept: x.toml:5:17: ...";
  r.daemon.connections = 12;
  r.daemon.max_connections = 704;
  r.daemon.open_files_limit = 1024;
  r.daemon.connections_dropped = 9;
  r.daemon.connections_evicted = 4;
  r.daemon.accept_failures = 2;
  proto::SegmentReport missing;
  missing.name = "m";
  missing.kind = "ring";
  missing.state = "missing";
  missing.detail = "cannot create it: not enough shared memory";
  r.segments = {missing};
  const auto decoded = proto::decode_response(proto::encode_status(r));
  REQUIRE(decoded.status);
  CHECK(*decoded.status == r);
  const std::string table = proto::render_table(r);
  CHECK(table.find("(3 failed)") != std::string::npos);
  CHECK(table.find("status socket: 12 open (cap 704, open-file limit 1024), 9 dropped (4 for newer ones), "
                   "2 failed accepts") != std::string::npos);
  CHECK(table.find("cannot create it: not enough shared memory") != std::string::npos);

  // What a daemon built before these fields sends (the 3e03976 shape): decoded with defaults.
  const std::string old_daemon =
      R"({"protocol":1,"ok":true,"command":"status","result":{"daemon":{"version":"0.1.0","pid":7,"uptime_ns":1,)"
      R"("config":"c","socket":"s","reap_interval_ns":100,"reap_passes":2,"last_reap_age_ns":3,"reloads":1},)"
      R"("health":"healthy","problems":[],"segments":[]}})";
  const auto old = proto::decode_response(old_daemon);
  REQUIRE(old.status);
  CHECK(old.status->daemon.reloads == 1);
  CHECK(old.status->daemon.reload_failed_unix_ns == 0);
  CHECK(old.status->daemon.max_connections == 0);
  CHECK(proto::render_table(*old.status).find("status socket:") == std::string::npos);  // nothing made up
}

TEST_CASE("HealthServer::connection_cap: sized from the open-file limit, within its floor and ceiling") {
  CHECK(HealthServer::connection_cap(1024) == 1024 - 256 - 64);
  CHECK(HealthServer::connection_cap(512) == 512 - 128 - 64);
  CHECK(HealthServer::connection_cap(64) == HealthServer::kMinConnections);
  CHECK(HealthServer::connection_cap(std::uint64_t{1} << 20) == HealthServer::kMaxConnectionsCeiling);
  CHECK(HealthServer::connection_cap(std::nullopt) == HealthServer::kDefaultConnections);
}

TEST_CASE("assess: degraded on lag, eviction, refusal and a recent recovery") {
  config::DaemonConfig d;
  proto::DaemonReport dr;
  dr.reap_interval_ns = 100'000'000;
  const auto now = std::chrono::system_clock::now();
  proto::SegmentReport s;
  s.name = "r";
  s.state = "live";
  CHECK(assess(dr, {s}, d, now).health == proto::Health::healthy);
  auto with = [&](auto change) {
    proto::SegmentReport x = s;
    change(x);
    return assess(dr, {x}, d, now);
  };
  CHECK(with([](auto& x) { x.readers = {{0, 1, 0, 10, 0, 0, true, false}}; }).health == proto::Health::degraded);
  CHECK(with([](auto& x) { x.readers = {{0, 1, 0, 10, 0, 0, false, true}}; }).health == proto::Health::degraded);
  CHECK(with([](auto& x) { x.state = "refused"; }).health == proto::Health::degraded);
  CHECK(with([](auto& x) { x.state = "missing"; }).health == proto::Health::degraded);
  {
    // A failed reload: degraded, saying when and why, until one succeeds (the field is 0).
    proto::DaemonReport failed = dr;
    failed.config = "/etc/stella/stella.toml";
    failed.reload_failed_unix_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>((now - std::chrono::seconds(3)).time_since_epoch()).count());
    failed.reload_error = "refused: x";
    const auto a = assess(failed, {s}, d, now);
    CHECK(a.health == proto::Health::degraded);
    REQUIRE(a.problems.size() == 1);
    CHECK(a.problems[0].find("the last reload, at ") == 0);
    CHECK(a.problems[0].find(" UTC (3000 ms ago), failed: refused: x; the running config is not "
                             "/etc/stella/stella.toml until a reload succeeds") != std::string::npos);
  }
  const auto ns = [](std::chrono::system_clock::time_point t) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  CHECK(with([&](auto& x) { x.last_recovery_unix_ns = ns(now - std::chrono::seconds(1)); }).health ==
        proto::Health::degraded);
  CHECK(with([&](auto& x) { x.last_recovery_unix_ns = ns(now - std::chrono::seconds(60)); }).health ==
        proto::Health::healthy);
}

namespace {
config::SegmentConfig ring_config(const std::string& name, std::uint64_t capacity, config::RingMode mode) {
  config::SegmentConfig c;
  c.name = name;
  c.kind = config::SegmentKind::ring;
  c.capacity = capacity;
  c.mode = mode;
  c.max_readers = 4;
  c.max_writers = 4;
  return c;
}
}  // namespace

TEST_CASE("SegmentManager: creates, adopts a compatible segment, refuses an incompatible one") {
  const std::string ring_name = test::unique_name("mgr-ring");
  const std::string blob_name = test::unique_name("mgr-blob");
  test::SegmentCleanup cleanup({ring_name, blob_name});
  config::SegmentConfig blob;
  blob.name = blob_name;
  blob.kind = config::SegmentKind::blob;
  blob.capacity = 4096;
  blob.permissions = 0640;
  {
    SegmentManager m;
    CHECK(m.ensure(ring_config(ring_name, 8192, config::RingMode::block)) == EnsureOutcome::created);
    CHECK(m.ensure(blob) == EnsureOutcome::created);
    CHECK(m.ensure(blob) == EnsureOutcome::already_managed);
    const auto report = m.report(config::DaemonConfig{});
    REQUIRE(report.size() == 2);
    CHECK(report[0].permissions == (report[0].kind == "blob" ? 0640u : 0660u));
  }
  // Write through the ring, then a new manager must adopt it with the data intact.
  {
    MultiWriterCircularBuffer w(ring_name, SharedMemoryMode::Open);
    const std::byte msg[8]{};
    REQUIRE(w.write_bytes(msg) == WriteResult::Ok);
  }
  SegmentManager m;
  CHECK(m.ensure(ring_config(ring_name, 8192, config::RingMode::block)) == EnsureOutcome::adopted);
  CHECK(m.report(config::DaemonConfig{})[0].write_position > 0);
  SegmentManager other;
  CHECK(other.ensure(ring_config(ring_name, 16384, config::RingMode::block)) == EnsureOutcome::refused);
  CHECK(other.ensure(ring_config(ring_name, 8192, config::RingMode::overwrite)) == EnsureOutcome::refused);
  CHECK(other.state_of(ring_name) == SegmentState::refused);
  auto wrong_kind = blob;
  wrong_kind.name = ring_name;
  CHECK(other.ensure(wrong_kind) == EnsureOutcome::refused);
  CHECK(platform::MappedObject::exists(ring_name));  // refused, never removed
}

TEST_CASE("Reaper: one pass repairs a record claimed by a writer that died") {
  const std::string name = test::unique_name("reap");
  test::SegmentCleanup cleanup(name);
  SegmentManager m;
  REQUIRE(m.ensure(ring_config(name, 8192, config::RingMode::block)) == EnsureOutcome::created);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    RingOptions o;
    o.recovery_timeout = std::chrono::minutes(10);
    MultiWriterCircularBuffer w(name, SharedMemoryMode::Open, 0, WriteBehavior::Overwrite, o);
    auto claim = w.claim(16);
    ::_exit(claim ? 0 : 1);  // dies holding the claim: no destructor runs
  }
  int st = 0;
  REQUIRE(::waitpid(child, &st, 0) == child);
  REQUIRE(WIFEXITED(st));
  REQUIRE(WEXITSTATUS(st) == 0);
  Reaper reaper(m, ReaperSettings{});
  const ReapTotals t = reaper.run_once();
  CHECK(t.rings == 1);
  CHECK(t.repairs.records_repaired == 1);
  CHECK(t.repairs.writers_reaped == 1);
  CHECK(reaper.run_once().repairs.changed() == false);  // idempotent
  const auto report = m.report(config::DaemonConfig{});
  CHECK(report[0].counters.records_repaired == 1);
  CHECK(report[0].daemon_recoveries == 1);
}

TEST_CASE("SegmentManager: reload adds, drains, removes at once, refuses incompatible changes") {
  const std::string a = test::unique_name("rl-a"), b = test::unique_name("rl-b"), c = test::unique_name("rl-c"),
                    e = test::unique_name("rl-e");
  test::SegmentCleanup cleanup({a, b, c, e});
  SegmentManager m;
  auto ca = ring_config(a, 8192, config::RingMode::overwrite);
  auto cb = ring_config(b, 8192, config::RingMode::overwrite);
  auto cc = ring_config(c, 8192, config::RingMode::overwrite);
  cc.remove = config::RemovePolicy::immediately;
  for (const auto* s : {&ca, &cb, &cc}) REQUIRE(m.ensure(*s) == EnsureOutcome::created);
  auto reader = std::make_unique<LockFreeBufferReader>(b);
  auto ca2 = ca;
  ca2.capacity = 16384;
  const ReloadSummary s = m.reload({ca2, ring_config(e, 4096, config::RingMode::block)});
  CHECK(s.added == std::vector<std::string>{e});
  CHECK(s.refused == std::vector<std::string>{a});
  CHECK(s.removed.size() == 2);
  CHECK_FALSE(platform::MappedObject::exists(c));        // immediately
  CHECK(m.state_of(b) == SegmentState::draining);        // a reader still uses it
  CHECK(m.drain_unused().empty());
  reader.reset();
  CHECK(m.drain_unused() == std::vector<std::string>{b});
  CHECK_FALSE(platform::MappedObject::exists(b));
  for (const auto& r : m.report(config::DaemonConfig{})) {
    if (r.name == a) CHECK(r.capacity == 8192);  // the refused change kept the old ring
  }
}

TEST_CASE("Notifier: the sd_notify datagram itself (used when libsystemd is absent)") {
  const std::string path = test::temp_path("notify") + ".sock";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  CHECK(Notifier::send_datagram(path, "READY=1\nSTATUS=ok"));
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  CHECK(std::string(buf, static_cast<std::size_t>(n)) == "READY=1\nSTATUS=ok");
  CHECK_FALSE(Notifier::send_datagram(path + ".missing", "READY=1"));
  CHECK_FALSE(Notifier::send_datagram("", "READY=1"));
  ::close(fd);
  ::unlink(path.c_str());
}

namespace {

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Polls `condition` (a counter of the server's io thread: there is no event to wait on)
// until it holds or 10 s pass.
bool within_10s(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// What the server sent until it closed (nullopt: not closed within `timeout`).
std::optional<std::string> until_closed(int fd, int timeout_ms) {
  std::string out;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

TEST_CASE("HealthServer: when full, a new connection is served and the oldest idle one dropped; a client that has "
          "sent part of its request is kept") {
  const std::string path = test::temp_path("health-full") + ".sock";
  asio::io_context io;
  HealthServer server(io, path, 0600, std::chrono::seconds(20),
                      [](const proto::Request&) { return proto::encode_pong(); });
  // The cap comes from the open-file limit at start(): 128 files give connection_cap(128).
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlimit low = saved;
  low.rlim_cur = 128;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  server.start();
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  const std::size_t cap = server.max_connections();
  CHECK(cap == HealthServer::connection_cap(128));
  // The io thread, stopped and joined on every way out of the test (a failed REQUIRE too).
  struct Runner {
    asio::io_context& io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Runner() {
      io.stop();
      thread.join();
    }
  } runner{io};

  // Oldest: a client that has sent part of a request. Then idle ones up to the cap.
  const int partial = connect_unix(path);
  REQUIRE(::send(partial, "STELLA 1 pi", 11, MSG_NOSIGNAL) == 11);
  REQUIRE(within_10s([&] { return server.open_connections() == 1; }));
  std::vector<int> idle;
  for (std::size_t i = 1; i < cap; ++i) idle.push_back(connect_unix(path));
  REQUIRE(within_10s([&] { return server.open_connections() == cap; }));
  CHECK(server.evicted() == 0);

  // Full: a well-behaved client is still answered, and the oldest IDLE connection (not the
  // partial one, older still) was dropped for it.
  const int client = connect_unix(path);
  const std::string request = proto::format_request(proto::Command::ping);
  REQUIRE(::send(client, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  const auto answer = until_closed(client, 10000);
  REQUIRE(answer);
  CHECK(answer->find("\"ok\":true") != std::string::npos);
  const auto first_idle = until_closed(idle.front(), 10000);
  REQUIRE(first_idle);
  CHECK(first_idle->empty());  // dropped without an answer
  CHECK(server.evicted() == 1);
  pollfd p{partial, POLLIN, 0};
  CHECK(::poll(&p, 1, 0) == 0);  // still open, nothing sent to it
  REQUIRE(::send(partial, "ng\n", 3, MSG_NOSIGNAL) == 3);
  const auto partial_answer = until_closed(partial, 10000);
  REQUIRE(partial_answer);
  CHECK(partial_answer->find("\"ok\":true") != std::string::npos);

  for (int fd : idle) ::close(fd);
  ::close(client);
  ::close(partial);
  std::promise<void> stopped;
  asio::post(io, [&] {
    server.stop();
    stopped.set_value();
  });
  stopped.get_future().wait();
  CHECK_FALSE(std::filesystem::exists(path));
}
