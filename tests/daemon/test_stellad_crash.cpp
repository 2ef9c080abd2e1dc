// stellad and crashes, with real processes and real kill -9:
//  - stellad itself killed while a writer and a reader run: the data path goes on, a
//    restarted stellad adopts the segments, and no message is lost (Block ring, counted);
//  - a writer killed mid-write (holding the turn, or holding a claimed record) and a reader
//    killed in a full Block ring are repaired by the daemon's reaper (the helpers never
//    repair anything themselves: their recovery timeout is 10 minutes), and status counts it;
//  - a live writer stopped (SIGSTOP) inside a record is named by status as what stalls the
//    ring, and a write with a timeout behind it returns on time.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "daemon_test_util.hpp"
#include "stella/ring.hpp"
#include "stella/common/platform/shm.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;
namespace proto = stella::daemon::protocol;

namespace {

const std::string kFast = "reap_interval = \"20ms\"\nrecovery_timeout = \"200ms\"\n";

std::vector<std::string> args(std::initializer_list<std::string> list) { return list; }

}  // namespace

TEST_CASE("kill -9 stellad while a writer and a reader run: the data goes on, a restart adopts, nothing is lost") {
  const std::string ring = test::unique_name("k9");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("k9", kFast, test::ring_segment(ring, "16KiB", "block"));
  d.start();

  constexpr std::uint64_t kCount = 30000;  // 3 phases of 10000 64-byte messages: many laps of 16 KiB
  test::ReadyPipe ready, phases;
  test::GoPipe go1, go2;
  const std::string reader_out = test::temp_path("k9-reader"), writer_out = test::temp_path("k9-writer");
  test::Child reader(DAEMON_PROC, args({"reader", ring, "1", std::to_string(kCount), "--ready-fd",
                                       std::to_string(ready.write_fd())}),
                     reader_out);
  REQUIRE(ready.read_line() == "ready");
  test::Child writer(DAEMON_PROC,
                     args({"writer", ring, "1", std::to_string(kCount), "--phase-fd", std::to_string(phases.write_fd()),
                           "--phase-every", "10000", "--go-fds",
                           std::to_string(go1.read_fd()) + "," + std::to_string(go2.read_fd())}),
                     writer_out);
  phases.close_write();
  REQUIRE(phases.read_line(60s) == "phase 0");  // 10000 written

  // Status sees both processes; then stellad dies without a chance to clean up anything.
  const auto before = d.segment(ring);
  REQUIRE(before);
  REQUIRE(before->readers.size() == 1);
  CHECK(before->readers[0].pid == static_cast<std::uint64_t>(reader.pid()));
  d.proc().kill(SIGKILL);
  CHECK(d.proc().wait(10s) == 128 + SIGKILL);
  CHECK(platform::MappedObject::exists(ring));

  // Without a daemon, 10000 more messages go through a 16 KiB Block ring: the reader reads
  // them (the writer could not finish otherwise).
  go1.release();
  REQUIRE(phases.read_line(60s) == "phase 1");

  // A restarted stellad adopts the live ring (stale socket, lock released by the kernel).
  d.start();
  CHECK(d.log().find("segment '" + ring + "': adopted") != std::string::npos);
  const auto after = d.segment(ring);
  REQUIRE(after);
  CHECK(after->state == "live");
  REQUIRE(after->readers.size() == 1);
  CHECK(after->readers[0].pid == static_cast<std::uint64_t>(reader.pid()));  // the same object, not a new one
  CHECK(after->write_position >= before->write_position);
  go2.release();

  CHECK(writer.wait(120s) == 0);
  CHECK(reader.wait(120s) == 0);
  const std::string result = test::read_file(reader_out);
  INFO(result);
  CHECK(test::result_field(result, "read") == std::to_string(kCount));
  CHECK(test::result_field(result, "lost") == "0");
  CHECK(test::result_field(result, "order_errors") == "0");
  CHECK(test::result_field(result, "torn") == "0");
  const auto last = d.segment(ring);
  REQUIRE(last);
  CHECK(last->next_sequence == kCount);
  CHECK(d.stop() == 0);
  std::remove(reader_out.c_str());
  std::remove(writer_out.c_str());
}

TEST_CASE("a writer killed mid-write is repaired by stellad's reaper; status shows the counts") {
  // claim: between reserving and committing; reserved: right after the fetch_add, before the
  // writer recorded its position (recovery finds it by walking from the bound).
  for (const std::string where : {"claim", "reserved"}) {
    CAPTURE(where);
    const std::string ring = test::unique_name("midwrite-" + where);
    test::SegmentCleanup cleanup(ring);
    test::Stellad d("midwrite", kFast, test::ring_segment(ring, "16KiB", "block"));
    d.start();
    constexpr int kCount = 2000;  // more than the ring holds: the good writer must get past the dead one
    test::ReadyPipe ready;
    const std::string reader_out = test::temp_path("mw-reader");
    test::Child reader(DAEMON_PROC, args({"reader", ring, "2", std::to_string(kCount), "--ready-fd",
                                         std::to_string(ready.write_fd())}),
                       reader_out);
    REQUIRE(ready.read_line() == "ready");
    test::Child hung(DAEMON_PROC, args({"hang-writer", ring, "1", where, "--ready-fd", std::to_string(ready.write_fd())}));
    REQUIRE(ready.read_line() == "paused");
    const std::string good_out = test::temp_path("mw-writer");
    test::Child good(DAEMON_PROC, args({"writer", ring, "2", std::to_string(kCount)}), good_out);

    // While the dead-to-be writer holds its reservation, the good writer never waits for it
    // to reserve: it fills the ring (Block), which the reader cannot drain past the
    // unfinished record.
    CHECK(test::eventually([&] {
      const auto s = d.segment(ring);
      if (!s || s->writers.size() != 2 || s->readers.size() != 1) return false;
      return s->readers[0].lag_bytes > 16384 - 512;
    }));
    const auto stuck = d.segment(ring);
    REQUIRE(stuck);
    CHECK(stuck->counters.records_repaired == 0);
    CHECK(good.running());

    hung.kill(SIGKILL);
    CHECK(hung.wait(10s) == 128 + SIGKILL);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(test::eventually([&] {
      const auto s = d.segment(ring);
      return s && s->counters.writers_reaped >= 1;
    }));
    MESSAGE("repaired " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
                        << " ms after the kill (reap interval 20 ms)");
    CHECK(good.wait(120s) == 0);
    CHECK(reader.wait(120s) == 0);
    INFO(test::read_file(reader_out));
    CHECK(test::result_field(test::read_file(reader_out), "read") == std::to_string(kCount));

    const auto s = d.segment(ring);
    REQUIRE(s);
    CHECK(s->counters.records_repaired == 1);
    CHECK(d.log().find("segment '" + ring + "': recovery: repaired 1 reservation(s)") != std::string::npos);
    CHECK(s->counters.writers_reaped == 1);
    CHECK(s->daemon_recoveries >= 1);
    CHECK(d.log().find("segment '" + ring + "': reaped 1 dead writer(s) (pid " + std::to_string(hung.pid())) !=
          std::string::npos);
    // A recovery this recent makes the daemon report degraded, and the table shows the counts.
    const auto table = test::run_command(STELLAD, {"status", "--socket", d.socket()});
    CHECK(table.exit_code == 1);
    CHECK(table.out.find("recovered from a crashed process") != std::string::npos);
    CHECK(d.stop() == 0);
    std::remove(reader_out.c_str());
    std::remove(good_out.c_str());
  }
}

TEST_CASE("a reader killed in a full Block ring is reaped by stellad and the writer goes on") {
  const std::string ring = test::unique_name("deadreader");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("deadreader", kFast, test::ring_segment(ring, "16KiB", "block"));
  d.start();
  test::ReadyPipe ready;
  test::Child idle(DAEMON_PROC, args({"idle-reader", ring, "--ready-fd", std::to_string(ready.write_fd())}));
  REQUIRE(ready.read_line() == "ready");
  constexpr int kCount = 2000;  // 2000 x 80-byte records: many times the 16 KiB ring
  const std::string writer_out = test::temp_path("dr-writer");
  test::Child writer(DAEMON_PROC, args({"writer", ring, "1", std::to_string(kCount)}), writer_out);

  // The ring fills up: the idle reader lags by almost the whole ring, and status says degraded.
  CHECK(test::eventually([&] {
    const auto s = d.segment(ring);
    return s && s->readers.size() == 1 && s->readers[0].lag_bytes > 16384 - 256;
  }));
  CHECK(writer.running());
  const auto lagging = test::run_command(STELLAD, {"status", "--socket", d.socket()});
  CHECK(lagging.exit_code == 1);
  CHECK(lagging.out.find("LAGGING") != std::string::npos);

  idle.kill(SIGKILL);
  CHECK(idle.wait(10s) == 128 + SIGKILL);
  CHECK(writer.wait(120s) == 0);  // only the daemon's reaping lets it finish
  const auto s = d.segment(ring);
  REQUIRE(s);
  CHECK(s->counters.readers_reaped == 1);
  CHECK(s->counters.reaps() == 1);
  CHECK(s->readers.empty());
  CHECK(d.log().find("segment '" + ring + "': reaped 1 dead reader(s) (pid " + std::to_string(idle.pid()) + ")") !=
        std::string::npos);
  const auto json = test::run_command(STELLAD, {"status", "--socket", d.socket(), "--json"});
  CHECK(json.out.find("\"readers_reaped\": 1") != std::string::npos);
  CHECK(d.stop() == 0);
  std::remove(writer_out.c_str());
}

TEST_CASE("stall_eviction: a live reader stalled past the limit is evicted, logged, and status is degraded") {
  const std::string ring = test::unique_name("evict");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("evict", kFast + "stall_eviction = \"300ms\"\n", test::ring_segment(ring, "16KiB", "block"));
  d.start();
  test::ReadyPipe ready;
  test::Child idle(DAEMON_PROC, args({"idle-reader", ring, "--ready-fd", std::to_string(ready.write_fd())}));
  REQUIRE(ready.read_line() == "ready");
  const std::string writer_out = test::temp_path("ev-writer");
  test::Child writer(DAEMON_PROC, args({"writer", ring, "1", "10"}), writer_out);
  CHECK(writer.wait(60s) == 0);  // 10 messages fit: the reader now has data it does not read

  CHECK(test::eventually([&] {
    const auto s = d.segment(ring);
    return s && s->counters.readers_evicted == 1;
  }));
  CHECK(d.log_contains("segment '" + ring + "': evicted 1 live reader(s) stalled longer than 300ms"));
  CHECK(idle.running());  // evicted, not killed: it is told when it reads again
  const auto r = test::run_command(STELLAD, {"status", "--socket", d.socket()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("EVICTED") != std::string::npos);
  CHECK(d.stop() == 0);
  std::remove(writer_out.c_str());
}

TEST_CASE("a live writer stopped inside a record: status names it, a write with a timeout behind it returns on time") {
  const std::string ring = test::unique_name("stopped");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("stopped", kFast, test::ring_segment(ring, "16KiB", "overwrite"));
  d.start();
  test::ReadyPipe ready;
  test::Child hung(DAEMON_PROC, args({"hang-writer", ring, "1", "claim", "--ready-fd", std::to_string(ready.write_fd())}));
  REQUIRE(ready.read_line() == "paused");
  hung.kill(SIGSTOP);  // alive, stopped, holding its claimed record: recovery must not touch it
  const std::string who = "writer pid " + std::to_string(hung.pid()) + " (slot ";
  auto stalled_by_it = [&](const proto::StatusReport& r) {
    return std::any_of(r.problems.begin(), r.problems.end(), [&](const std::string& p) {
      return p.find("segment '" + ring + "': stalled: " + who) != std::string::npos &&
             p.find("has held an unfinished record at position 0") != std::string::npos;
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(test::eventually([&] { return stalled_by_it(d.status()); }));
  MESSAGE("reported " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
                      << " ms after the stop (bound: recovery_timeout 200 ms + 2 x reap interval 20 ms, plus load)");
  const auto table = test::run_command(STELLAD, {"status", "--socket", d.socket()});
  CHECK(table.exit_code == 1);
  CHECK(table.out.find("! stalled: " + who) != std::string::npos);
  CHECK(d.log_contains("segment '" + ring + "': stalled: " + who));
  CHECK(d.segment(ring)->counters.records_repaired == 0);  // alive: nothing taken from it

  // Overwrite: another writer fills a lap, then would overwrite the stopped writer's record.
  // Its write with a timeout gives up on time, and says so.
  RingOptions o;
  o.recovery_timeout = 10min;  // only the timeout can end the wait
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Open, 0, WriteBehavior::Overwrite, o);
  const std::vector<std::byte> msg(64, std::byte{0x5A});
  std::optional<std::chrono::steady_clock::duration> timed_out_after;
  for (int i = 0; i < 10'000 && !timed_out_after; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const WriteResult res = w.write_bytes(msg, 300ms);
    if (res == WriteResult::Timeout) timed_out_after = std::chrono::steady_clock::now() - start;
    if (res != WriteResult::Ok && res != WriteResult::Timeout) FAIL("unexpected write result");
  }
  REQUIRE(timed_out_after);
  CHECK(*timed_out_after >= 300ms);
  CHECK(*timed_out_after < 300ms + 10s);  // a hang detector, with room for a loaded machine
  MESSAGE("the write behind the stopped writer returned Timeout after "
          << std::chrono::duration_cast<std::chrono::milliseconds>(*timed_out_after).count() << " ms (timeout 300 ms)");
  const auto behind = d.status();
  CHECK(stalled_by_it(behind));

  // Gone for good: repaired, and no longer reported as a stall.
  hung.kill(SIGKILL);
  CHECK(hung.wait(10s) == 128 + SIGKILL);
  CHECK(test::eventually([&] {
    const auto s = d.segment(ring);
    return s && s->counters.writers_reaped == 1 && s->stalls.empty();
  }));
  CHECK(w.write_bytes(msg, 5s) == WriteResult::Ok);
  CHECK(d.stop() == 0);
}
