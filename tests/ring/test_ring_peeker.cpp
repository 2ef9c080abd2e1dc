// ring::RingPeeker, the slotless reader (`stella tail --peek`), in-process: it reads what is
// there, detects being lapped and counts what it lost, never delivers a torn message,
// writes nothing into the mapping (it runs over a read-only mapping here, so a write would
// fault, and the whole mapping is compared before and after), and survives hostile bytes.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "ring_message.hpp"
#include "stella/common/ring.hpp"
#include "stella/common/segment.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;

namespace {

// A read-only mapping of the ring and its view: the peeker cannot write even if it tried.
struct ReadOnlyRing {
  Segment segment;
  ring::RingView view;
  explicit ReadOnlyRing(const std::string& name)
      : segment(Segment::open(name, SegmentKind::ring, platform::Access::read_only)), view(ring::attach(segment)) {}
};

std::uint64_t mapping_checksum(Segment& s) {
  const auto* p = static_cast<const unsigned char*>(s.object().data());
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < s.object().size(); ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

std::span<const std::byte> as_span(const std::uint64_t& v) { return std::as_bytes(std::span(&v, 1)); }

std::uint64_t value_of(const std::vector<std::byte>& out) {
  REQUIRE(out.size() == 8);
  std::uint64_t v;
  std::memcpy(&v, out.data(), 8);
  return v;
}

ring::PeekerOptions from(ring::StartPosition start) {
  ring::PeekerOptions o;
  o.start = start;
  return o;
}

}  // namespace

TEST_CASE("peeker: reads every message in order from the oldest, or only new ones from the latest") {
  for (const WriteBehavior mode : {WriteBehavior::Overwrite, WriteBehavior::Block}) {
    CAPTURE(static_cast<int>(mode));
    const auto name = test::unique_name("peek-basic");
    test::SegmentCleanup cleanup(name);
    MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 65536, mode);
    for (std::uint64_t i = 0; i < 10; ++i) REQUIRE(w.write_bytes(as_span(i)) == WriteResult::Ok);
    ReadOnlyRing ro(name);
    ring::RingPeeker oldest(ro.view, from(ring::StartPosition::oldest));
    ring::RingPeeker latest(ro.view, from(ring::StartPosition::latest));
    std::vector<std::byte> out;
    for (std::uint64_t i = 0; i < 10; ++i) {
      REQUIRE(oldest.try_read(out) == ring::ReadStatus::ok);
      CHECK(value_of(out) == i);
    }
    CHECK(oldest.try_read(out) == ring::ReadStatus::empty);
    CHECK(latest.try_read(out) == ring::ReadStatus::empty);
    const std::uint64_t eleven = 11;
    REQUIRE(w.write_bytes(as_span(eleven)) == WriteResult::Ok);
    REQUIRE(latest.try_read(out) == ring::ReadStatus::ok);
    CHECK(value_of(out) == 11);
    REQUIRE(oldest.try_read(out) == ring::ReadStatus::ok);
    CHECK(value_of(out) == 11);
    CHECK(oldest.messages_read() == 11);
    CHECK(oldest.messages_lost() == 0);
    CHECK(latest.messages_lost() == 0);
    CHECK(ring::status(ro.view).readers.empty());  // no slot taken
    // An aborted claim is skipped, not delivered nor lost.
    { auto c = w.claim(8); REQUIRE(c); c->abort(); }
    const std::uint64_t twelve = 12;
    REQUIRE(w.write_bytes(as_span(twelve)) == WriteResult::Ok);
    REQUIRE(oldest.try_read(out) == ring::ReadStatus::ok);
    CHECK(value_of(out) == 12);
    CHECK(oldest.records_skipped() == 1);
    CHECK(oldest.messages_lost() == 0);
  }
}

TEST_CASE("peeker: lapped in Overwrite and in a Block ring with no reader, it jumps to a boundary and counts the loss") {
  for (const WriteBehavior mode : {WriteBehavior::Overwrite, WriteBehavior::Block}) {
    CAPTURE(static_cast<int>(mode));
    const auto name = test::unique_name("peek-lap");
    test::SegmentCleanup cleanup(name);
    MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, mode);
    ReadOnlyRing ro(name);
    ring::RingPeeker p(ro.view);
    std::vector<std::byte> out;
    std::uint64_t next = 0, read = 0;
    // Several rounds: read a few, then let the writer lap the peeker several times. A Block
    // writer never waits for the peeker: try_write fails only when it would wait.
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 3; ++i) {
        if (p.try_read(out) == ring::ReadStatus::ok) ++read;
      }
      for (int i = 0; i < 500; ++i, ++next) REQUIRE(w.try_write_bytes(as_span(next)) == WriteResult::Ok);
    }
    std::uint64_t last = 0;
    bool first = true;
    for (;;) {
      const ring::ReadStatus s = p.try_read(out);
      if (s != ring::ReadStatus::ok) {
        CHECK(s == ring::ReadStatus::empty);
        break;
      }
      ++read;
      const std::uint64_t v = value_of(out);
      if (!first) CHECK(v == last + 1);  // contiguous after the last jump
      last = v;
      first = false;
    }
    CHECK(last == next - 1);
    CHECK(p.laps() >= 1);
    CHECK(p.messages_lost() > 0);
    CHECK(p.messages_read() == read);
    CHECK(p.messages_read() + p.messages_lost() == next);
  }
}

TEST_CASE("peeker: writes nothing into the mapping (read-only mapping; whole mapping unchanged)") {
  for (const WriteBehavior mode : {WriteBehavior::Overwrite, WriteBehavior::Block}) {
    CAPTURE(static_cast<int>(mode));
    const auto name = test::unique_name("peek-ro");
    test::SegmentCleanup cleanup(name);
    MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, mode);
    for (std::uint64_t i = 0; i < 700; ++i) REQUIRE(w.try_write_bytes(as_span(i)) == WriteResult::Ok);  // laps it
    { auto c = w.claim(40); REQUIRE(c); c->abort(); }
    ReadOnlyRing ro(name);
    const std::uint64_t before = mapping_checksum(ro.segment);
    {
      ring::RingPeeker p(ro.view);
      std::vector<std::byte> out;
      while (p.try_read(out) == ring::ReadStatus::ok) {
      }
      CHECK(p.messages_read() > 0);
      CHECK(p.messages_lost() == 0);  // started at the oldest: what was there before is not lost
      // Waiting (a bounded sleep on data_epoch, over the read-only mapping) writes nothing either.
      CHECK(p.read(out, 30ms) == ring::ReadStatus::timeout);
      ring::RingPeeker latest(ro.view, from(ring::StartPosition::latest));
      CHECK(latest.try_read(out) == ring::ReadStatus::empty);
    }
    CHECK(mapping_checksum(ro.segment) == before);
  }
}

TEST_CASE("peeker: a Block writer waits only for registered readers; the peeker reads what they hold back") {
  const auto name = test::unique_name("peek-block");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, WriteBehavior::Block);
  ReadOnlyRing ro(name);
  ring::RingPeeker p(ro.view);
  std::uint64_t n = 0;
  {
    LockFreeBufferReader reader(name);  // registered, never reads
    while (w.try_write_bytes(as_span(n)) == WriteResult::Ok) ++n;
    CHECK(n > 0);
    CHECK(n < 4096 / 16);
    std::vector<std::byte> out;
    for (std::uint64_t i = 0; i < n; ++i) {
      REQUIRE(p.try_read(out) == ring::ReadStatus::ok);
      CHECK(value_of(out) == i);
    }
    CHECK(p.try_read(out) == ring::ReadStatus::empty);
    CHECK(p.messages_lost() == 0);
    const std::uint64_t more = n;
    CHECK(w.try_write_bytes(as_span(more)) == WriteResult::WouldBlock);  // still the reader's doing
  }
  // The reader left: nothing holds the writer back, the peeker least of all.
  for (int i = 0; i < 1000; ++i, ++n) REQUIRE(w.try_write_bytes(as_span(n)) == WriteResult::Ok);
}

TEST_CASE("peeker: read() waits with bounded sleeps and returns a message written meanwhile") {
  const auto name = test::unique_name("peek-wait");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096);
  ReadOnlyRing ro(name);
  ring::RingPeeker p(ro.view);
  std::vector<std::byte> out;
  CHECK(p.read(out, 20ms) == ring::ReadStatus::timeout);
  std::thread writer([&] {
    const std::uint64_t v = 42;
    REQUIRE(w.write_bytes(as_span(v)) == WriteResult::Ok);  // wakes nobody: the peeker is not counted
  });
  const ring::ReadStatus s = p.read(out, 30s);  // found by its next poll
  writer.join();
  REQUIRE(s == ring::ReadStatus::ok);
  CHECK(value_of(out) == 42);
  CHECK(ro.view.control->data_waiters.load() == 0);
}

TEST_CASE("peeker: hostile bytes make it report corrupt or nothing, never hang or read out of bounds") {
  const auto name = test::unique_name("peek-bad");
  test::SegmentCleanup cleanup(name);
  MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096);
  for (std::uint64_t i = 0; i < 4; ++i) REQUIRE(w.write_bytes(as_span(i)) == WriteResult::Ok);
  Segment rw = Segment::open(name, SegmentKind::ring, platform::Access::read_write);
  ring::RingView v = ring::attach(rw);
  std::vector<std::byte> out;
  const std::uint64_t tail = v.control->tail.load();

  SUBCASE("a message length beyond the largest") {
    auto* h = v.header_at(0);
    const std::uint64_t word = h->word.load();
    h->word.store((word & ~std::uint64_t{0xFFFFFFFF}) | 0xFFFFFFF0u);
    ring::RingPeeker p(v);
    CHECK(p.try_read(out) == ring::ReadStatus::corrupt);
    h->word.store(word);
  }
  SUBCASE("a misaligned tail") {
    v.control->tail.store(tail + 3);
    ring::RingPeeker p(v);
    CHECK(p.try_read(out) == ring::ReadStatus::corrupt);
    CHECK(p.read(out, 10ms) == ring::ReadStatus::corrupt);
  }
  SUBCASE("a tail laps ahead over records that are not there") {
    v.control->tail.store(tail + 10 * 4096);
    ring::RingPeeker p(v);
    CHECK(p.try_read(out) == ring::ReadStatus::empty);  // jumped; the stamp there is no record's
    CHECK(p.read(out, 10ms) == ring::ReadStatus::timeout);
  }
  SUBCASE("a padding record that claims to run past the end of the lap") {
    auto* h = v.header_at(0);
    h->word.store(ring::make_word(8192, ring::RecordType::padding, 0));
    ring::RingPeeker p(v);
    CHECK(p.try_read(out) == ring::ReadStatus::corrupt);
  }
  v.control->tail.store(tail);
}

TEST_CASE("peeker threads: a fast writer laps a peeker; every message it returns is intact, read + lost == written") {
  for (const WriteBehavior mode : {WriteBehavior::Overwrite, WriteBehavior::Block}) {
    CAPTURE(static_cast<int>(mode));
    const auto name = test::unique_name("peek-thr");
    test::SegmentCleanup cleanup(name);
    constexpr std::uint64_t kCount = 20'000;
    MultiWriterCircularBuffer creator(name, SharedMemoryMode::Create, 4096, mode);
    ReadOnlyRing ro(name);
    ring::RingPeeker p(ro.view);
    std::atomic<bool> done{false};
    std::thread writer([&] {
      MultiWriterCircularBuffer w(name, SharedMemoryMode::Open);
      std::vector<std::byte> buf;
      for (std::uint64_t seq = 0; seq < kCount; ++seq) {
        buf.resize(test::message_size(0, seq, 24, 1800));
        test::fill_message(buf, 0, seq);
        REQUIRE(w.try_write_bytes(buf) == WriteResult::Ok);  // never waits for the peeker
      }
      done.store(true, std::memory_order_release);
    });
    test::MessageChecker checker(1, kCount, false);
    std::vector<std::byte> out;
    // While the writer runs, try_read in a loop (copying while it overwrites: the race the
    // re-check exists for); then read() drains what is left.
    while (!done.load(std::memory_order_acquire)) {
      if (p.try_read(out) == ring::ReadStatus::ok) checker.check(out);
    }
    while (p.messages_read() + p.messages_lost() < kCount) {
      if (p.read(out, 10s) != ring::ReadStatus::ok) break;
      checker.check(out);
    }
    writer.join();
    MESSAGE("read " << p.messages_read() << " lost " << p.messages_lost() << " laps " << p.laps());
    CHECK(checker.torn() == 0);
    CHECK(checker.order_errors() == 0);
    CHECK(p.messages_read() > 0);
    CHECK(p.messages_read() + p.messages_lost() == kCount);
    CHECK(ring::status(ro.view).readers.empty());
  }
}

namespace {
struct LapDuringCopy {
  MultiWriterCircularBuffer* writer = nullptr;
  std::uint64_t next_seq = 0;
  int laps_left = 0;  // how many times the hook still overwrites
  static void hook(void* self) {
    auto* s = static_cast<LapDuringCopy*>(self);
    if (s->laps_left == 0) return;
    --s->laps_left;
    // Between the peeker's check of the record and its copy, the writer writes a lap and a
    // bit over it: the bytes the peeker is about to copy are another message's now.
    std::vector<std::byte> buf;
    for (int i = 0; i < 5; ++i, ++s->next_seq) {
      buf.resize(test::message_size(0, s->next_seq, 600, 1000));
      test::fill_message(buf, 0, s->next_seq);
      REQUIRE(s->writer->try_write_bytes(buf) == WriteResult::Ok);
    }
  }
};
}  // namespace

TEST_CASE("peeker: a record overwritten between its check and the end of its copy is never delivered") {
  for (const WriteBehavior mode : {WriteBehavior::Overwrite, WriteBehavior::Block}) {
    CAPTURE(static_cast<int>(mode));
    const auto name = test::unique_name("peek-race");
    test::SegmentCleanup cleanup(name);
    MultiWriterCircularBuffer w(name, SharedMemoryMode::Create, 4096, mode);
    ReadOnlyRing ro(name);
    ring::RingPeeker p(ro.view);
    LapDuringCopy lapper{&w, 0, 0};
    p.set_copy_hook(&LapDuringCopy::hook, &lapper);
    test::MessageChecker checker(1, 0, false);
    std::vector<std::byte> out;
    std::uint64_t overwrites = 0;
    for (int round = 0; round < 50; ++round) {
      // Three messages (sizes that do not repeat the lap's layout), then read with the hook
      // armed once: the first record is overwritten mid-read.
      std::vector<std::byte> buf;
      for (int i = 0; i < 3; ++i, ++lapper.next_seq) {
        buf.resize(test::message_size(0, lapper.next_seq, 100, 700));
        test::fill_message(buf, 0, lapper.next_seq);
        REQUIRE(w.try_write_bytes(buf) == WriteResult::Ok);
      }
      lapper.laps_left = 1;
      ++overwrites;
      while (p.try_read(out) == ring::ReadStatus::ok) checker.check(out);
      CHECK(lapper.laps_left == 0);
    }
    MESSAGE("read " << p.messages_read() << " lost " << p.messages_lost() << " laps " << p.laps());
    CHECK(checker.torn() == 0);
    CHECK(checker.order_errors() == 0);
    CHECK(p.laps() >= overwrites);
    CHECK(p.messages_read() + p.messages_lost() == lapper.next_seq);
  }
}
