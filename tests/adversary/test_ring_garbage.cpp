// Garbage in a ring (issue 13), written by a hostile process with write access while a real
// stellad (reaping every 20 ms) and an honest writer and reader run: targeted values in every
// field of the control block, of a reader slot and of a writer slot, and in the first
// record's header; then random words over the whole object. After each damage: stellad
// still runs and answers status, the honest processes neither crash nor hang (each call
// waits at most 50 ms; their own deadline is 30 s), and the reader never gets a message
// whose checksum fails unless the damage was inside a record (a process that may write a
// ring may write records: forging a message is within its rights, see the threat model).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon_test_util.hpp"
#include "stella/common/ring_layout.hpp"
#include "stella/common/segment.hpp"
#include "test_support.hpp"

using stella::test::Child;
using stella::test::ReadyPipe;
using namespace std::chrono_literals;

namespace {

const std::string kFast = "reap_interval = \"20ms\"\nrecovery_timeout = \"100ms\"\n";
constexpr std::uint64_t kCapacity = 16 * 1024;

std::optional<std::uint64_t> number(const std::string& text, const std::string& key) {
  const auto v = stella::test::result_field(text, key);
  if (!v) return std::nullopt;
  return std::stoull(*v);
}

struct Outcome {
  int writer_exit = -1, reader_exit = -1, hostile_exit = -1;
  bool daemon_answered = false;
  std::vector<std::string> problems;  // what status said about the ring after the damage
  std::string slots;                  // and its slots, for the record
  int daemon_exit = -1;
  std::string writer, reader, log;
};

// Where the area, the slots and the data start in the object (stellad creates the ring
// with the same geometry every time).
struct Offsets {
  std::uint64_t area = 0, readers = 0, writers = 0, data = 0;
};

Offsets offsets_of(const std::string& name) {
  const stella::Segment seg = stella::Segment::open(name, stella::SegmentKind::ring, stella::platform::Access::read_only);
  const auto* c = reinterpret_cast<const stella::ring::RingControl*>(seg.area());
  Offsets o;
  o.area = seg.header().area_offset;
  o.readers = o.area + c->reader_slots_offset;
  o.writers = o.area + c->writer_slots_offset;
  o.data = o.area + c->data_offset;
  return o;
}

Outcome trial(const std::string& name, const std::string& mode, const std::vector<std::string>& hostile_args) {
  stella::test::Stellad d("advring", kFast, stella::test::ring_segment(name, "16KiB", mode));
  d.start();
  const std::string wout = stella::test::temp_path("advr-writer"), rout = stella::test::temp_path("advr-reader");
  ReadyPipe ready;
  stella::test::GoPipe damaged, finish;
  const std::string rfd = std::to_string(ready.write_fd()), dfd = std::to_string(damaged.read_fd()),
                    ffd = std::to_string(finish.read_fd());
  Child reader(HONEST, {"ring-reader", name, "300", rfd, dfd, ffd}, rout);
  (void)ready.read_line();  // the reader first: it takes reader slot 0
  Child writer(HONEST, {"ring-writer", name, "300", rfd, dfd, ffd}, wout);
  (void)ready.read_line();  // writer slot 0
  ready.close_write();
  Outcome o;
  {
    Child hostile(HOSTILE, hostile_args);
    o.hostile_exit = hostile.wait(60s).value_or(-1);
  }
  damaged.release();
  // Both have worked 300 ms on the damaged ring and say so, still holding their slots: what
  // status says now is what an operator would see while it happens.
  const bool reader_done = ready.read_line(30s).has_value();
  const bool writer_done = ready.read_line(30s).has_value();
  const auto answer = d.query();
  o.daemon_answered = answer.response.has_value();
  if (answer.response && answer.response->status) {
    o.problems = answer.response->status->problems;
    for (const auto& seg : answer.response->status->segments) {
      o.slots += "tail " + std::to_string(seg.write_position) + ";";
      for (const auto& r : seg.readers) {
        o.slots += " reader slot " + std::to_string(r.slot) + " cursor " + std::to_string(r.cursor) +
                   (r.evicted ? " evicted" : "") + ";";
      }
      for (const auto& w : seg.writers) o.slots += " writer slot " + std::to_string(w.slot) + ";";
    }
  }
  finish.release();
  o.writer_exit = writer_done ? writer.wait(30s).value_or(-1) : -1;
  o.reader_exit = reader_done ? reader.wait(30s).value_or(-1) : -1;
  o.daemon_exit = d.stop().value_or(-1);
  o.writer = stella::test::read_file(wout);
  o.reader = stella::test::read_file(rout);
  o.log = d.log();
  ::unlink(wout.c_str());
  ::unlink(rout.c_str());
  stella::test::SegmentCleanup drop(name);  // the next trial starts from a fresh ring
  return o;
}

struct Tally {
  int trials = 0, reader_errors = 0, forged = 0, degraded = 0, silent = 0;
};

void check_survived(const Outcome& o, const std::string& what, bool inside_a_record, Tally& t) {
  INFO(what, "\n  writer: ", o.writer, "  reader: ", o.reader, "\n  stellad log:\n", o.log);
  CHECK(o.hostile_exit == 0);
  CHECK(o.daemon_answered);   // stellad neither crashed nor hung
  CHECK(o.daemon_exit == 0);  // and stops cleanly
  CHECK(o.writer_exit == 0);  // not killed by a signal, not hung
  CHECK(o.reader_exit == 0);
  ++t.trials;
  if (!o.problems.empty()) ++t.degraded;
  const bool works = number(o.writer, "ok_after").value_or(0) > 0 && number(o.reader, "ok_after").value_or(0) > 0;
  if (std::getenv("STELLA_ADV_ONLY") != nullptr) MESSAGE(what, ": ", o.slots, " reader: ", o.reader, " writer: ", o.writer);
  if (!works && o.problems.empty()) {
    ++t.silent;
    MESSAGE("unreported: ", what, "  writer: ", o.writer, "  reader: ", o.reader, "  status: ", o.slots);
  }
  if (std::getenv("STELLA_ADV_ONLY") != nullptr) MESSAGE(what, ": problems: ", o.problems.size(), "\n", o.log);
  if (number(o.reader, "errors").value_or(0) > 0) ++t.reader_errors;
  if (number(o.reader, "bad").value_or(0) > 0) {
    ++t.forged;
    if (!inside_a_record) CHECK(number(o.reader, "bad") == std::optional<std::uint64_t>(0));
  }
}

}  // namespace

TEST_CASE("adversary: targeted garbage in every field a process can write in a ring, with stellad running") {
  const std::string name = stella::test::unique_name("adv-ring");
  stella::test::SegmentCleanup cleanup(name);
  Offsets at;
  {
    stella::test::Stellad d("advring", kFast, stella::test::ring_segment(name, "16KiB", "block"));
    d.start();
    at = offsets_of(name);
    CHECK(d.stop() == 0);
    stella::test::SegmentCleanup drop(name);
  }
  struct Field {
    std::string what;
    std::uint64_t offset;
    unsigned width;
    bool inside_a_record;
  };
  using stella::ring::ReaderSlot;
  using stella::ring::RingControl;
  using stella::ring::WriterSlot;
  const std::vector<Field> fields = {
      {"control.capacity", at.area + offsetof(RingControl, capacity), 8, false},
      {"control.max_message", at.area + offsetof(RingControl, max_message), 8, false},
      {"control.max_readers", at.area + offsetof(RingControl, max_readers), 4, false},
      {"control.max_writers", at.area + offsetof(RingControl, max_writers), 4, false},
      {"control.behavior", at.area + offsetof(RingControl, behavior), 4, false},
      {"control.reader_slots_offset", at.area + offsetof(RingControl, reader_slots_offset), 8, false},
      {"control.writer_slots_offset", at.area + offsetof(RingControl, writer_slots_offset), 8, false},
      {"control.data_offset", at.area + offsetof(RingControl, data_offset), 8, false},
      {"control.tail", at.area + offsetof(RingControl, tail), 8, false},
      {"control.data_epoch", at.area + offsetof(RingControl, data_epoch), 4, false},
      {"control.data_waiters", at.area + offsetof(RingControl, data_waiters), 4, false},
      {"control.space_epoch", at.area + offsetof(RingControl, space_epoch), 4, false},
      {"control.space_waiters", at.area + offsetof(RingControl, space_waiters), 4, false},
      {"control.readers_generation", at.area + offsetof(RingControl, readers_generation), 8, false},
      {"control.space_wanted", at.area + offsetof(RingControl, space_wanted), 8, false},
      {"control.lap_epoch", at.area + offsetof(RingControl, lap_epoch), 4, false},
      {"control.lap_waiters", at.area + offsetof(RingControl, lap_waiters), 4, false},
      {"control.records_repaired", at.area + offsetof(RingControl, records_repaired), 8, false},
      {"control.messages_retired", at.area + offsetof(RingControl, messages_retired), 8, false},
      {"reader[0].owner", at.readers + offsetof(ReaderSlot, owner), 8, false},
      {"reader[0].cursor", at.readers + offsetof(ReaderSlot, cursor), 8, false},
      {"reader[0].pid", at.readers + offsetof(ReaderSlot, pid), 8, false},
      {"reader[0].messages_lost", at.readers + offsetof(ReaderSlot, messages_lost), 8, false},
      {"reader[0].progress_ns", at.readers + offsetof(ReaderSlot, progress_ns), 8, false},
      {"reader[0].sleeping", at.readers + offsetof(ReaderSlot, sleeping), 4, false},
      {"reader[0].token", at.readers + offsetof(ReaderSlot, token), 8, false},
      {"writer[0].owner", at.writers + offsetof(WriterSlot, owner), 8, false},
      {"writer[0].pid", at.writers + offsetof(WriterSlot, pid), 8, false},
      {"writer[0].reserve_bound", at.writers + offsetof(WriterSlot, reserve_bound), 8, false},
      {"writer[0].reserve_pos", at.writers + offsetof(WriterSlot, reserve_pos), 8, false},
      {"writer[0].reserve_size", at.writers + offsetof(WriterSlot, reserve_size), 8, false},
      {"writer[0].messages_written", at.writers + offsetof(WriterSlot, messages_written), 8, false},
      {"writer[0].last_commit", at.writers + offsetof(WriterSlot, last_commit), 8, false},
      {"writer[0].given_up_pos", at.writers + offsetof(WriterSlot, given_up_pos), 8, false},
      {"writer[0].given_up_size", at.writers + offsetof(WriterSlot, given_up_size), 8, false},
      {"writer[0].token", at.writers + offsetof(WriterSlot, token), 8, false},
      {"record@0.word", at.data + 0, 8, true},
      {"record@0.stamp", at.data + 8, 8, true},
  };
  const std::uint64_t values[] = {0, ~std::uint64_t{0}, 0x7fffffffull, 4096, kCapacity * 2, std::uint64_t{1} << 63};
  Tally t;
  int n = 0;
  // STELLA_ADV_ONLY=<field name> runs only that field's trials (to look at one closely).
  const char* only = std::getenv("STELLA_ADV_ONLY");
  for (const Field& f : fields) {
    if (only != nullptr && f.what != only) continue;
    for (const std::uint64_t v : values) {
      const std::uint64_t value = f.width == 4 ? (v & 0xffffffffull) : v;
      const std::string mode = (n++ % 2 == 0) ? "block" : "overwrite";
      const Outcome o = trial(name, mode, {"write", name, std::to_string(f.offset), std::to_string(value),
                                           std::to_string(f.width)});
      check_survived(o, f.what + " = " + std::to_string(value) + " (" + mode + ")", f.inside_a_record, t);
    }
  }
  MESSAGE(t.trials, " trials; the honest reader reported an error in ", t.reader_errors,
          ", got a forged message in ", t.forged, " (record headers only); status was degraded after ", t.degraded);
}

TEST_CASE("adversary: random garbage trials over the whole ring, with stellad running") {
  const std::string name = stella::test::unique_name("adv-rring");
  stella::test::SegmentCleanup cleanup(name);
  std::uint64_t object_size = 0;
  {
    stella::test::Stellad d("advring", kFast, stella::test::ring_segment(name, "16KiB", "block"));
    d.start();
    const stella::Segment seg = stella::Segment::open(name, stella::SegmentKind::ring, stella::platform::Access::read_only);
    object_size = seg.header().total_size;
    CHECK(d.stop() == 0);
    stella::test::SegmentCleanup drop(name);
  }
  Tally t;
  constexpr int kTrials = 60;
  for (int i = 0; i < kTrials; ++i) {
    const std::string mode = i % 2 == 0 ? "block" : "overwrite";
    // Everything after the segment header (validated and copied at open by everyone).
    const Outcome o = trial(name, mode, {"random", name, std::to_string(5000 + i), "4", "128", std::to_string(object_size)});
    check_survived(o, "random trial seed " + std::to_string(5000 + i) + " (" + mode + ")", true, t);
  }
  MESSAGE(t.trials, " random trials; the honest reader reported an error in ", t.reader_errors,
          ", got a forged message in ", t.forged, "; status was degraded after ", t.degraded);
}
