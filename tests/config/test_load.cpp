// Loading valid configs: defaults, every key, the three entry points, summary().
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config_test_util.hpp"

using namespace std::chrono_literals;
using namespace stella::config;
using stella::config::test::dump;
using stella::config::test::load_ok;

TEST_CASE("config_defaults: `version = 1` alone gives every documented default") {
  const Config c = load_ok("version = 1\n");
  CHECK(c.source == "t.toml");
  CHECK(c.version == 1);
  CHECK(c.segments.empty());
  const DaemonConfig& d = c.daemon;
  CHECK(d.socket == "/run/stella/stellad.sock");
  CHECK(d.socket_mode == 0660);
  CHECK(d.reap_interval == 100ms);
  CHECK(d.log_level == LogLevel::info);
  CHECK(d.recovery_timeout == 1s);
  CHECK_FALSE(d.stall_eviction.has_value());
  CHECK(d.lag_warning.unit == LagThreshold::Unit::fraction);
  CHECK(d.lag_warning.fraction == 0.5);
  CHECK(d.remove_on_exit == false);
  CHECK(d.health_window == 10s);
  CHECK(d.client_timeout == 2s);
  CHECK_FALSE(d.lock_file.has_value());
  CHECK(d.effective_lock_file() == "/run/stella/stellad.sock.lock");
  CHECK_FALSE(d.pid_file.has_value());
}

TEST_CASE("config_defaults: a minimal ring and a minimal blob") {
  const Config c = load_ok(R"(version = 1
[[segment]]
name = "r"
kind = "ring"
capacity = "1MiB"
[[segment]]
name = "b"
kind = "blob"
capacity = 100
)");
  REQUIRE(c.segments.size() == 2);
  const SegmentConfig& r = c.segments[0];
  CHECK(r.name == "r");
  CHECK(r.kind == SegmentKind::ring);
  CHECK(r.capacity == 1 << 20);
  CHECK(r.mode == RingMode::overwrite);
  CHECK(r.max_readers == 32);
  CHECK(r.max_writers == 64);
  CHECK(r.permissions == 0660);
  CHECK_FALSE(r.owner);
  CHECK_FALSE(r.group);
  CHECK_FALSE(r.reader_group);
  CHECK_FALSE(r.writer_group);
  CHECK(r.remove == RemovePolicy::when_unused);
  CHECK_FALSE(r.lag_warning);
  CHECK(r.effective_lag_warning(c.daemon) == c.daemon.lag_warning);
  CHECK(r.location == Location{2, 1});
  const SegmentConfig& b = c.segments[1];
  CHECK(b.kind == SegmentKind::blob);
  CHECK(b.capacity == 100);  // a blob's capacity need not be aligned
  CHECK(b.location == Location{6, 1});
  CHECK(c.find("b") == &c.segments[1]);
  CHECK(c.find("nope") == nullptr);

  const auto perms = r.platform_permissions();
  CHECK(perms.mode == 0660);
  CHECK_FALSE(perms.uid);
  CHECK_FALSE(perms.gid);
}

TEST_CASE("config_keys: every key set explicitly is read") {
  const Config c = load_ok(R"(version = 1
[daemon]
socket = "/tmp/stella-test/s.sock"
socket_mode = "0600"
reap_interval = "250ms"
log_level = "debug"
recovery_timeout = "2s"
stall_eviction = "1m"
lag_warning = "8MiB"
health_window = "30s"
client_timeout = "500ms"
remove_on_exit = true
lock_file = "/tmp/stella-test/lock"
pid_file = "/tmp/stella-test/pid"

[[segment]]
name = "events"
kind = "ring"
capacity = 65536
mode = "block"
max_readers = 1024
max_writers = 1
permissions = 0o640
owner = "root"
group = "root"
reader_group = 0
writer_group = "root"
remove = "immediately"
lag_warning = 0.25

[[segment]]
name = "open"
kind = "blob"
capacity = "1TiB"
permissions = "666"
allow_world_writable = true
)");
  const DaemonConfig& d = c.daemon;
  CHECK(d.socket == "/tmp/stella-test/s.sock");
  CHECK(d.socket_mode == 0600);
  CHECK(d.reap_interval == 250ms);
  CHECK(d.log_level == LogLevel::debug);
  CHECK(d.recovery_timeout == 2s);
  REQUIRE(d.stall_eviction);
  CHECK(*d.stall_eviction == 1min);
  CHECK(d.lag_warning == LagThreshold{LagThreshold::Unit::bytes, 0.0, 8 << 20});
  CHECK(d.remove_on_exit);
  CHECK(d.health_window == 30s);
  CHECK(d.client_timeout == 500ms);
  CHECK(d.effective_lock_file() == "/tmp/stella-test/lock");
  CHECK(d.pid_file == std::filesystem::path("/tmp/stella-test/pid"));

  REQUIRE(c.segments.size() == 2);
  const SegmentConfig& e = c.segments[0];
  CHECK(e.mode == RingMode::block);
  CHECK(e.capacity == 65536);
  CHECK(e.max_readers == 1024);
  CHECK(e.max_writers == 1);
  CHECK(e.permissions == 0640);
  REQUIRE(e.owner);
  CHECK(*e.owner == Account{"root", 0});
  REQUIRE(e.group);
  CHECK(*e.group == Account{"root", 0});
  REQUIRE(e.reader_group);
  CHECK(*e.reader_group == Account{"0", 0});
  CHECK(e.writer_group == Account{"root", 0});
  CHECK(e.remove == RemovePolicy::immediately);
  REQUIRE(e.lag_warning);
  CHECK(e.lag_warning->fraction == 0.25);
  CHECK(e.effective_lag_warning(d).fraction == 0.25);
  const auto perms = e.platform_permissions();
  CHECK(perms.mode == 0640);
  CHECK(perms.uid == 0U);
  CHECK(perms.gid == 0U);

  const SegmentConfig& o = c.segments[1];
  CHECK(o.capacity == 1ULL << 40);  // the maximum is allowed
  CHECK(o.permissions == 0666);     // accepted because allow_world_writable = true
}

TEST_CASE("config_keys: stall_eviction = \"off\" and the other log levels") {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    const Config c = load_ok(std::string("version = 1\n[daemon]\nstall_eviction = \"off\"\nlog_level = \"") + level +
                             "\"\n");
    CHECK_FALSE(c.daemon.stall_eviction);
    CHECK(to_string(c.daemon.log_level) == level);
  }
}

TEST_CASE("config_keys: segments may be written as an inline array of tables") {
  const Config c = load_ok(R"(version = 1
segment = [ { name = "a", kind = "blob", capacity = "4KiB" } ]
)");
  REQUIRE(c.segments.size() == 1);
  CHECK(c.segments[0].name == "a");
}

TEST_CASE("config_lock_file: follows a socket overridden after loading") {
  Config c = load_ok("version = 1\n");
  c.daemon.socket = "/tmp/x/stellad.sock";
  CHECK(c.daemon.effective_lock_file() == "/tmp/x/stellad.sock.lock");
}

TEST_CASE("config_load: load_string, load_stream and load_file agree; errors throw ConfigError") {
  const std::string text = "version = 1\n[[segment]]\nname = \"a\"\nkind = \"ring\"\ncapacity = \"4KiB\"\n";
  const Config from_string = load_string(text, "s.toml");
  std::istringstream in(text);
  const Config from_stream = load_stream(in, "s.toml");
  const auto dir = std::filesystem::temp_directory_path() / ("stella-config-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "s.toml";
  { std::ofstream(file) << text; }
  const Config from_file = load_file(file);
  CHECK(from_file.source == file.string());
  for (const Config* c : {&from_string, &from_stream, &from_file}) {
    REQUIRE(c->segments.size() == 1);
    CHECK(c->segments[0].capacity == 4096);
  }
  CHECK(check_file(file).empty());

  { std::ofstream(file) << "version = 1\nbogus = 1\n"; }
  try {
    (void)load_file(file);
    FAIL("load_file accepted an unknown key");
  } catch (const ConfigError& e) {
    REQUIRE(e.problems().size() == 1);
    CHECK(e.problems()[0].file == file.string());
    CHECK(std::string(e.what()) == file.string() + ":2:1: bogus: unknown key \"bogus\" in the top level");
  }
  std::filesystem::remove_all(dir);

  const auto missing = check_file(dir / "missing.toml");
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].line == 0);
  CHECK(missing[0].to_string() == (dir / "missing.toml").string() + ": cannot read the config: No such file or directory");
  CHECK_THROWS_AS((void)load_file(dir / "missing.toml"), ConfigError);
  const auto directory = check_file(std::filesystem::temp_directory_path());
  REQUIRE(directory.size() == 1);
  CHECK(directory[0].message.find("is a directory") != std::string::npos);
}

TEST_CASE("config_summary: names every segment and the daemon's settings") {
  const Config c = load_ok(R"(version = 1
[daemon]
stall_eviction = "30s"
[[segment]]
name = "telemetry"
kind = "ring"
capacity = "64MiB"
group = "root"
[[segment]]
name = "settings"
kind = "blob"
capacity = "64KiB"
)");
  const std::string s = summary(c);
  INFO(s);
  CHECK(s.find("t.toml: valid (config version 1)") != std::string::npos);
  CHECK(s.find("/run/stella/stellad.sock (mode 0660)") != std::string::npos);
  CHECK(s.find("stall eviction    30s") != std::string::npos);
  CHECK(s.find("segments (2):") != std::string::npos);
  CHECK(s.find("telemetry: ring, 64 MiB, overwrite, max_readers 32, max_writers 64") != std::string::npos);
  CHECK(s.find("group root(0)") != std::string::npos);
  CHECK(s.find("settings: blob, 64 KiB, permissions 0660") != std::string::npos);
}

TEST_CASE("config_problem: to_string leaves out what is absent") {
  CHECK(Problem{"f.toml", 3, 7, "daemon.socket", "bad"}.to_string() == "f.toml:3:7: daemon.socket: bad");
  CHECK(Problem{"f.toml", 3, 7, "", "bad"}.to_string() == "f.toml:3:7: bad");
  CHECK(Problem{"f.toml", 0, 0, "", "cannot read"}.to_string() == "f.toml: cannot read");
  const ConfigError e({Problem{"a", 1, 1, "k", "one"}, Problem{"a", 2, 1, "k", "two"}});
  CHECK(std::string(e.what()) == "a:1:1: k: one\na:2:1: k: two");
}
