// Liveness across pid namespaces (issue 13, point 4), with real processes: a Block ring's
// writers, its reader and a recoverer each run in a pid namespace of their own (`unshare
// --pid --fork --mount-proc`, as containers that share the segment directory do), where each
// of them is pid 1. Slot owners are judged by their liveness tokens, never by pid: for the
// whole run nobody is reaped and nothing is lost; then a reader and a writer killed with
// kill -9 inside their namespaces are reaped (and the writer's reservation repaired) by the
// recoverer in another namespace. Needs root (pid namespaces): SKIPPED otherwise.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "stella/common/ring.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

// Writers write kPerWriter messages each; the reader sleeps kReaderPauseUs after each, so
// the run lasts at least 2 x 50,000 x 100 us = 10 s of Block traffic whatever the machine.
constexpr int kPerWriter = 50'000;
constexpr int kReaderPauseUs = 100;

std::vector<std::string> in_namespace(std::vector<std::string> args) {
  // --kill-child: killing unshare kills its child (pid 1 of the namespace) with SIGKILL.
  std::vector<std::string> out{"--pid", "--fork", "--mount-proc", "--kill-child", RING_PROC};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

ring::RingStatus status_of(MultiWriterCircularBuffer& w) { return ring::status(w.core().view()); }

// Polls the ring's own counters until `done` holds (the recoverer in its namespace works
// meanwhile); false after 30 s.
template <class F>
bool eventually(MultiWriterCircularBuffer& w, F done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(status_of(w))) return true;
    std::this_thread::sleep_for(5ms);  // polling an observable counter, not standing in for an event
  }
  return false;
}

}  // namespace

TEST_CASE("pid namespaces: Block traffic for 10 s, nobody falsely reaped, nothing lost; the really killed are reaped") {
  if (::geteuid() != 0 || ::access("/usr/bin/unshare", X_OK) != 0) {
    MESSAGE("SKIPPED: needs root and /usr/bin/unshare (to make pid namespaces)");
    return;
  }
  const auto name = test::unique_name("pidns");
  test::SegmentCleanup cleanup(name);
  RingOptions o;
  o.recovery_timeout = 200ms;
  MultiWriterCircularBuffer creator(name, SharedMemoryMode::Create, 64 * 1024, WriteBehavior::Block, o);

  // The recoverer: a pass every 10 ms (stellad's reaper passes every 100 ms by default).
  test::ReadyPipe ready;
  test::GoPipe stop_reaper;
  const std::string reaper_out = test::temp_path("pidns-reaper");
  test::Child reaper("/usr/bin/unshare",
                     in_namespace({"reaper", name, "--stop-fd", std::to_string(stop_reaper.read_fd()), "--interval-ms",
                                   "10", "--ready-fd", std::to_string(ready.write_fd())}),
                     reaper_out);
  if (ready.read_line() != std::optional<std::string>("ready")) {
    MESSAGE("SKIPPED: unshare --pid --fork --mount-proc was refused here (no CAP_SYS_ADMIN in this container?)");
    return;
  }

  const std::string reader_out = test::temp_path("pidns-reader");
  test::Child reader("/usr/bin/unshare",
                     in_namespace({"reader", name, "2", std::to_string(kPerWriter), "--block", "--slow-us",
                                   std::to_string(kReaderPauseUs), "--recovery-ms", "200", "--deadline-s", "400",
                                   "--ready-fd", std::to_string(ready.write_fd())}),
                     reader_out);
  REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  // Each of them is pid 1 in its own namespace: a pid-based check would look at our init.
  const auto registered = status_of(creator);
  REQUIRE(registered.readers.size() == 1);
  CHECK(registered.readers[0].pid == 1);
  CHECK(registered.readers[0].alive);

  test::GoPipe go;
  std::vector<test::Child> writers;
  for (int id = 0; id < 2; ++id) {
    writers.emplace_back("/usr/bin/unshare",
                         in_namespace({"writer", name, std::to_string(id), std::to_string(kPerWriter), "16", "200",
                                       "--recovery-ms", "200", "--go-fd", std::to_string(go.read_fd())}));
  }
  CHECK(eventually(creator, [](const ring::RingStatus& s) { return s.writers.size() == 3; }));
  for (const auto& w : status_of(creator).writers) CHECK(w.alive);
  go.release();
  for (auto& w : writers) CHECK(w.wait(400s) == std::optional<int>(0));
  // The reader exits 0 only if every message of both writers arrived, untorn, in order,
  // none lost (Block mode).
  CHECK(reader.wait(400s) == std::optional<int>(0));
  const std::string result = test::read_file(reader_out);
  INFO("reader: " << result);
  CHECK(test::result_field(result, "read") == std::optional<std::string>(std::to_string(2 * kPerWriter)));
  CHECK(test::result_field(result, "lost") == std::optional<std::string>("0"));
  const auto after_traffic = status_of(creator);
  CHECK(after_traffic.readers_reaped == 0);  // nobody alive was taken for dead
  CHECK(after_traffic.writers_reaped == 0);
  CHECK(after_traffic.readers_evicted == 0);

  // Really dead, inside their namespaces: a registered reader, and a writer holding a claim.
  test::Child stalled("/usr/bin/unshare",
                      in_namespace({"stalled-reader", name, "--ready-fd", std::to_string(ready.write_fd())}));
  REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  test::Child claimer("/usr/bin/unshare", in_namespace({"writer", name, "9", "10", "24", "100", "--claim", "--pause-at",
                                                        "claim", "--ready-fd", std::to_string(ready.write_fd())}));
  REQUIRE(ready.read_line() == std::optional<std::string>("paused-claim"));
  stalled.kill(SIGKILL);
  claimer.kill(SIGKILL);
  (void)stalled.wait(30s);
  (void)claimer.wait(30s);
  CHECK(eventually(creator, [](const ring::RingStatus& s) {
    return s.readers_reaped == 1 && s.writers_reaped == 1 && s.records_repaired == 1;
  }));
  // The ring goes on: the creator writes, nothing of the dead claimer is in the way.
  CHECK(creator.write_bytes(std::vector<std::byte>(32, std::byte{7}), 5s) == WriteResult::Ok);

  stop_reaper.release();
  CHECK(reaper.wait(30s) == std::optional<int>(0));
  const std::string totals = test::read_file(reaper_out);
  INFO("reaper: " << totals);
  CHECK(test::result_field(totals, "readers_reaped") == std::optional<std::string>("1"));
  CHECK(test::result_field(totals, "writers_reaped") == std::optional<std::string>("1"));
  ::unlink(reader_out.c_str());
  ::unlink(reaper_out.c_str());
}
