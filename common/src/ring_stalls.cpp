// Stall watching: what a live process holds up, seen from outside (stellad's reaper). A
// live writer stopped between reserving a record and committing it (SIGSTOP, a debugger, a
// claim held for long) makes every reader wait at that record, and once the ring laps onto
// it, every other writer too; recovery cannot repair it (its owner is alive), so status must
// at least name it. The watcher keeps its observations privately and writes nothing.
#include <algorithm>
#include <cstdio>

#include "ring_internal.hpp"

namespace stella::ring {

using namespace detail;

namespace {

std::string seconds_text(nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1e9);
  return buf;
}

struct Candidate {
  std::uint32_t slot;
  std::uint64_t pid, position, size;
  nanoseconds held;
};

}  // namespace

std::string Stall::describe() const {
  if (kind == Kind::ring_stuck) {
    return "stuck: the oldest unread position " + std::to_string(position) + " has held no record for " +
           seconds_text(held) + " and no writer claims it (its memory written over?)";
  }
  if (kind == Kind::reader_found_corrupt) {
    return "corrupt: reader pid " + std::to_string(pid) + " (slot " + std::to_string(slot) +
           ") found bytes that are no record at position " + std::to_string(position) + "; its reads fail";
  }
  std::string out = "stalled: writer pid " + std::to_string(pid) + " (slot " + std::to_string(slot) +
                    ") has held an unfinished record at position " + std::to_string(position) + " (" +
                    std::to_string(size) + " bytes) for " + seconds_text(held) + "; readers wait behind it";
  if (waiting_writers > 0) out += ", and " + std::to_string(waiting_writers) + " writer(s)";
  return out;
}

std::vector<Stall> StallWatch::observe(const RingView& v, std::chrono::steady_clock::time_point now,
                                       nanoseconds threshold) {
  const Geometry& g = v.geo;  // read once at attach: bounds every index below
  if (writers_.size() != g.max_writers) writers_.assign(g.max_writers, Seen{});
  const std::uint64_t tail = v.control->tail.load(mo_acquire);

  std::vector<Stall> out;
  std::uint64_t min_cursor = kNoPosition;
  for (std::uint32_t i = 0; i < g.max_readers; ++i) {
    const ReaderSlot& r = v.readers[i];
    if (owner_state(r.owner.load(mo_acquire)) != SlotState::active) continue;
    min_cursor = std::min(min_cursor, r.cursor.load(mo_acquire));
    if (const std::uint64_t bad = r.corrupt_at.load(mo_relaxed); bad != 0) {
      out.push_back(Stall{Stall::Kind::reader_found_corrupt, i, r.pid.load(mo_relaxed), bad - 1, 0, nanoseconds(0), 0});
    }
  }

  // Live writers whose outstanding reservation has not changed for `threshold`.
  std::vector<Candidate> held;
  bool writer_in_window_below_oldest = false;
  for (std::uint32_t i = 0; i < g.max_writers; ++i) {
    const WriterSlot& w = v.writers[i];
    const std::uint64_t o = w.owner.load(mo_acquire);
    Seen& seen = writers_[i];
    if (owner_state(o) != SlotState::active) {
      seen = Seen{};
      continue;
    }
    const std::uint64_t bound = w.reserve_bound.load(mo_acquire);
    std::uint64_t pos = w.reserve_pos.load(mo_acquire);
    if (pos == kNoPosition && bound != kNoPosition && min_cursor != kNoPosition && bound <= min_cursor) {
      writer_in_window_below_oldest = true;  // between its fetch_add and recording where it got
      pos = bound;  // watch it there: stopped inside that window, it holds the ring all the same
    }
    // Positions are only compared: garbage (a position not below the tail, or more than two
    // laps behind it) is ignored here; the ring's readers report corruption themselves.
    if (pos == kNoPosition || pos >= tail || tail - pos > 2 * g.capacity) {
      seen = Seen{};
      continue;
    }
    if (seen.owner != o || seen.position != pos) {
      seen = Seen{o, pos, now};
      continue;
    }
    if (now - seen.since < threshold) continue;
    const std::uint64_t size = std::min<std::uint64_t>(w.reserve_size.load(mo_relaxed), g.capacity);
    // A Block-mode writer whose record lies beyond the readers' space waits for them: the
    // readers are slow (status reports their lag), not this writer.
    if (g.block() && min_cursor != kNoPosition && pos + size > min_cursor + g.capacity) continue;
    held.push_back(Candidate{i, w.pid.load(mo_relaxed), pos, size,
                             std::chrono::duration_cast<nanoseconds>(now - seen.since)});
  }

  // A held reservation that would overwrite an older held one a lap behind waits for it:
  // report the older one, counting those behind it.
  for (const Candidate& c : held) {
    const bool waits = std::any_of(held.begin(), held.end(), [&](const Candidate& d) {
      return d.position < c.position && c.position + c.size > d.position + g.capacity;
    });
    if (waits) continue;
    Stall s{Stall::Kind::writer_holds_record, c.slot, c.pid, c.position, c.size, c.held, 0};
    for (const Candidate& d : held) {
      if (c.position < d.position && d.position + d.size > c.position + g.capacity) ++s.waiting_writers;
    }
    out.push_back(s);
  }

  // The oldest unread position: unpublished and no writer's; in Overwrite mode also within
  // a lap of the tail (a reader further behind is lapped and jumps), in Block mode at any
  // distance (nothing may overwrite it, so a tail beyond it by more is damage too).
  bool stuck = false;
  const bool held_by_writer = std::any_of(out.begin(), out.end(), [](const Stall& x) {
    return x.kind == Stall::Kind::writer_holds_record;
  });
  if (!held_by_writer && !writer_in_window_below_oldest && min_cursor != kNoPosition && min_cursor < tail &&
      (g.block() || tail - min_cursor <= g.capacity) && min_cursor % kRecordAlignment == 0) {
    const RecordHeader* h = v.header_at(min_cursor);
    stuck = h->stamp.load(mo_acquire) != stamp_of(min_cursor);
    for (std::uint32_t i = 0; stuck && i < g.max_writers; ++i) {
      const WriterSlot& w = v.writers[i];
      if (owner_state(w.owner.load(mo_acquire)) == SlotState::free) continue;
      const std::uint64_t p = w.reserve_pos.load(mo_acquire);
      const std::uint64_t ps = w.reserve_size.load(mo_relaxed);
      const std::uint64_t gp = w.given_up_pos.load(mo_acquire) & ~(std::uint64_t{1} << 63);
      const std::uint64_t gs = w.given_up_size.load(mo_relaxed);
      auto covers = [&](std::uint64_t at, std::uint64_t n) {
        return at != (kNoPosition & ~(std::uint64_t{1} << 63)) && at != kNoPosition && at <= min_cursor &&
               min_cursor - at < std::max<std::uint64_t>(n, 1);
      };
      if (covers(p, ps) || covers(gp, gs)) stuck = false;  // a writer's, or skipped by readers
    }
  }
  if (!stuck) {
    oldest_ = Seen{};
  } else if (oldest_.position != min_cursor) {
    oldest_ = Seen{0, min_cursor, now};
  } else if (now - oldest_.since >= threshold) {
    out.push_back(Stall{Stall::Kind::ring_stuck, 0, 0, min_cursor, 0,
                        std::chrono::duration_cast<nanoseconds>(now - oldest_.since), 0});
  }
  return out;
}

}  // namespace stella::ring
