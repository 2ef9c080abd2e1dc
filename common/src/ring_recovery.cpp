// Recovery: what dead processes leave behind. A dead writer's outstanding reservation
// becomes a given-up one (readers skip it; it is filled with an abandoned record once its
// space is free); a dead reader's slot is freed. Every repair is a CAS on the value
// observed, so concurrent recoverers never repair the same thing twice.
#include <algorithm>

#include "ring_internal.hpp"

namespace stella::ring {

using namespace detail;

namespace {

/// The first position in [pos, pos + size) that holds no published record: a reservation
/// its writer published part of (padding split at the end of the data) is repaired only
/// from there. Returns pos + size if the whole reservation is published.
std::uint64_t first_unpublished(const RingView& v, std::uint64_t pos, std::uint64_t size) {
  const std::uint64_t end = pos + size;
  while (pos < end) {
    const RecordHeader* h = v.header_at(pos);
    if (h->stamp.load(mo_acquire) != stamp_of(pos)) return pos;
    const std::uint64_t s = size_of_record(h->word.load(mo_relaxed));
    if (s < kRecordHeaderSize || s % kRecordAlignment != 0 || !fits_in_lap(pos, s, v.geo)) return pos;
    pos += s;
  }
  return end;
}

/// What occupies position x, as far as the published records and the writers' slots tell.
/// Returns its size, 0 if nothing known starts there.
std::uint64_t known_at(const RingView& v, std::uint64_t x, std::uint32_t self) {
  const RecordHeader* h = v.header_at(x);
  if (h->stamp.load(mo_acquire) == stamp_of(x)) return size_of_record(h->word.load(mo_relaxed));
  for (std::uint32_t i = 0; i < v.geo.max_writers; ++i) {
    if (i == self) continue;
    const WriterSlot& w = v.writers[i];
    if (w.reserve_pos.load(mo_acquire) == x) return w.reserve_size.load(mo_relaxed);
    if ((w.given_up_pos.load(mo_acquire) & ~(std::uint64_t{1} << 63)) == x) return w.given_up_size.load(mo_relaxed);
  }
  return 0;
}

/// Finds where a writer that died between storing its bound and storing its position got
/// its reservation: walking records from the bound (a record boundary: a value of tail),
/// the first position that is neither a published record nor another writer's known
/// reservation is its — unless another writer, between its own fetch_add and recording
/// it, could own that position too: a live one will record it in a moment (try again on a
/// later pass); of several dead ones, the one whose size leads to a known boundary gets
/// it. nullopt: it died before its fetch_add (nothing reserved), or this pass cannot tell.
std::optional<std::uint64_t> locate_reservation(const RingView& v, std::uint32_t self, std::uint64_t bound,
                                                std::uint64_t size, bool& nothing_reserved) {
  nothing_reserved = false;
  const std::uint64_t tail = v.control->tail.load(mo_acquire);
  std::uint64_t x = bound;
  for (int steps = 0;; ++steps) {
    if (x >= tail) {
      nothing_reserved = x == tail;  // every position is accounted for: it died before reserving
      return std::nullopt;
    }
    // Writers lapping onto the bound wait for it (it counts as outstanding), so nothing from
    // the bound on has been overwritten; beyond a lap past it lie only reservations whose
    // writers wait (known from their slots). A writer that died before its fetch_add is told
    // apart only by walking all the way to the tail.
    if (steps >= 65536 || x % kRecordAlignment != 0) return std::nullopt;
    const std::uint64_t known = known_at(v, x, self);
    if (known == 0) break;
    if (known % kRecordAlignment != 0 || known > v.geo.capacity) return std::nullopt;
    x += known;
  }
  bool rival = false;
  for (std::uint32_t i = 0; i < v.geo.max_writers; ++i) {
    if (i == self) continue;
    const WriterSlot& w = v.writers[i];
    const std::uint64_t b = w.reserve_bound.load(mo_acquire);
    if (b == kNoPosition || b > x || w.reserve_pos.load(mo_acquire) != kNoPosition) continue;
    if (!dead(w.token)) return std::nullopt;  // a live writer may own x: it records it soon
    rival = true;
  }
  if (rival) {
    const std::uint64_t y = x + size;  // does our size lead to something known?
    if (y != tail && (y > tail || known_at(v, y, self) == 0)) return std::nullopt;
  }
  return x;
}

/// Repairs dead writer `i`. Returns whether its reservation was made skippable, and frees
/// the slot (writers_reaped) once nothing of it is left.
void repair_dead_writer(const RingView& v, std::uint32_t i, std::uint64_t owner, RecoveryReport& rep) {
  WriterSlot& s = v.writers[i];
  if (!resolve_given_up(v, i)) return;  // its earlier given-up reservation first; next pass
  std::uint64_t pos = s.reserve_pos.load(mo_acquire);
  const std::uint64_t size = s.reserve_size.load(mo_relaxed);
  if (pos == kNoPosition) {
    const std::uint64_t bound = s.reserve_bound.load(mo_acquire);
    if (bound != kNoPosition) {
      bool nothing_reserved = false;
      if (const auto found = locate_reservation(v, i, bound, size, nothing_reserved)) {
        pos = *found;
      } else if (!nothing_reserved) {
        return;  // cannot tell yet: a later pass will
      }
    }
  }
  if (pos != kNoPosition && pos % kRecordAlignment == 0 && size >= kRecordHeaderSize && size <= v.geo.capacity / 2 &&
      size % kRecordAlignment == 0) {
    const std::uint64_t from = first_unpublished(v, pos, size);
    if (from < pos + size) {
      std::uint64_t none = kNoPosition;
      s.given_up_size.store(pos + size - from, mo_relaxed);
      // acq_rel: one recoverer turns the reservation into a given-up one.
      if (!s.given_up_pos.compare_exchange_strong(none, from, mo_acq_rel)) return;
      ++rep.records_repaired;
    }
  }
  // CAS, not a store: another recoverer may have finished this slot, and a new writer
  // taken it, since we read these words.
  if (s.owner.load(mo_acquire) != owner) return;
  std::uint64_t seen = s.reserve_pos.load(mo_relaxed);
  if (seen != kNoPosition && seen == pos) s.reserve_pos.compare_exchange_strong(seen, kNoPosition, mo_acq_rel);
  seen = s.reserve_bound.load(mo_relaxed);
  if (seen != kNoPosition) s.reserve_bound.compare_exchange_strong(seen, kNoPosition, mo_acq_rel);
  if (!resolve_given_up(v, i)) return;  // fillable later; readers skip it meanwhile
  if (s.owner.compare_exchange_strong(owner, make_owner(owner_generation(owner), SlotState::free), mo_acq_rel)) {
    ++rep.writers_reaped;
    v.control->messages_retired.fetch_add(s.messages_written.load(mo_relaxed), mo_relaxed);
  }
}

}  // namespace

RecoveryReport recover(const RingView& v, const RecoveryOptions& options) {
  RingControl& c = *v.control;
  const Geometry& g = v.geo;
  RecoveryReport rep;

  // 1. Dead writers: make their reservation skippable, fill it when possible, free the slot.
  //    Live writers' given-up reservations are filled here too once their space is free.
  for (std::uint32_t i = 0; i < g.max_writers; ++i) {
    WriterSlot& s = v.writers[i];
    const std::uint64_t o = s.owner.load(mo_acquire);
    const SlotState st = owner_state(o);
    if (st != SlotState::active && st != SlotState::claiming) continue;
    if (dead(s.token)) {
      repair_dead_writer(v, i, o, rep);
    } else if (s.given_up_pos.load(mo_relaxed) != kNoPosition) {
      (void)resolve_given_up(v, i);
    }
  }

  // 2. Dead readers: free the slot (a sleeping one also leaves the waiter count).
  for (std::uint32_t i = 0; i < g.max_readers; ++i) {
    ReaderSlot& s = v.readers[i];
    std::uint64_t o = s.owner.load(mo_acquire);
    if (owner_state(o) == SlotState::free) continue;
    if (!dead(s.token)) continue;
    const bool was_sleeping = s.sleeping.load(mo_acquire) != 0;
    if (s.owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::free), mo_acq_rel)) {
      ++rep.readers_reaped;
      if (was_sleeping) {
        s.sleeping.store(0, mo_relaxed);
        std::uint32_t n = c.data_waiters.load(mo_relaxed);
        while (n > 0 && !c.data_waiters.compare_exchange_weak(n, n - 1, mo_relaxed)) {
        }
      }
      c.readers_generation.fetch_add(1, mo_release);
    }
  }

  // 3. Optional: evict live readers stalled with data waiting.
  if (options.evict_stalled_after) {
    const std::uint64_t now = now_ns();
    const auto limit = static_cast<std::uint64_t>(options.evict_stalled_after->count());
    const std::uint64_t tail = c.tail.load(mo_acquire);
    for (std::uint32_t i = 0; i < g.max_readers; ++i) {
      ReaderSlot& s = v.readers[i];
      std::uint64_t o = s.owner.load(mo_acquire);
      if (owner_state(o) != SlotState::active) continue;
      if (s.cursor.load(mo_acquire) >= tail) continue;  // idle, not stalled
      const std::uint64_t progress = s.progress_ns.load(mo_relaxed);
      if (now < progress || now - progress < limit) continue;
      if (s.owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::evicted), mo_acq_rel)) {
        ++rep.readers_evicted;
        c.readers_generation.fetch_add(1, mo_release);
      }
    }
  }

  if (rep.changed()) {
    c.records_repaired.fetch_add(rep.records_repaired, mo_relaxed);
    c.readers_reaped.fetch_add(rep.readers_reaped, mo_relaxed);
    c.writers_reaped.fetch_add(rep.writers_reaped, mo_relaxed);
    c.readers_evicted.fetch_add(rep.readers_evicted, mo_relaxed);
    c.recovery_passes.fetch_add(1, mo_relaxed);
    c.last_recovery_unix_ns.store(static_cast<std::uint64_t>(std::chrono::duration_cast<nanoseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                                               .count()),
                                  mo_relaxed);
    wake_all(c);  // whoever waited on what was repaired re-checks
  }
  return rep;
}

}  // namespace stella::ring
