// stellad is honest about failures (issue 14), end to end with the real binary:
//  - a refused reload (invalid config) and a failed one (a new segment that does not fit
//    /dev/shm) make status degraded, with when and why, until a reload succeeds;
//  - a configured segment that does not exist is listed as missing, with the reason;
//  - `status --config FILE` reaches the daemon although FILE has errors elsewhere, and has
//    an exit code of its own when FILE does not say which socket;
//  - a `stellad run` that fails part-way removes the segments it created (never the ones it
//    adopted), its pid file and its socket.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "daemon_test_util.hpp"
#include "stella/common/platform/shm.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace proto = stella::daemon::protocol;

namespace {

const std::string kFast = "reap_interval = \"20ms\"\nrecovery_timeout = \"200ms\"\n";

// Larger than any /dev/shm: creating it fails at once with "not enough shared memory".
const std::string kHuge = "1TiB";

test::CommandResult status_of(const std::vector<std::string>& args) {
  std::vector<std::string> all{"status"};
  all.insert(all.end(), args.begin(), args.end());
  return test::run_command(STELLAD, all, 30s);
}

}  // namespace

TEST_CASE("stellad reload: a refused or failed reload makes status degraded, with when and why, until one succeeds") {
  const std::string keep = test::unique_name("rf-keep"), huge = test::unique_name("rf-huge");
  test::SegmentCleanup cleanup({keep, huge});
  test::Stellad d("reload-fail", kFast, test::ring_segment(keep, "4KiB", "overwrite"));
  d.start();
  CHECK(status_of({"--socket", d.socket()}).exit_code == proto::kExitHealthy);

  // 1. Refused: an invalid config. The running one is kept, and status says so.
  d.rewrite_config("reap_interval = \"soon\"\n", test::ring_segment(keep, "4KiB", "overwrite"));
  d.proc().kill(SIGHUP);
  REQUIRE(d.log_contains("reload refused"));
  REQUIRE(test::eventually([&] { return d.status().daemon.reload_failures == 1; }));
  {
    const auto table = status_of({"--socket", d.socket()});
    INFO(table.out << table.err);
    CHECK(table.exit_code == proto::kExitDegraded);
    CHECK(table.out.find("degraded") != std::string::npos);
    CHECK(table.out.find("the last reload, at ") != std::string::npos);
    CHECK(table.out.find(" UTC (") != std::string::npos);
    CHECK(table.out.find("failed: refused") != std::string::npos);
    CHECK(table.out.find("stella.toml:5:17") != std::string::npos);  // the problem, with its position
    CHECK(table.out.find("the running config is not " + d.config()) != std::string::npos);
    CHECK(table.out.find("reloads: 0 (1 failed)") != std::string::npos);
    const auto json = status_of({"--socket", d.socket(), "--json"});
    CHECK(json.exit_code == proto::kExitDegraded);
    const auto j = nlohmann::json::parse(json.out);
    CHECK(j["health"] == "degraded");
    CHECK(j["daemon"]["reload_failures"] == 1);
    const auto failed_at = j["daemon"]["reload_failed_unix_ns"].get<std::uint64_t>();
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    CHECK(failed_at > now - 60'000'000'000ULL);
    CHECK(failed_at <= now);
    CHECK(j["daemon"]["reload_error"].get<std::string>().find("reap_interval") != std::string::npos);
  }

  // 2. A good reload clears it.
  d.rewrite_config(kFast, test::ring_segment(keep, "4KiB", "overwrite"));
  d.proc().kill(SIGHUP);
  REQUIRE(test::eventually([&] { return d.status().daemon.reloads == 1; }));
  {
    const auto s = d.status();
    CHECK(s.health == proto::Health::healthy);
    CHECK(s.daemon.reload_failed_unix_ns == 0);
    CHECK(s.daemon.reload_error.empty());
    CHECK(s.daemon.reload_failures == 1);  // the history stays counted
  }

  // 3. Failed in part: a new segment that does not fit /dev/shm. The rest is applied; the
  // segment is listed as missing, with the reason, and status is degraded.
  d.rewrite_config(kFast, test::ring_segment(keep, "4KiB", "overwrite") + test::ring_segment(huge, kHuge, "overwrite"));
  d.proc().kill(SIGHUP);
  REQUIRE(test::eventually([&] { return d.status().daemon.reloads == 2; }));
  {
    const auto s = d.status();
    CHECK(s.health == proto::Health::degraded);
    CHECK(s.daemon.reload_failures == 2);
    CHECK(s.daemon.reload_failed_unix_ns != 0);
    CHECK(s.daemon.reload_error.find(huge) != std::string::npos);
    CHECK(s.daemon.reload_error.find("not enough shared memory") != std::string::npos);
    const auto seg = d.segment(huge);
    REQUIRE(seg);
    CHECK(seg->state == "missing");
    CHECK(seg->detail.find("cannot create it") != std::string::npos);
    CHECK(seg->detail.find("not enough shared memory") != std::string::npos);
    CHECK_FALSE(platform::MappedObject::exists(huge));
    const auto table = status_of({"--socket", d.socket()});
    CHECK(table.exit_code == proto::kExitDegraded);
    CHECK(table.out.find("segment '" + huge + "': missing: cannot create it") != std::string::npos);
  }

  // 4. Removing it from the config is a successful reload: healthy again.
  d.rewrite_config(kFast, test::ring_segment(keep, "4KiB", "overwrite"));
  d.proc().kill(SIGHUP);
  REQUIRE(test::eventually([&] { return d.status().daemon.reloads == 3; }));
  CHECK(d.status().health == proto::Health::healthy);
  CHECK_FALSE(d.segment(huge));
  CHECK(d.stop() == 0);
}

TEST_CASE("stellad status: a segment unlinked behind the daemon's back is listed as missing, with the reason") {
  const std::string ring = test::unique_name("gone");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("gone", kFast, test::ring_segment(ring, "4KiB", "overwrite"));
  d.start();
  CHECK(d.status().health == proto::Health::healthy);
  platform::MappedObject::unlink(ring);
  const auto s = d.status();
  CHECK(s.health == proto::Health::degraded);
  const auto seg = d.segment(ring);
  REQUIRE(seg);
  CHECK(seg->state == "missing");
  CHECK(seg->detail.find("no longer exists") != std::string::npos);
  const auto table = status_of({"--socket", d.socket()});
  CHECK(table.exit_code == proto::kExitDegraded);
  CHECK(table.out.find("segment '" + ring + "': missing") != std::string::npos);
  CHECK(d.stop() == 0);
}

TEST_CASE("stellad status --config: errors elsewhere in the file still reach the daemon; no socket to read is exit 3") {
  const std::string ring = test::unique_name("cfgsock");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("cfgsock", kFast, test::ring_segment(ring, "4KiB", "overwrite"));
  d.start();
  CHECK(status_of({"--config", d.config()}).exit_code == proto::kExitHealthy);

  // A typo in a segment (the operator is editing the file): the daemon is asked anyway.
  const std::string typo = d.dir() + "/typo.toml";
  test::write_file(typo, "version = 1\n[daemon]\nsocket = \"" + d.socket() + "\"\n" +
                             test::ring_segment(ring, "4KiB", "overwrite", "max_raeders = 4"));
  const auto r = status_of({"--config", typo});
  INFO(r.out << r.err);
  CHECK(r.exit_code == proto::kExitHealthy);
  CHECK(r.err.find("typo.toml:") != std::string::npos);  // the problem is still shown
  CHECK(r.err.find("max_raeders") != std::string::npos);
  CHECK(r.err.find("asking the daemon on " + d.socket()) != std::string::npos);
  CHECK(r.out.find("healthy") != std::string::npos);

  // No socket to be read: its own exit code, not "unreachable".
  const std::string bad_socket = d.dir() + "/bad-socket.toml";
  test::write_file(bad_socket, "version = 1\n[daemon]\nsocket = 42\n");
  const auto b = status_of({"--config", bad_socket});
  CHECK(b.exit_code == proto::kExitNoSocket);
  CHECK(b.err.find("cannot tell the daemon's socket from " + bad_socket) != std::string::npos);
  const std::string misspelt = d.dir() + "/misspelt.toml";
  test::write_file(misspelt, "version = 1\n[daemon]\nsockett = \"" + d.socket() + "\"\n");
  const auto m = status_of({"--config", misspelt});
  INFO(m.err);
  CHECK(m.exit_code == proto::kExitNoSocket);
  const std::string not_toml = d.dir() + "/not.toml";
  test::write_file(not_toml, "version = = 1\n[daemon\n");
  CHECK(status_of({"--config", not_toml}).exit_code == proto::kExitNoSocket);
  CHECK(status_of({"--config", d.dir() + "/nonexistent.toml"}).exit_code == proto::kExitNoSocket);

  // A valid config of a daemon that is not running: unreachable.
  CHECK(d.stop() == 0);
  const auto gone = status_of({"--config", d.config()});
  CHECK(gone.exit_code == proto::kExitUnreachable);
  CHECK(gone.err.find("unreachable") != std::string::npos);
  // And with the typo: still the daemon's own answer (here: none).
  CHECK(status_of({"--config", typo}).exit_code == proto::kExitUnreachable);
}

TEST_CASE("stellad run that fails part-way removes what it created (never what it adopted), its pid file and socket") {
  const std::string made = test::unique_name("fail-made"), adopted = test::unique_name("fail-adopt"),
                    huge = test::unique_name("fail-huge");
  test::SegmentCleanup cleanup({made, adopted, huge});
  { MultiWriterCircularBuffer pre(adopted, SharedMemoryMode::Create, 4096); }  // exists before stellad
  REQUIRE(platform::MappedObject::exists(adopted));
  test::TempDir dir("run-fail");
  const std::string pid_file = dir.file("stellad.pid"), socket = dir.file("stellad.sock");
  test::write_file(dir.file("stella.toml"), "version = 1\n[daemon]\nsocket = \"" + socket + "\"\npid_file = \"" +
                                                pid_file + "\"\n" + kFast + "\n" +
                                                test::ring_segment(made, "4KiB", "overwrite") +
                                                test::ring_segment(adopted, "4KiB", "overwrite") +
                                                test::ring_segment(huge, kHuge, "overwrite"));
  const auto r = test::run_command(STELLAD, {"run", "--config", dir.file("stella.toml")}, 30s);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("stellad: error: cannot create or open segment '" + huge + "'") != std::string::npos);
  CHECK(r.err.find("not enough shared memory") != std::string::npos);
  CHECK(r.err.find("segment '" + made + "': created") != std::string::npos);
  CHECK(r.err.find("segment '" + adopted + "': adopted") != std::string::npos);
  // What it created is gone; what it adopted stays, untouched.
  CHECK_FALSE(platform::MappedObject::exists(made));
  CHECK_FALSE(platform::MappedObject::exists(huge));
  CHECK(platform::MappedObject::exists(adopted));
  CHECK(r.err.find("segment '" + made + "': unlinked") != std::string::npos);
  CHECK(r.err.find("segment '" + adopted + "': unlinked") == std::string::npos);
  CHECK_FALSE(fs::exists(pid_file));
  CHECK_FALSE(fs::exists(socket));
  // Undone in reverse: the segments go after the failure and before the pid file would.
  CHECK(r.err.find("start-up failed: removing the 1 segment(s) this run created") != std::string::npos);
  { MultiWriterCircularBuffer still(adopted, SharedMemoryMode::Open); }

  // The same config without the impossible segment starts, and stops cleanly, leaving the
  // pid file removed and the segments in place (the normal path).
  test::write_file(dir.file("stella.toml"), "version = 1\n[daemon]\nsocket = \"" + socket + "\"\npid_file = \"" +
                                                pid_file + "\"\n" + kFast + "\n" +
                                                test::ring_segment(made, "4KiB", "overwrite") +
                                                test::ring_segment(adopted, "4KiB", "overwrite"));
  test::Proc ok(STELLAD, {"run", "--config", dir.file("stella.toml")}, "", dir.file("ok.log"));
  REQUIRE(test::eventually([&] {
    const auto q = daemon::query(socket, proto::Command::ping, 1s);
    return q.response && q.response->ok;
  }));
  CHECK(fs::exists(pid_file));
  CHECK(test::read_file(pid_file) == std::to_string(ok.pid()) + "\n");
  ok.kill(SIGTERM);
  CHECK(ok.wait(30s) == 0);
  CHECK_FALSE(fs::exists(pid_file));
  CHECK_FALSE(fs::exists(socket));
  CHECK(platform::MappedObject::exists(made));
  CHECK(platform::MappedObject::exists(adopted));
}

TEST_CASE("stellad run: a start that fails at the status socket removes the segments it created and its pid file") {
  // The socket path is taken by a regular file, which stellad refuses to replace: the
  // failure comes after the segments were created.
  const std::string made = test::unique_name("sockfail");
  test::SegmentCleanup cleanup(made);
  test::TempDir dir("sock-fail");
  const std::string pid_file = dir.file("stellad.pid"), socket = dir.file("stellad.sock");
  test::write_file(socket, "not a socket");
  test::write_file(dir.file("stella.toml"), "version = 1\n[daemon]\nsocket = \"" + socket + "\"\npid_file = \"" +
                                                pid_file + "\"\n" + test::ring_segment(made, "4KiB", "overwrite"));
  const auto r = test::run_command(STELLAD, {"run", "--config", dir.file("stella.toml")}, 30s);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("exists and is not a socket") != std::string::npos);
  CHECK(r.err.find("segment '" + made + "': created") != std::string::npos);
  CHECK_FALSE(platform::MappedObject::exists(made));
  CHECK_FALSE(fs::exists(pid_file));
  CHECK(test::read_file(socket) == "not a socket");  // not ours: left as it was
}
