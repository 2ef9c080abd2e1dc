// Crash recovery with real processes and real SIGKILL: dead writers never wedge the ring,
// dead readers never stall Block mode, stopped readers are not reaped, and concurrent
// recoverers never repair the same thing twice.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "ring_message.hpp"
#include "stella/common/ring.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

constexpr auto kRecovery = 200ms;
// Slack for a loaded 2-core CI machine: the repair itself takes microseconds.
constexpr auto kSlack = 10s;

RingOptions opts() {
  RingOptions o;
  o.recovery_timeout = kRecovery;
  o.spin_iterations = 50;
  return o;
}

ReaderOptions ropts() {
  ReaderOptions o;
  o.recovery_timeout = kRecovery;
  o.spin_iterations = 50;
  return o;
}

std::vector<std::byte> message(std::uint32_t writer, std::uint64_t seq) {
  std::vector<std::byte> m(test::message_size(writer, seq, 24, 100));
  test::fill_message(m, writer, seq);
  return m;
}

const ring::RingControl& control(MultiWriterCircularBuffer& w) { return *w.core().view().control; }

// Starts a writer that pauses at `where` and waits there until it is killed -9.
test::Child paused_writer(const std::string& name, const char* where, test::ReadyPipe& ready) {
  test::Child c(RING_PROC, {"writer", name, "7", "10", "24", "100", "--claim", "--pause-at", where, "--ready-fd",
                            std::to_string(ready.write_fd())});
  REQUIRE(ready.read_line() == std::optional<std::string>(std::string("paused-") + where));
  return c;
}

}  // namespace

TEST_CASE("a writer killed right after its fetch_add, before it recorded its position, does not wedge the ring") {
  // The narrowest window: the reservation exists only in tail; the slot holds the bound
  // (tail before the fetch_add) and the size. Recovery finds it by walking from the bound.
  const auto name = test::unique_name("window");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Overwrite, opts());
  LockFreeBufferReader r(name, ropts());
  test::ReadyPipe ready;
  auto dead = paused_writer(name, "reserved", ready);
  REQUIRE(w.write_bytes(message(0, 0)) == WriteResult::Ok);  // never waits for another writer
  std::vector<std::byte> out;
  CHECK_FALSE(r.try_read_bytes(out));  // the reader waits at the dead-to-be writer's record
  dead.kill(SIGKILL);
  REQUIRE(dead.wait(10s) == std::optional<int>(128 + SIGKILL));
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(r.read_bytes(out, 30s) == ReadResult::Ok);  // repairs after the recovery timeout
  const auto stalled = std::chrono::steady_clock::now() - start;
  CHECK(stalled >= kRecovery);  // it really waited on the dead writer's record
  CHECK(stalled < kRecovery + kSlack);
  CHECK(out == message(0, 0));
  CHECK(control(w).records_repaired.load() == 1);
  CHECK(r.records_skipped() == 1);
  CHECK(r.messages_lost() == 0);  // a dead writer's unfinished record is skipped, not lost
  CHECK_FALSE(r.try_read_bytes(out));  // nothing of the dead writer is delivered
}

TEST_CASE("a writer killed between claim and commit, or mid-copy: its record is skipped and counted, never delivered") {
  for (const char* where : {"claim", "midcopy"}) {
    CAPTURE(where);
    const auto name = test::unique_name("claim");
    test::SegmentCleanup cleanup(name);
    MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, opts());
    LockFreeBufferReader r(name, ropts());
    test::ReadyPipe ready;
    auto dead = paused_writer(name, where, ready);
    REQUIRE(w.write_bytes(message(0, 0)) == WriteResult::Ok);  // behind the dead writer's claim
    std::vector<std::byte> out;
    CHECK_FALSE(r.try_read_bytes(out));  // the reader waits at the uncommitted record
    dead.kill(SIGKILL);
    REQUIRE(dead.wait(10s) == std::optional<int>(128 + SIGKILL));
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(r.read_bytes(out, 30s) == ReadResult::Ok);  // repairs after the recovery timeout
    CHECK(std::chrono::steady_clock::now() - start < kRecovery + kSlack);
    CHECK(out == message(0, 0));  // the next message, never the half-written one
    CHECK(r.messages_lost() == 0);
    CHECK(control(w).records_repaired.load() == 1);
    CHECK_FALSE(r.try_read_bytes(out));
  }
}

TEST_CASE("a reader killed in Block mode with the ring full: the writer proceeds once it is reaped") {
  const auto name = test::unique_name("deadreader");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, opts());
  test::ReadyPipe ready;
  test::Child reader(RING_PROC, {"stalled-reader", name, "--ready-fd", std::to_string(ready.write_fd())});
  REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  std::uint64_t seq = 0;
  while (w.try_write_bytes(message(0, seq)) == WriteResult::Ok) ++seq;
  CHECK(seq > 10);
  reader.kill(SIGKILL);
  REQUIRE(reader.wait(10s) == std::optional<int>(128 + SIGKILL));
  const auto start = std::chrono::steady_clock::now();
  CHECK(w.write_bytes(message(0, seq), 30s) == WriteResult::Ok);
  CHECK(std::chrono::steady_clock::now() - start < kRecovery + kSlack);
  CHECK(control(w).readers_reaped.load() == 1);
}

TEST_CASE("a reader stopped with SIGSTOP is alive: never reaped; after SIGCONT it goes on and gets everything") {
  const auto name = test::unique_name("stopped");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, opts());
  test::ReadyPipe ready;
  const auto out_path = test::temp_path("stopped");
  const std::uint64_t count = 300;
  test::Child reader(RING_PROC, {"reader", name, "1", std::to_string(count), "--block", "--recovery-ms", "200",
                                 "--ready-fd", std::to_string(ready.write_fd())},
                     out_path);
  REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  reader.kill(SIGSTOP);
  std::uint64_t seq = 0;
  while (seq < count && w.write_bytes(message(0, seq), 600ms) == WriteResult::Ok) ++seq;  // > 2 recovery timeouts
  CHECK(seq < count);
  const auto rep = ring::recover(w.core().view());  // and an explicit pass, for good measure
  CHECK(rep.readers_reaped == 0);
  CHECK(control(w).readers_reaped.load() == 0);
  reader.kill(SIGCONT);
  for (; seq < count; ++seq) REQUIRE(w.write_bytes(message(0, seq), 30s) == WriteResult::Ok);
  CHECK(reader.wait(60s) == std::optional<int>(0));
  INFO(test::read_file(out_path));
  CHECK(test::result_field(test::read_file(out_path), "complete") == std::optional<std::string>("1"));
  std::remove(out_path.c_str());
}

TEST_CASE("two processes recovering at the same moment never repair the same thing twice; a second pass changes nothing") {
  const auto name = test::unique_name("tworec");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, opts());
  test::ReadyPipe ready;
  auto dead_writer = paused_writer(name, "claim", ready);
  test::Child dead_reader(RING_PROC, {"stalled-reader", name, "--ready-fd", std::to_string(ready.write_fd())});
  REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  dead_writer.kill(SIGKILL);
  dead_reader.kill(SIGKILL);
  dead_writer.wait(10s);
  dead_reader.wait(10s);
  for (int round = 0; round < 5; ++round) {
    // Re-create the damage each round: more chances for the two recoverers to collide.
    test::GoPipe go;
    const auto out_a = test::temp_path("reca"), out_b = test::temp_path("recb");
    std::uint64_t before = control(w).records_repaired.load() + control(w).readers_reaped.load();
    if (round > 0) {
      test::ReadyPipe again;
      auto dw = paused_writer(name, "claim", again);
      test::Child dr(RING_PROC, {"stalled-reader", name, "--ready-fd", std::to_string(again.write_fd())});
      REQUIRE(again.read_line() == std::optional<std::string>("ready"));
      dw.kill(SIGKILL);
      dr.kill(SIGKILL);
      dw.wait(10s);
      dr.wait(10s);
    }
    test::Child a(RING_PROC, {"recover", name, "--go-fd", std::to_string(go.read_fd())}, out_a);
    test::Child b(RING_PROC, {"recover", name, "--go-fd", std::to_string(go.read_fd())}, out_b);
    go.release();
    REQUIRE(a.wait(30s) == std::optional<int>(0));
    REQUIRE(b.wait(30s) == std::optional<int>(0));
    const auto ta = test::read_file(out_a), tb = test::read_file(out_b);
    std::remove(out_a.c_str());
    std::remove(out_b.c_str());
    INFO(ta << tb);
    auto sum = [&](const char* key) {
      return std::stoul(test::result_field(ta, key).value_or("99")) + std::stoul(test::result_field(tb, key).value_or("99"));
    };
    CHECK(sum("records_repaired") == 1);
    CHECK(sum("readers_reaped") == 1);
    CHECK(sum("writers_reaped") == 1);
    CHECK(control(w).records_repaired.load() + control(w).readers_reaped.load() == before + 2);
  }
  const auto again = ring::recover(w.core().view());
  CHECK_FALSE(again.changed());
  // The ring works after all that.
  LockFreeBufferReader r(name, ropts());
  REQUIRE(w.write_bytes(message(0, 1)) == WriteResult::Ok);
  std::vector<std::byte> out;
  REQUIRE(r.read_bytes(out, 10s) == ReadResult::Ok);
  CHECK(out == message(0, 1));
}

TEST_CASE("recovery passes over a busy, healthy ring change nothing that is delivered") {
  const auto name = test::unique_name("busy");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 1 << 14, WriteBehavior::Block, opts());
  test::ReadyPipe ready;
  const auto out_path = test::temp_path("busy");
  test::Child reader(RING_PROC, {"reader", name, "2", "100000", "--block", "--ready-fd", std::to_string(ready.write_fd())},
                     out_path);
  REQUIRE(ready.read_line() == std::optional<std::string>("ready"));
  test::Child w0(RING_PROC, {"writer", name, "0", "100000", "24", "200"});
  test::Child w1(RING_PROC, {"writer", name, "1", "100000", "24", "200", "--claim"});
  std::uint32_t passes = 0;
  bool changed = false;
  while (reader.running()) {
    changed = changed || ring::recover(w.core().view()).changed();
    ++passes;
  }
  CHECK(w0.wait(60s) == std::optional<int>(0));
  CHECK(w1.wait(60s) == std::optional<int>(0));
  CHECK(reader.wait(60s) == std::optional<int>(0));
  INFO(test::read_file(out_path));
  CHECK(test::result_field(test::read_file(out_path), "complete") == std::optional<std::string>("1"));
  CHECK(passes > 10);
  CHECK_FALSE(changed);
  std::remove(out_path.c_str());
}

TEST_CASE("an evicted live reader is told so when it reads again, resumes, and learns how much it lost") {
  const auto name = test::unique_name("evict");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block, opts());
  LockFreeBufferReader r(name, ropts());
  std::uint64_t seq = 0;
  while (w.try_write_bytes(message(0, seq)) == WriteResult::Ok) ++seq;  // full: the reader holds it back
  ring::RecoveryOptions ro;
  ro.evict_stalled_after = std::chrono::nanoseconds(1);  // stalled with data waiting
  const auto rep = ring::recover(w.core().view(), ro);
  CHECK(rep.readers_evicted == 1);
  CHECK(rep.readers_reaped == 0);  // alive: evicted, never reaped
  // Evicted readers no longer hold Block writers back: the ring laps them.
  for (int i = 0; i < 100; ++i, ++seq) REQUIRE(w.write_bytes(message(0, seq), 10s) == WriteResult::Ok);
  std::vector<std::byte> out;
  CHECK(r.read_bytes(out, 1s) == ReadResult::Evicted);  // told, once
  REQUIRE(r.read_bytes(out, 1s) == ReadResult::Ok);     // and it goes on, at the oldest record
  CHECK(r.messages_lost() > 0);                         // knowing what it missed
  CHECK(control(w).readers_evicted.load() == 1);
}

TEST_CASE("a stopped writer holding a claim delays only the readers that reach it and the writers that lap onto it") {
  // Wait-free reservation: the other writer never waits to reserve, and fills the rest of the
  // lap at once. Only the write that would overwrite the stopped writer's unfinished record
  // waits — and honours its timeout, in both modes.
  for (const auto behavior : {WriteBehavior::Overwrite, WriteBehavior::Block}) {
    const bool block = behavior == WriteBehavior::Block;
    CAPTURE(block);
    const auto name = test::unique_name("stopped");
    test::SegmentCleanup cleanup(name);
    MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, behavior, opts());
    LockFreeBufferReader r(name, ropts());
    test::ReadyPipe ready;
    auto stopped = paused_writer(name, "claim", ready);  // holds the record at position 0
    ::kill(stopped.pid(), SIGSTOP);
    const std::vector<std::byte> msg(100, std::byte{5});
    int written = 0;
    const auto lap_start = std::chrono::steady_clock::now();
    WriteResult last = WriteResult::Ok;
    while (written < 100 && (last = w.write_bytes(msg, 200ms)) == WriteResult::Ok) ++written;
    const auto elapsed = std::chrono::steady_clock::now() - lap_start;
    CHECK(last == WriteResult::Timeout);
    CHECK(written >= 20);  // the rest of the lap went through without waiting for the stopped writer
    CHECK(written < 4096 / 144 + 1);  // ...and nothing overwrote its record
    CHECK(elapsed >= 200ms);
    CHECK(elapsed < 200ms + kSlack);  // the timeout is honoured
    // Block: the write timed out before reserving (the reader waits at the stopped record);
    // Overwrite: it reserved, found the stopped record in its way, and gave the reservation up.
    CHECK(w.core().given_up() == (block ? 0u : 1u));
    std::vector<std::byte> out;
    CHECK_FALSE(r.try_read_bytes(out));  // the reader waits at the stopped writer's record
    ::kill(stopped.pid(), SIGCONT);
    stopped.kill(SIGKILL);
    REQUIRE(stopped.wait(10s) == std::optional<int>(128 + SIGKILL));
    // Repaired after the recovery timeout: the reader goes on, and the writer writes again.
    int read = 0;
    auto drain = [&] {
      while (r.read_bytes(out, 2s) == ReadResult::Ok) {
        CHECK(out == msg);
        ++read;
      }
    };
    if (block) drain();  // the ring is full: the reader must make room first
    REQUIRE(w.write_bytes(msg, 10s) == WriteResult::Ok);
    drain();
    // Every committed message is read or (Overwrite: the given-up reservation lapped the
    // stopped record, so the reader resumed at the next lap) counted as lost; none torn.
    CHECK(r.messages_read() + r.messages_lost() == static_cast<std::uint64_t>(written) + 1);
    if (block) CHECK(r.messages_lost() == 0);
    CHECK(read >= 1);  // at least the last one
    CHECK(r.records_skipped() >= 1);  // the dead writer's record (and the given-up one)
  }
}
