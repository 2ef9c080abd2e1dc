// The ring's writer: one fetch_add on tail per record, then the checks that make the
// space safe to write (against values cached privately), then the copy and a release
// store of the record's stamp. See ring.hpp's overview and docs/ring.md.
#include <algorithm>
#include <thread>

#include "ring_internal.hpp"
#include "stella/common/error.hpp"
#include "stella/common/platform/barrier.hpp"
#include "stella/common/platform/wait.hpp"

namespace stella::ring {

using namespace detail;

namespace {
constexpr std::uint64_t kResolving = std::uint64_t{1} << 63;  // given_up_pos: a resolver is filling it
constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};

/// Lowest position anyone may still write at, as seen after loading tail `t` (reservations
/// taken after that load start at or above it): every writer's outstanding reservation
/// (exact, or the bound stored before its fetch_add) except `skip_reservation`'s, and every
/// unresolved given-up reservation (its filler is still to be written) except
/// `skip_given_up`'s. `holder` gets the slot of the lowest given-up entry found.
std::uint64_t lowest_outstanding(const RingView& v, std::uint64_t t, std::uint32_t skip_reservation,
                                 std::uint32_t skip_given_up, std::uint32_t* holder = nullptr) noexcept {
  std::uint64_t low = t;
  for (std::uint32_t i = 0; i < v.geo.max_writers; ++i) {
    const WriterSlot& s = v.writers[i];
    if (i != skip_reservation) {
      // acquire: pairs with finish_reservation's release; the record it finished is written.
      std::uint64_t p = s.reserve_pos.load(mo_acquire);
      if (p == kNoPosition) p = s.reserve_bound.load(mo_acquire);
      low = std::min(low, p);
    }
    if (i != skip_given_up) {
      const std::uint64_t g = s.given_up_pos.load(mo_acquire);
      if (g != kNoPosition && (g & ~kResolving) < low) {
        low = g & ~kResolving;
        if (holder != nullptr) *holder = i;
      }
    }
  }
  return low;
}

std::uint64_t min_reader_cursor(const RingView& v) noexcept {
  std::uint64_t min = kNoPosition;
  for (std::uint32_t i = 0; i < v.geo.max_readers; ++i) {
    const ReaderSlot& r = v.readers[i];
    if (owner_state(r.owner.load(mo_acquire)) != SlotState::active) continue;
    min = std::min(min, r.cursor.load(mo_acquire));  // pairs with RingReader::publish
  }
  return min;
}
}  // namespace

namespace detail {
// Fills writer `idx`'s given-up reservation with an abandoned record once nobody can need
// the bytes it covers any more: no other writer still writes below its end one lap back,
// and (Block) every reader has read them. Exactly one resolver writes (CAS on the entry);
// anyone with write access may resolve (its writer, a writer lapping onto it, recovery).
// Returns whether the entry is gone.
bool resolve_given_up(const RingView& v, std::uint32_t idx) noexcept {
  WriterSlot& s = v.writers[idx];
  std::uint64_t g = s.given_up_pos.load(mo_acquire);
  if (g == kNoPosition) return true;
  const std::uint64_t size = s.given_up_size.load(mo_relaxed);
  const RingControl& c = *v.control;
  const std::uint64_t t = c.tail.load(mo_acquire);
  const std::uint64_t at = g & ~kResolving;
  // Not a reservation anyone gave up (bytes written over the slot: a given-up reservation
  // lies below the tail, aligned, at most half the ring), or one being filled that a whole
  // lap has passed since (its resolver died): drop it, or it would hold every writer back
  // for good. Had it been real, its space stays unpublished: readers stop there, and status
  // reports the ring stuck.
  const bool impossible = size == 0 || size > v.geo.capacity / 2 || size % kRecordAlignment != 0 ||
                          at % kRecordAlignment != 0 || at >= t;
  if (impossible || ((g & kResolving) != 0 && t >= at + size + v.geo.capacity)) {
    return s.given_up_pos.compare_exchange_strong(g, kNoPosition, mo_acq_rel);
  }
  if ((g & kResolving) != 0) return false;  // someone else is filling it
  const std::uint64_t end = g + size;
  // A later lap already covers it: nobody reads it any more. In Overwrite mode readers still
  // behind it are lapped; in Block mode tail may run up to a lap ahead of the slowest reader
  // (reservations waiting for space), so every reader must also be past it.
  if (t >= end + v.geo.capacity && (!v.geo.block() || min_reader_cursor(v) >= end)) {
    return s.given_up_pos.compare_exchange_strong(g, kNoPosition, mo_acq_rel);
  }
  if (end > v.geo.capacity) {
    if (lowest_outstanding(v, t, kNoSlot, idx) < end - v.geo.capacity) return false;
    if (v.geo.block() && min_reader_cursor(v) < end - v.geo.capacity) return false;
  }
  if (!s.given_up_pos.compare_exchange_strong(g, g | kResolving, mo_acq_rel)) return false;
  write_filler(v, g, size, RecordType::abandoned, idx);
  // release: the filler is written before anyone sees the entry gone and overwrites it.
  s.given_up_pos.store(kNoPosition, mo_release);
  return true;
}
}  // namespace detail

RingWriter::RingWriter(RingView view, Timing timing) : view_(std::move(view)), timing_(timing) {
  writer_fence_ = !platform::register_for_remote_barriers();
  const auto me = current_identity();
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (std::uint32_t i = 0; i < view_.geo.max_writers; ++i) {
      WriterSlot& s = view_.writers[i];
      const auto claimed = begin_slot_claim(s, me);
      if (!claimed) continue;
      const std::uint64_t gen = *claimed;
      s.reserve_bound.store(kNoPosition, mo_relaxed);
      s.reserve_pos.store(kNoPosition, mo_relaxed);
      s.reserve_size.store(0, mo_relaxed);
      s.last_commit.store(kNoPosition, mo_relaxed);
      s.messages_written.store(0, mo_relaxed);
      s.given_up_pos.store(kNoPosition, mo_relaxed);
      s.given_up_size.store(0, mo_relaxed);
      std::uint64_t claiming = make_owner(gen, SlotState::claiming);
      // release: the fields above are visible to whoever sees the slot active. If a reaper
      // freed the slot meanwhile (it saw the previous owner's dead pid), try another.
      if (!s.owner.compare_exchange_strong(claiming, make_owner(gen, SlotState::active), mo_acq_rel)) continue;
      slot_ptr_ = &s;
      slot_ = i;
      generation_ = gen;
      owner_word_ = make_owner(gen, SlotState::active);
      return;
    }
    if (attempt == 0) recover(view_);  // free the slots of dead writers, then look again
  }
  throw Error(Errc::slots_full, view_.name,
              "all " + std::to_string(view_.geo.max_writers) + " writer slots are taken (raise max_writers)");
}

RingWriter::~RingWriter() {
  if (slot_ptr_ == nullptr) return;
  // A given-up reservation that cannot be filled yet keeps the slot until the process
  // exits (then recovery fills it): readers find it in this slot to skip it.
  if (!detail::resolve_given_up(view_, slot_)) return;
  std::uint64_t o = owner_word_;
  // release: our last writes happen-before the next owner's claim.
  if (slot_ptr_->owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::free), mo_release,
                                               mo_relaxed)) {
    view_.control->messages_retired.fetch_add(next_seq_, mo_relaxed);  // status: messages ever written
  }
}

bool RingWriter::readers_allow(std::uint64_t end, bool rescan) {
  if (end <= view_.geo.capacity) return true;  // the first lap overwrites nothing
  const std::uint64_t need = end - view_.geo.capacity;
  // seq_cst: after our fetch_add (seq_cst), this is the writer's half of the Dekker with a
  // registering reader (it bumps the generation, then loads tail): either we see its bump
  // and rescan, or it saw our reservation and starts beyond what we overwrite.
  const std::uint64_t gen = view_.control->readers_generation.load(mo_seq_cst);
  if (!rescan && gen == cached_readers_generation_ && cached_min_cursor_ >= need) return true;
  // Cached minimum fell short (or readers changed): scan the slots.
  cached_readers_generation_ = gen;
  cached_min_cursor_ = min_reader_cursor(view_);
  return cached_min_cursor_ >= need;
}

bool RingWriter::writers_allow(std::uint64_t end, bool rescan) {
  if (end <= view_.geo.capacity) return true;
  const std::uint64_t need = end - view_.geo.capacity;
  if (!rescan && writers_safe_below_ >= need) return true;
  // Our own given-up reservation counts too: we must not lap onto it before it is filled.
  std::uint32_t holder = kNoSlot;
  writers_safe_below_ = lowest_outstanding(view_, view_.control->tail.load(mo_acquire), slot_, kNoSlot, &holder);
  if (writers_safe_below_ >= need) return true;
  // A given-up reservation in the way may be fillable now; then look again.
  if (holder != kNoSlot && detail::resolve_given_up(view_, holder)) {
    writers_safe_below_ = lowest_outstanding(view_, view_.control->tail.load(mo_acquire), slot_, kNoSlot);
  }
  return writers_safe_below_ >= need;
}

RingWriter::Wait RingWriter::wait_for_readers(std::uint64_t end, std::optional<Clock::time_point> deadline) {
  RingControl& c = *view_.control;
  for (std::uint32_t i = 0; i < timing_.spin_iterations; ++i) {
    cpu_relax();
    if (readers_allow(end, true)) return Wait::ok;
  }
  std::uint64_t last_min = cached_min_cursor_;
  auto last_progress = Clock::now();
  // Hysteresis: readers wake us once they have freed a slice of the ring, not per message.
  c.space_wanted.store(end - view_.geo.capacity + view_.geo.capacity / 8, mo_relaxed);
  for (;;) {
    c.space_waiters.fetch_add(1, mo_relaxed);
    std::atomic_thread_fence(mo_seq_cst);  // pairs with the fence in RingReader::publish
    const std::uint32_t epoch = c.space_epoch.load(mo_acquire);  // pairs with the reader's release bump
    const bool ok = readers_allow(end, true);
    if (!ok) {
      nanoseconds wait = timing_.recovery_timeout;
      if (deadline) wait = std::min(wait, std::chrono::duration_cast<nanoseconds>(*deadline - Clock::now()));
      if (wait.count() > 0) platform::wait_on_address(c.space_epoch, epoch, wait);
    }
    c.space_waiters.fetch_sub(1, mo_relaxed);
    if (ok || readers_allow(end, true)) return Wait::ok;
    const auto now = Clock::now();
    if (cached_min_cursor_ != last_min) {
      last_min = cached_min_cursor_;
      last_progress = now;
    } else if (now - last_progress >= timing_.recovery_timeout) {
      recover(view_);  // a dead reader may be holding us back
      last_progress = now;
    }
    if (deadline && now >= *deadline) return Wait::timeout;
  }
}

RingWriter::Wait RingWriter::wait_for_writers(std::uint64_t end, std::optional<Clock::time_point> deadline) {
  // Rare: another writer still fills a record a whole lap behind us. Its commit does not
  // wake us (that would cost every commit a check), so sleep in growing slices.
  RingControl& c = *view_.control;
  auto delay = std::chrono::microseconds(20);
  auto last_progress = Clock::now();
  std::uint64_t last_low = writers_safe_below_;
  for (std::uint32_t i = 0; i < timing_.spin_iterations; ++i) {
    cpu_relax();
    if (writers_allow(end, true)) return Wait::ok;
  }
  for (;;) {
    const std::uint32_t epoch = c.lap_epoch.load(mo_acquire);  // bumped by recovery (wake_all)
    nanoseconds wait = delay;
    if (deadline) wait = std::min(wait, std::chrono::duration_cast<nanoseconds>(*deadline - Clock::now()));
    if (wait.count() > 0) platform::wait_on_address(c.lap_epoch, epoch, wait);
    delay = std::min(delay * 2, std::chrono::microseconds(1000));
    if (writers_allow(end, true)) return Wait::ok;
    const auto now = Clock::now();
    if (writers_safe_below_ != last_low) {
      last_low = writers_safe_below_;
      last_progress = now;
    } else if (now - last_progress >= timing_.recovery_timeout) {
      recover(view_);  // its writer may have died
      last_progress = now;
    }
    if (deadline && now >= *deadline) return Wait::timeout;
  }
}

RingWriter::Wait RingWriter::make_room(std::uint64_t, std::uint64_t end, std::optional<Clock::time_point> deadline,
                                       bool try_only) {
  if (view_.geo.block() && !readers_allow(end, false)) {
    if (try_only) return Wait::would_block;
    if (const Wait w = wait_for_readers(end, deadline); w != Wait::ok) return w;
  }
  if (!writers_allow(end, false)) {
    if (try_only) return Wait::would_block;
    if (const Wait w = wait_for_writers(end, deadline); w != Wait::ok) return w;
  }
  return Wait::ok;
}

RingWriter::Wait RingWriter::precheck_space(std::uint64_t need_end, std::optional<Clock::time_point> deadline,
                                            bool try_only) {
  if (readers_allow(need_end, false)) return Wait::ok;
  if (try_only) return Wait::would_block;
  return wait_for_readers(need_end, deadline);
}

void RingWriter::finish_reservation() noexcept {
  // release: pairs with lowest_outstanding's acquire: our record is complete before a
  // lapping writer may overwrite it.
  slot_ptr_->reserve_pos.store(kNoPosition, mo_release);
  slot_ptr_->reserve_bound.store(kNoPosition, mo_release);
}

void RingWriter::give_up(std::uint64_t pos, std::uint64_t size) noexcept {
  // Readers that reach `pos` find it here and skip it; it is filled with an abandoned
  // record once its space is free (by us, a lapping writer or recovery).
  slot_ptr_->given_up_size.store(size, mo_relaxed);
  slot_ptr_->given_up_pos.store(pos, mo_release);  // pairs with the reader's acquire in skip_given_up
  finish_reservation();
  ++given_up_count_;
  view_.control->reservations_given_up.fetch_add(1, mo_relaxed);
  wake_readers(*view_.control, true);  // a sleeping reader stuck at `pos` re-checks
}

bool RingWriter::resolve_given_up() { return detail::resolve_given_up(view_, slot_); }

WriteStatus RingWriter::reserve(std::uint32_t length, std::optional<Clock::time_point> deadline, bool try_only,
                                Reservation& out) {
  const Geometry& g = view_.geo;
  if (length > g.max_message) return WriteStatus::too_large;
  RingControl& c = *view_.control;
  WriterSlot& s = *slot_ptr_;
  const std::uint64_t rec = record_size(length);
  // The slot holds one given-up reservation: another may only be given up once it is filled.
  if (s.given_up_pos.load(mo_relaxed) != kNoPosition && !resolve_given_up()) {
    auto delay = std::chrono::microseconds(20);
    auto since = Clock::now();
    while (!resolve_given_up()) {
      if (try_only) return WriteStatus::would_block;
      const auto now = Clock::now();
      if (deadline && now >= *deadline) return WriteStatus::timeout;
      if (now - since >= timing_.recovery_timeout) {
        recover(view_);  // what holds it up may belong to a dead writer
        since = now;
      }
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::microseconds(1000));
    }
  }
  for (;;) {
    std::uint64_t t = c.tail.load(mo_relaxed);
    // A record that would cross the end of the data: first reserve just the rest of the lap
    // (as padding), then the record at the start of the next lap.
    std::uint64_t size = fits_in_lap(t, rec, g) ? rec : g.capacity - (t & g.mask);
    if (g.block()) {
      // Before reserving, wait until it fits behind the slowest reader: a reservation then
      // nearly always has its space, and a writer that times out here leaves nothing behind.
      switch (precheck_space(t + size, deadline, try_only)) {
        case Wait::ok: break;
        case Wait::timeout: return WriteStatus::timeout;
        case Wait::would_block: return WriteStatus::would_block;
      }
      t = c.tail.load(mo_relaxed);
      size = fits_in_lap(t, rec, g) ? rec : g.capacity - (t & g.mask);
    }
    s.reserve_size.store(size, mo_relaxed);
    s.reserve_bound.store(t, mo_relaxed);  // t <= the position we get: tail only grows
    // The reservation. seq_cst: release, so the bound above is visible to whoever acquires
    // tail after us (lowest_outstanding); acquire, so we see the writers before us; and the
    // writer's half of the Dekker with a registering reader (see readers_allow).
    const std::uint64_t pos = c.tail.fetch_add(size, mo_seq_cst);
    if (pause_hook_ != nullptr) pause_hook_("reserved");  // tests: die before recording the position
    // Only damage puts the tail off a record boundary (or within two laps of wrapping 2^64):
    // write nothing there, and say so.
    if (pos % kRecordAlignment != 0 || pos > kNoPosition - 2 * g.capacity) {
      s.reserve_bound.store(kNoPosition, mo_relaxed);
      return WriteStatus::corrupt;
    }
    s.reserve_pos.store(pos, mo_relaxed);
    const std::uint64_t end = pos + size;
    if (const Wait w = make_room(pos, end, deadline, try_only); w != Wait::ok) {
      give_up(pos, size);
      return w == Wait::timeout ? WriteStatus::timeout : WriteStatus::would_block;
    }
    if (size != rec || !fits_in_lap(pos, rec, g)) {
      // Padding up to the end of the lap, or a record that others' reservations pushed
      // across it: fill it with padding (split at the end) and reserve again.
      write_filler(view_, pos, size, RecordType::padding, slot_);
      finish_reservation();
      wake_readers(c, writer_fence_);
      continue;
    }
    out.payload = reinterpret_cast<std::byte*>(view_.header_at(pos)) + kMessageHeaderSize;
    out.length = length;
    out.position = pos;
    reserved_size_ = rec;
    if (pause_hook_ != nullptr) pause_hook_("claim");
    return WriteStatus::ok;
  }
}

void RingWriter::commit(Reservation& r) noexcept {
  if (r.position == kNoPosition) return;
  RecordHeader* h = view_.header_at(r.position);
  message_header(h)->writer_seq.store(next_seq_, mo_relaxed);
  h->word.store(make_word(r.length, RecordType::message, slot_, generation_), mo_relaxed);
  // release: pairs with the reader's acquire of the stamp: payload, word and sequence are
  // visible to a reader that sees it.
  h->stamp.store(stamp_of(r.position), mo_release);
  WriterSlot& s = *slot_ptr_;
  s.last_commit.store(r.position, mo_relaxed);
  // release: pairs with RingReader::account_writers_below (count, then last_commit).
  s.messages_written.store(++next_seq_, mo_release);
  finish_reservation();
  r.position = kNoPosition;
  wake_readers(*view_.control, writer_fence_);
}

void RingWriter::abort(Reservation& r) noexcept {
  if (r.position == kNoPosition) return;
  write_filler(view_, r.position, reserved_size_, RecordType::abandoned, slot_);
  finish_reservation();
  r.position = kNoPosition;
  wake_readers(*view_.control, writer_fence_);
}

}  // namespace stella::ring
