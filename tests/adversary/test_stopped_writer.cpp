// A live writer stopped (SIGSTOP) at random moments while it writes, with a real stellad
// (issue 13, point 7): whenever the stop catches it holding a record, status names its pid
// within recovery_timeout + 2 x reap_interval (plus slack for a loaded machine); when it
// holds nothing, nobody is held up and nothing is reported; every write with a timeout in
// the test process returns on time; once it resumes, the report goes away.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "daemon_test_util.hpp"
#include "stella/common/ring.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

const std::string kFast = "reap_interval = \"20ms\"\nrecovery_timeout = \"100ms\"\n";

// The state letter of /proc/<pid>/stat ('T' once SIGSTOP has taken effect).
char process_state(pid_t pid) {
  const std::string stat = test::read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '?';
}

bool names(const std::vector<std::string>& problems, const std::string& who) {
  return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p.find(who) != std::string::npos; });
}

}  // namespace

TEST_CASE("adversary: a writer stopped at 20 random moments: each stall it causes is named by status and ends when it resumes") {
  const std::string ring = test::unique_name("sigstop");
  test::SegmentCleanup cleanup(ring);
  test::Stellad d("sigstop", kFast, test::ring_segment(ring, "256KiB", "overwrite"));
  d.start();

  RingOptions wo;
  wo.recovery_timeout = 10min;  // only timeouts end our waits; repairs are stellad's
  MultiWriterCircularBuffer w(ring, SharedMemoryMode::Open, 0, WriteBehavior::Overwrite, wo);
  LockFreeBufferReader r(ring);
  const ring::RingView& view = w.core().view();

  // Two victims write 2,000..16,000-byte messages without pause: one composes each in place
  // in a claimed record (a stop nearly always catches it holding one), the other copies each
  // from its own buffer (a stop mostly catches it between records). The stops alternate.
  std::vector<test::Child> victims;
  victims.emplace_back(RING_PROC, std::vector<std::string>{"writer", ring, "1", "1000000000", "2000", "16000", "--claim"});
  victims.emplace_back(RING_PROC, std::vector<std::string>{"writer", ring, "2", "1000000000", "2000", "16000"});
  REQUIRE(test::eventually([&] { return ring::status(view).writers.size() == 3; }));
  std::vector<const ring::WriterSlot*> slots;
  for (const auto& v : victims) {
    for (const auto& x : ring::status(view).writers) {
      if (x.pid == static_cast<std::uint64_t>(v.pid())) slots.push_back(&view.writers[x.slot]);
    }
  }
  REQUIRE(slots.size() == 2);

  std::mt19937 rng(20261202);
  const std::vector<std::byte> msg(64, std::byte{0x33});
  std::vector<std::byte> out;
  int held_count = 0;
  auto longest_write = std::chrono::steady_clock::duration::zero();
  for (int i = 0; i < 20; ++i) {
    CAPTURE(i);
    test::Child& victim = victims[i % 2];
    const ring::WriterSlot& vs = *slots[i % 2];
    const std::string who = "stalled: writer pid " + std::to_string(victim.pid()) + " ";
    // A random moment: how long to let it run before the stop (randomness, not a wait for anything).
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % 30));
    victim.kill(SIGSTOP);
    REQUIRE(test::eventually([&] { return process_state(victim.pid()) == 'T'; }));
    // Frozen now: what it holds is what its slot says.
    const bool held = vs.reserve_pos.load() != ring::kNoPosition || vs.reserve_bound.load() != ring::kNoPosition;
    if (held) ++held_count;
    // Go on writing and reading meanwhile, and ask status, for up to 2 s.
    const auto stop_at = std::chrono::steady_clock::now();
    bool reported = false;
    while (std::chrono::steady_clock::now() - stop_at < 2s && !reported) {
      const auto t0 = std::chrono::steady_clock::now();
      const WriteResult res = w.write_bytes(msg, 100ms);
      longest_write = std::max(longest_write, std::chrono::steady_clock::now() - t0);
      CHECK((res == WriteResult::Ok || res == WriteResult::Timeout));
      for (int k = 0; k < 64 && r.try_read_bytes(out); ++k) {
      }
      (void)r.read_bytes(out, 2ms);  // a reader that waits publishes its cursor first
      reported = names(d.status().problems, who);
      if (!held && std::chrono::steady_clock::now() - stop_at > 500ms) break;  // enough to see nothing is reported
    }
    CHECK(reported == held);
    victim.kill(SIGCONT);
    CHECK(test::eventually([&] { return !names(d.status().problems, who); }));
  }
  for (const auto* vs : slots) CHECK(vs->messages_written.load() > 0);  // they really wrote meanwhile
  MESSAGE(held_count << " of 20 stops caught a writer holding a record; each was reported, and none of the others; "
                     << "the longest write with a 100 ms timeout took "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(longest_write).count() << " ms");
  CHECK(longest_write < 100ms + 5s);  // a hang detector, with room for a loaded machine
  for (auto& v : victims) {
    v.kill(SIGKILL);
    (void)v.wait(10s);
  }
  CHECK(d.stop() == 0);
}
