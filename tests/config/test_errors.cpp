// Every kind of problem, with its exact line:column and key path, and all of them at once.
#include <doctest/doctest.h>

#include "config_test_util.hpp"

using namespace stella::config;
using stella::config::test::dump;
using stella::config::test::expect_only;
using stella::config::test::problems_of;

namespace {
// A valid ring, to which each case adds one bad line (line 6 of the text).
std::string ring_with(const std::string& line) {
  return "version = 1\n[[segment]]\nname = \"r\"\nkind = \"ring\"\ncapacity = \"1MiB\"\n" + line + "\n";
}
std::string blob_with(const std::string& line) {
  return "version = 1\n[[segment]]\nname = \"b\"\nkind = \"blob\"\ncapacity = \"1MiB\"\n" + line + "\n";
}
std::string daemon_with(const std::string& line) { return "version = 1\n[daemon]\n" + line + "\n"; }
}  // namespace

TEST_CASE("config_errors: version is required, an integer, and 1") {
  expect_only("[daemon]\n", 1, 1, "version", "missing required key \"version\"");
  expect_only("version = 2\n", 1, 11, "version", "unsupported config version 2 (this stellad reads version 1)");
  expect_only("version = \"1\"\n", 1, 11, "version", "expected an integer (1), found a string (\"1\")");
}

TEST_CASE("config_errors: TOML syntax errors carry toml++'s position") {
  expect_only("version = 1\n[daemon\n", 2, 8, "", "TOML syntax error");
  expect_only("version = 1\nversion = 1\n", 2, 11, "", "cannot redefine");
}

TEST_CASE("config_errors: unknown keys at every level, with did-you-mean") {
  expect_only("version = 1\nsegments = 1\n", 2, 1, "segments", "unknown key \"segments\" in the top level (did you mean \"segment\"?)");
  expect_only("version = 1\nsocket = \"/x\"\n", 2, 1, "socket", "(it belongs in [daemon])");
  expect_only("version = 1\n[deamon]\n", 2, 2, "deamon", "did you mean \"daemon\"?");
  expect_only(daemon_with("sockt = \"/x\""), 3, 1, "daemon.sockt", "unknown key \"sockt\" in [daemon] (did you mean \"socket\"?)");
  expect_only(daemon_with("max_readers = 3"), 3, 1, "daemon.max_readers", "(it belongs in a [[segment]])");
  expect_only(daemon_with("frobnicate = true"), 3, 1, "daemon.frobnicate", "unknown key \"frobnicate\" in [daemon]");
  expect_only(ring_with("  capasity = 5"), 6, 3, "segment[0].capasity", "(did you mean \"capacity\"?)");
  expect_only(ring_with("readers = 5"), 6, 1, "segment[0].readers", "(did you mean \"max_readers\"?)");
  expect_only(ring_with("reap_interval = \"1s\""), 6, 1, "segment[0].reap_interval", "(it belongs in [daemon])");
  expect_only(ring_with("mode.x = 1"), 6, 1, "segment[0].mode", "expected a string, one of overwrite or block, found a table");
}

TEST_CASE("config_errors: wrong types name what was expected and what was found") {
  expect_only(daemon_with("socket = 5"), 3, 10, "daemon.socket", "expected a path string, found an integer (5)");
  expect_only(daemon_with("remove_on_exit = \"yes\""), 3, 18, "daemon.remove_on_exit",
              "expected a boolean (true or false), found a string (\"yes\")");
  expect_only(daemon_with("log_level = 3"), 3, 13, "daemon.log_level", "found an integer (3)");
  expect_only(daemon_with("lag_warning = true"), 3, 15, "daemon.lag_warning", "found a boolean (true)");
  expect_only(ring_with("max_readers = \"32\""), 6, 15, "segment[0].max_readers", "expected an integer, found a string (\"32\")");
  expect_only(ring_with("max_writers = 2.0"), 6, 15, "segment[0].max_writers", "found a float (2.0)");
  expect_only(ring_with("group = [\"a\"]"), 6, 9, "segment[0].group", "found an array");
  expect_only(ring_with("allow_world_writable = 1"), 6, 24, "segment[0].allow_world_writable", "expected a boolean");
  expect_only("version = 1\ndaemon = 1\n", 2, 10, "daemon", "expected a table ([daemon])");
  expect_only("version = 1\nsegment = 1\n", 2, 11, "segment", "expected an array of tables");
  expect_only("version = 1\nsegment = [1]\n", 2, 12, "segment[0]", "expected a table ([[segment]]), found an integer (1)");
  expect_only("version = 1\n[segment]\nname = \"a\"\n", 2, 1, "segment", "not [segment]");
  expect_only("version = 1\n[daemon]\nreap_interval = 1979-05-27\n", 3, 17, "daemon.reap_interval", "found a date");
}

TEST_CASE("config_errors: missing required keys point at the [[segment]] header") {
  const auto problems = problems_of("version = 1\n\n[[segment]]\npermissions = \"0660\"\n");
  INFO(dump(problems));
  REQUIRE(problems.size() == 3);
  for (const Problem& p : problems) {
    CHECK(p.line == 3);
    CHECK(p.column == 1);
  }
  CHECK(problems[0].key == "segment[0].name");
  CHECK(problems[1].key == "segment[0].kind");
  CHECK(problems[2].key == "segment[0].capacity");
  CHECK(problems[0].message.find("missing required key \"name\"") != std::string::npos);
}

TEST_CASE("config_errors: duplicate segment names report both locations") {
  const std::string text = R"(version = 1
[[segment]]
name = "t"
kind = "ring"
capacity = "1MiB"
[[segment]]
name = "u"
kind = "blob"
capacity = 8
[[segment]]
  name = "t"
kind = "blob"
capacity = 8
)";
  expect_only(text, 11, 10, "segment[2].name",
              "duplicate segment name \"t\" (first defined at t.toml:3:8 as segment[0].name)");
}

TEST_CASE("config_errors: invalid segment names use the common naming rule") {
  expect_only("version = 1\n[[segment]]\nname = \"a/b\"\nkind = \"blob\"\ncapacity = 8\n", 3, 8, "segment[0].name",
              "invalid segment name \"a/b\": a segment name is not a path");
  expect_only("version = 1\n[[segment]]\nname = \"a b\"\nkind = \"blob\"\ncapacity = 8\n", 3, 8, "segment[0].name",
              "outside [A-Za-z0-9._-]");
  expect_only("version = 1\n[[segment]]\nname = \"..\"\nkind = \"blob\"\ncapacity = 8\n", 3, 8, "segment[0].name",
              "\"..\"");
}

TEST_CASE("config_errors: bad units and impossible sizes") {
  auto ring_capacity = [](const std::string& value) {
    return "version = 1\n[[segment]]\nname = \"r\"\nkind = \"ring\"\ncapacity = " + value + "\n";
  };
  auto blob_capacity = [](const std::string& value) {
    return "version = 1\n[[segment]]\nname = \"b\"\nkind = \"blob\"\ncapacity = " + value + "\n";
  };
  expect_only(ring_capacity("\"64MBs\""), 5, 12, "segment[0].capacity",
              "bad unit \"MBs\" (expected B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
  expect_only(ring_capacity("0"), 5, 12, "segment[0].capacity", "capacity must be greater than 0");
  expect_only(blob_capacity("\"0B\""), 5, 12, "segment[0].capacity", "capacity must be greater than 0");
  expect_only(ring_capacity("4100"), 5, 12, "segment[0].capacity", "must be a power of two");
  // A multiple of 8 is not enough: the ring indexes by masking.
  expect_only(ring_capacity("\"12KiB\""), 5, 12, "segment[0].capacity",
              "power of two (the ring indexes by masking), got 12 KiB; the nearest are 8 KiB and 16 KiB");
  expect_only(ring_capacity("\"1000MiB\""), 5, 12, "segment[0].capacity", "the nearest are 512 MiB and 1 GiB");
  // A blob needs no power of two.
  CHECK(problems_of(blob_capacity("\"12KiB\"")).empty());
  expect_only(ring_capacity("4088"), 5, 12, "segment[0].capacity", "at least 4 KiB, got 4088 B");
  expect_only(ring_capacity("\"1025GiB\""), 5, 12, "segment[0].capacity", "exceeds the maximum of 1 TiB");
  expect_only(blob_capacity("\"2TiB\""), 5, 12, "segment[0].capacity", "capacity 2 TiB exceeds the maximum of 1 TiB");
  expect_only(blob_capacity("1099511627777"), 5, 12, "segment[0].capacity", "exceeds the maximum of 1 TiB");
  expect_only(blob_capacity("-4096"), 5, 12, "segment[0].capacity", "cannot be negative");
  expect_only(blob_capacity("1.5"), 5, 12, "segment[0].capacity", "found a float (1.5)");
  // The boundaries themselves are fine.
  CHECK(problems_of(ring_capacity("4096")).empty());
  CHECK(problems_of(ring_capacity("\"1TiB\"")).empty());
  CHECK(problems_of(blob_capacity("1")).empty());
  CHECK(problems_of(blob_capacity("\"1TiB\"")).empty());
  // An unknown kind still gets the checks that do not depend on it.
  const auto problems = problems_of("version = 1\n[[segment]]\nname = \"x\"\nkind = \"rung\"\ncapacity = 0\n");
  INFO(dump(problems));
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].message.find("did you mean \"ring\"") != std::string::npos);
  CHECK(problems[1].message.find("greater than 0") != std::string::npos);
}

TEST_CASE("config_errors: bad durations, and why a bare integer is refused") {
  expect_only(daemon_with("reap_interval = 100"), 3, 17, "daemon.reap_interval",
              "found the bare integer 100: a duration needs a unit (ns, us, ms, s, m, h), since the unit of a bare number "
              "would be a guess");
  expect_only(daemon_with("reap_interval = \"100\""), 3, 17, "daemon.reap_interval", "has no unit");
  expect_only(daemon_with("reap_interval = \"0ms\""), 3, 17, "daemon.reap_interval", "must be greater than 0");
  expect_only(daemon_with("recovery_timeout = \"1sec\""), 3, 20, "daemon.recovery_timeout", "bad duration unit \"sec\"");
  expect_only(daemon_with("stall_eviction = \"never\""), 3, 18, "daemon.stall_eviction", "starts with a whole number");
  expect_only(daemon_with("stall_eviction = \"0s\""), 3, 18, "daemon.stall_eviction", "(write \"off\" to disable)");
  expect_only(daemon_with("stall_eviction = 5"), 3, 18, "daemon.stall_eviction", "or \"off\", found the bare integer 5");
}

TEST_CASE("config_errors: bad ring modes, and ring-only keys on a blob") {
  expect_only(ring_with("mode = \"overwite\""), 6, 8, "segment[0].mode",
              "bad value \"overwite\" (expected overwrite or block; did you mean \"overwrite\"?)");
  expect_only(blob_with("mode = \"block\""), 6, 8, "segment[0].mode", "\"mode\" applies to rings only; segment \"b\" is a blob");
  expect_only(blob_with("max_readers = 4"), 6, 15, "segment[0].max_readers", "applies to rings only");
  expect_only(blob_with("max_writers = 4"), 6, 15, "segment[0].max_writers", "applies to rings only");
  expect_only(blob_with("lag_warning = 0.5"), 6, 15, "segment[0].lag_warning", "applies to rings only");
}

TEST_CASE("config_errors: reader and writer limits") {
  expect_only(ring_with("max_readers = 0"), 6, 15, "segment[0].max_readers", "must be between 1 and 1024, got 0");
  expect_only(ring_with("max_readers = 1025"), 6, 15, "segment[0].max_readers", "must be between 1 and 1024, got 1025");
  expect_only(ring_with("max_writers = -1"), 6, 15, "segment[0].max_writers", "must be between 1 and 1024, got -1");
}

TEST_CASE("config_errors: bad permissions") {
  expect_only(ring_with("permissions = 660"), 6, 15, "segment[0].permissions",
              "expected an octal string such as \"0660\", found the decimal integer 660 (write \"0660\" or 0o660)");
  expect_only(ring_with("permissions = \"rw-rw----\""), 6, 15, "segment[0].permissions", "3 or 4 octal digits");
  expect_only(ring_with("permissions = \"0986\""), 6, 15, "segment[0].permissions", "3 or 4 octal digits");
  expect_only(ring_with("permissions = \"66\""), 6, 15, "segment[0].permissions", "3 or 4 octal digits");
  expect_only(ring_with("permissions = \"06600\""), 6, 15, "segment[0].permissions", "3 or 4 octal digits");
  expect_only(ring_with("permissions = \"2660\""), 6, 15, "segment[0].permissions", "setuid, setgid and sticky bits");
  expect_only(ring_with("permissions = 0o1660"), 6, 15, "segment[0].permissions", "setuid, setgid and sticky bits");
  expect_only(daemon_with("socket_mode = \"0x1b6\""), 3, 15, "daemon.socket_mode", "3 or 4 octal digits");
}

TEST_CASE("config_errors: world-writable is refused unless allowed next to it") {
  expect_only(ring_with("permissions = \"0666\""), 6, 15, "segment[0].permissions",
              "\"0666\" makes the segment world-writable (any local user could corrupt it); set allow_world_writable = true");
  expect_only(ring_with("permissions = \"0602\""), 6, 15, "segment[0].permissions", "world-writable");
  CHECK(problems_of(ring_with("permissions = \"0664\"")).empty());  // world-readable is the owner's call
  CHECK(problems_of(ring_with("permissions = \"0666\"\nallow_world_writable = true")).empty());
  expect_only(daemon_with("socket_mode = \"0777\""), 3, 15, "daemon.socket_mode",
              "makes the socket world-writable (any local user could connect to it)");
  CHECK(problems_of(daemon_with("socket_mode = \"0777\"\nallow_world_writable = true")).empty());
}

TEST_CASE("config_errors: bad enum values") {
  expect_only(daemon_with("log_level = \"verbose\""), 3, 13, "daemon.log_level",
              "bad value \"verbose\" (expected trace, debug, info, warn, error, critical or off)");
  expect_only(daemon_with("log_level = \"warning\""), 3, 13, "daemon.log_level", "did you mean \"warn\"?");
  expect_only("version = 1\n[[segment]]\nname = \"x\"\nkind = \"Ring\"\ncapacity = 8\n", 4, 8, "segment[0].kind",
              "bad value \"Ring\" (expected ring or blob; did you mean \"ring\"?)");
  expect_only(ring_with("remove = \"when_unused\""), 6, 10, "segment[0].remove",
              "(expected when-unused or immediately; did you mean \"when-unused\"?)");
}

TEST_CASE("config_errors: unknown groups and users, with the location") {
  expect_only(ring_with("group = \"stella-test-no-such-group\""), 6, 9, "segment[0].group",
              "unknown group \"stella-test-no-such-group\" (no such group on this host)");
  expect_only(ring_with("owner = \"stella-test-no-such-user\""), 6, 9, "segment[0].owner",
              "unknown user \"stella-test-no-such-user\"");
  expect_only(ring_with("reader_group = \"stella-test-no-such-group\""), 6, 16, "segment[0].reader_group", "unknown group");
  expect_only(ring_with("writer_group = \"\""), 6, 16, "segment[0].writer_group", "must not be empty");
  expect_only(ring_with("owner = 4294967295"), 6, 9, "segment[0].owner", "out of range");
}

TEST_CASE("config_errors: paths must be absolute and a socket path must fit sun_path") {
  expect_only(daemon_with("socket = \"stellad.sock\""), 3, 10, "daemon.socket", "must be an absolute path");
  expect_only(daemon_with("socket = \"/" + std::string(107, 's') + "\""), 3, 10, "daemon.socket",
              "at most 107 bytes, this one has 108");
  CHECK(problems_of(daemon_with("socket = \"/" + std::string(106, 's') + "\"")).empty());
  expect_only(daemon_with("lock_file = \"\""), 3, 13, "daemon.lock_file", "must not be empty");
  expect_only(daemon_with("pid_file = \"run/pid\""), 3, 12, "daemon.pid_file", "must be an absolute path");
}

TEST_CASE("config_errors: bad type tags (schema)") {
  expect_only(ring_with("schema = \"has space\""), 6, 10, "segment[0].schema",
              "a type tag is up to 24 characters of [A-Za-z0-9._:@/+-], e.g. \"market.Quote@2\"; got \"has space\"");
  expect_only(blob_with("schema = \"a-tag-that-is-much-too-long-to-fit\""), 6, 10, "segment[0].schema", "got \"a-tag-that");
  expect_only(ring_with("schema = 7"), 6, 10, "segment[0].schema", "expected a string");
  CHECK(stella::config::test::load_ok(ring_with("schema = \"market.Quote@2\"")).segments.at(0).schema == "market.Quote@2");
}

TEST_CASE("config_errors: bad lag thresholds") {
  expect_only(daemon_with("lag_warning = 0.0"), 3, 15, "daemon.lag_warning", "must be in (0, 1], got 0");
  expect_only(daemon_with("lag_warning = 1.5"), 3, 15, "daemon.lag_warning", "must be in (0, 1], got 1.5");
  expect_only(daemon_with("lag_warning = nan"), 3, 15, "daemon.lag_warning", "must be in (0, 1]");
  expect_only(daemon_with("lag_warning = \"0B\""), 3, 15, "daemon.lag_warning", "must be greater than 0");
  expect_only(ring_with("lag_warning = \"1Mb\""), 6, 15, "segment[0].lag_warning", "bad unit \"Mb\"");
  CHECK(problems_of(daemon_with("lag_warning = 1.0")).empty());
  CHECK(problems_of(daemon_with("lag_warning = 4096")).empty());
}

TEST_CASE("config_errors: every problem is reported at once, in file order") {
  const std::string text = R"(version = 3
[daemon]
reap_interval = 100
log_level = "loud"
colour = "blue"

[[segment]]
name = "telemetry"
kind = "ring"
capacity = "64MBs"
mode = "sometimes"
permissions = "0777"
group = "stella-test-no-such-group"

[[segment]]
name = "telemetry"
kind = "blob"
capacity = 0
max_readers = 3

[[segment]]
kind = "ring"
capacity = "4KiB"
)";
  const auto problems = problems_of(text);
  INFO(dump(problems));
  struct Expected {
    int line;
    int column;
    const char* key;
  };
  const Expected expected[] = {
      {1, 11, "version"},
      {3, 17, "daemon.reap_interval"},
      {4, 13, "daemon.log_level"},
      {5, 1, "daemon.colour"},
      {10, 12, "segment[0].capacity"},
      {11, 8, "segment[0].mode"},
      {12, 15, "segment[0].permissions"},
      {13, 9, "segment[0].group"},
      {16, 8, "segment[1].name"},
      {18, 12, "segment[1].capacity"},
      {19, 15, "segment[1].max_readers"},
      {21, 1, "segment[2].name"},
  };
  REQUIRE(problems.size() == std::size(expected));
  for (std::size_t i = 0; i < problems.size(); ++i) {
    CAPTURE(i);
    CHECK(problems[i].line == expected[i].line);
    CHECK(problems[i].column == expected[i].column);
    CHECK(problems[i].key == expected[i].key);
  }
  // And loading throws with all of them.
  try {
    (void)load_string(text, "t.toml");
    FAIL("accepted a bad config");
  } catch (const ConfigError& e) {
    CHECK(e.problems() == problems);
  }
}
