// The ring's reader: a private cursor, records validated by their own stamp, Overwrite
// copies re-checked against tail, losses counted from the writers' sequence numbers. See
// ring.hpp's overview and docs/ring.md.
#include <algorithm>

#include "ring_internal.hpp"
#include "stella/common/error.hpp"
#include "stella/common/platform/barrier.hpp"
#include "stella/common/platform/wait.hpp"

namespace stella::ring {

using namespace detail;

RingReader::RingReader(RingView view, ReaderOptions options) : view_(std::move(view)), options_(options) {
  publish_every_ = std::max<std::uint64_t>(view_.geo.capacity / 4, 1);
  writers_.resize(view_.geo.max_writers);
  barrier_ = platform::register_for_remote_barriers();
  register_slot();
}

RingReader::~RingReader() {
  if (slot_ptr_ == nullptr) return;
  RingControl& c = *view_.control;
  std::uint64_t o = owner_word_;
  if (slot_ptr_->owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::free), mo_acq_rel)) {
    c.readers_generation.fetch_add(1, mo_release);
    // A Block-mode writer may be waiting for us: we no longer hold it back.
    c.space_epoch.fetch_add(1, mo_release);
    platform::wake_on_address(c.space_epoch);
  }
}

void RingReader::register_slot() {
  const auto me = current_identity();
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (std::uint32_t i = 0; i < view_.geo.max_readers; ++i) {
      ReaderSlot& s = view_.readers[i];
      const auto claimed = begin_slot_claim(s, me);
      if (!claimed) continue;
      s.messages_read.store(0, mo_relaxed);
      s.messages_lost.store(0, mo_relaxed);
      s.records_skipped.store(0, mo_relaxed);
      s.corrupt_at.store(0, mo_relaxed);
      s.sleeping.store(0, mo_relaxed);
      s.progress_ns.store(now_ns(), mo_relaxed);
      slot_ptr_ = &s;
      owner_word_ = make_owner(*claimed, SlotState::active);
      if (!activate_slot(*claimed, options_.start)) {  // reaped while claiming: try another
        slot_ptr_ = nullptr;
        continue;
      }
      return;
    }
    if (attempt == 0) recover(view_);
  }
  throw Error(Errc::slots_full, view_.name,
              "all " + std::to_string(view_.geo.max_readers) + " reader slots are taken (raise max_readers)");
}

// Second half of taking a reader slot (after begin_slot_claim, or an eviction): make the
// slot active with a cursor no writer can overwrite before it has seen us, then place the
// real cursor. Returns false if a reaper freed the slot meanwhile (it saw the previous
// owner's dead pid).
bool RingReader::activate_slot(std::uint64_t generation, StartPosition start) {
  RingControl& c = *view_.control;
  ReaderSlot& s = *slot_ptr_;
  // Hold back every writer from the oldest position a reader can start at: published
  // before the slot turns active, so a writer that sees the slot sees this cursor.
  s.cursor.store(oldest_start(c.tail.load(mo_acquire), view_.geo.capacity), mo_release);
  std::uint64_t claiming = make_owner(generation, SlotState::claiming);
  if (!s.owner.compare_exchange_strong(claiming, make_owner(generation, SlotState::active), mo_acq_rel)) return false;
  // seq_cst bump, then seq_cst load of tail: the reader's half of the Dekker with a writer's
  // fetch_add + generation load (RingWriter::readers_allow). A writer whose reservation we
  // do not see in `tail` sees the new generation and rescans the cursors, ours included.
  c.readers_generation.fetch_add(1, mo_seq_cst);
  (void)c.tail.load(mo_seq_cst);
  place_cursor(start);
  return true;
}

void RingReader::place_cursor(StartPosition start) {
  const RingControl& c = *view_.control;
  const std::uint64_t t = c.tail.load(mo_seq_cst);
  // Records are aligned: a misaligned tail is a corrupt control block (reported on read).
  if (t % kRecordAlignment != 0) pending_corrupt_ = true;
  cursor_ = start == StartPosition::latest ? t : oldest_start(t, view_.geo.capacity);
  if (start == StartPosition::latest || pending_corrupt_) cursor_ = t & ~(kRecordAlignment - 1);
  cached_tail_ = cursor_;
  // What each writer slot has committed before our start is not ours to read (nor lost).
  detail::track_writers_from(view_, cursor_, writers_);
  published_ = cursor_;
  slot_ptr_->cursor.store(cursor_, mo_release);
}

bool RingReader::check_still_owner() {
  if (slot_ptr_->owner.load(mo_acquire) == owner_word_) return true;
  // Evicted for stalling (or reaped while we were stopped): take a slot again and resume at
  // our own position, or, if that was overwritten meanwhile, at the oldest record (counted
  // as lost, like being lapped).
  ++evictions_;
  const std::uint64_t keep = cursor_;
  const auto keep_writers = writers_;
  ReaderSlot& s = *slot_ptr_;
  std::uint64_t o = s.owner.load(mo_acquire);
  if (owner_state(o) == SlotState::evicted && owner_generation(o) == owner_generation(owner_word_) &&
      s.owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::claiming), mo_acq_rel)) {
    owner_word_ = make_owner(owner_generation(o), SlotState::active);
    if (!activate_slot(owner_generation(o), StartPosition::oldest)) {
      slot_ptr_ = nullptr;
      register_slot();
    }
  } else {
    slot_ptr_ = nullptr;
    register_slot();
  }
  writers_ = keep_writers;
  if (!pending_corrupt_ && keep > cursor_ && keep <= view_.control->tail.load(mo_acquire)) {
    cursor_ = keep;  // our own position is still ahead of the oldest: nothing skipped
  } else if (keep < cursor_) {
    account_writers_below(cursor_);
  }
  cached_tail_ = cursor_;
  published_ = cursor_;
  slot_ptr_->cursor.store(cursor_, mo_release);
  return false;
}

void RingReader::publish() noexcept {
  RingControl& c = *view_.control;
  ReaderSlot& s = *slot_ptr_;
  // release: pairs with the Block-mode writer's acquire in min_reader_cursor; everything we
  // read before this point is done with, so the writer may overwrite it.
  s.cursor.store(cursor_, mo_release);
  s.messages_read.store(read_, mo_relaxed);
  s.messages_lost.store(lost_, mo_relaxed);
  s.records_skipped.store(skipped_, mo_relaxed);
  s.progress_ns.store(now_ns(), mo_relaxed);
  published_ = cursor_;
  // Pairs with the fence in RingWriter::wait_for_readers after space_waiters++. Once per
  // batch, not per message.
  std::atomic_thread_fence(mo_seq_cst);
  if (c.space_waiters.load(mo_relaxed) != 0) {
    c.space_epoch.fetch_add(1, mo_release);
    platform::wake_on_address(c.space_epoch);
  }
}

void RingReader::maybe_publish() noexcept {
  // Once per batch; sooner only when a Block writer sleeps and we have passed the position
  // it waits for (each reader then wakes it at most once per wait).
  if (cursor_ - published_ >= publish_every_) {
    publish();
    return;
  }
  const RingControl& c = *view_.control;
  if (c.space_waiters.load(mo_relaxed) != 0) {
    const std::uint64_t wanted = c.space_wanted.load(mo_relaxed);
    if (cursor_ >= wanted && published_ < wanted) publish();
  }
}

bool RingReader::overwritten_since(std::uint64_t position) const noexcept {
  // Seqlock re-check (Agrona's broadcast receiver): a writer reserves (fetch_add on tail)
  // before it writes a byte; our loads of the record are ordered before this load of tail
  // by the fence, so a tail within a lap of the record proves nothing overwrote it.
  std::atomic_thread_fence(mo_acquire);
  return view_.control->tail.load(mo_relaxed) > position + view_.geo.capacity;
}

void RingReader::account_writers_below(std::uint64_t position) noexcept {
  lost_ += detail::account_writers_below(view_, position, writers_);
}

RingReader::Next RingReader::found_corrupt() noexcept {
  // Said in our slot too, for status (stellad names the reader and the position): the
  // client gets Errc::corrupt, and nobody else would know.
  if (slot_ptr_ != nullptr && slot_ptr_->corrupt_at.load(mo_relaxed) == 0) {
    slot_ptr_->corrupt_at.store(cursor_ + 1, mo_relaxed);
  }
  return Next::corrupt;
}

void RingReader::check_own_cursor() noexcept {
  // Our slot's cursor is what we published, unless bytes were written over it. Then put ours
  // back; and if writers, misled, have already run more than a lap past it (only damage lets
  // them in Block mode), what we had not read is gone: go on from the oldest record, counting
  // the loss, instead of waiting for a record that will never come.
  ReaderSlot& s = *slot_ptr_;
  if (s.cursor.load(mo_relaxed) == published_) return;
  s.cursor.store(published_, mo_release);
  if (view_.control->tail.load(mo_acquire) > cursor_ + view_.geo.capacity) resync();
}

void RingReader::resync() noexcept {
  const std::uint64_t t = view_.control->tail.load(mo_acquire);
  const std::uint64_t target = oldest_start(t, view_.geo.capacity);
  // A lapped cursor is always behind the oldest start; anything else is a corrupt tail.
  if (target <= cursor_ || t % kRecordAlignment != 0) {
    pending_corrupt_ = true;
    return;
  }
  account_writers_below(target);
  cursor_ = target;
  cached_tail_ = t;
}

void RingReader::count_message(std::uint64_t word, std::uint64_t writer_seq) noexcept {
  lost_ += detail::count_message(writers_, word, writer_seq);
}

std::uint64_t RingReader::skip_marks() const noexcept {
  // A hint only (the entries themselves are read with acquire): changes when a reservation
  // is given up or repaired.
  const RingControl& c = *view_.control;
  return c.reservations_given_up.load(mo_relaxed) + c.records_repaired.load(mo_relaxed);
}

bool RingReader::skip_given_up() noexcept {
  // The record at the cursor is not there yet: a writer that gave up its reservation (or
  // recovery, for a dead one) announces it in its slot until it is filled.
  const auto size = detail::given_up_at(view_, cursor_);
  if (!size) return false;
  cursor_ += *size;
  ++skipped_;
  return true;
}

RingReader::Next RingReader::next_record(bool copy, std::vector<std::byte>* out, RecordView* view) {
  const Geometry& g = view_.geo;
  const RingControl& c = *view_.control;
  // One call never walks more than a lap's worth of records plus a few jumps; more means
  // the ring is corrupt (a fuzzed tail far ahead of garbage padding).
  std::uint64_t budget = g.capacity / kRecordAlignment + 64;
  for (;;) {
    if (pending_corrupt_ || budget-- == 0) return found_corrupt();
    if (cursor_ >= cached_tail_) {
      cached_tail_ = c.tail.load(mo_acquire);  // pairs with the writers' fetch_add (release)
      if (cursor_ >= cached_tail_) return Next::empty;
    }
    // Lapped (Overwrite only: in Block mode a reservation may run ahead of the slowest
    // reader by up to a lap while its writer waits for space, so tail proves nothing there).
    if (!g.block() && cached_tail_ > cursor_ + g.capacity) {
      resync();
      continue;
    }
    const RecordHeader* h = view_.header_at(cursor_);
    // acquire: pairs with the release store of the stamp; the word, the writer's sequence
    // and the payload are visible once it reads as ours.
    if (h->stamp.load(mo_acquire) != stamp_of(cursor_)) {
      if (!g.block() && overwritten_since(cursor_)) {
        resync();
        continue;
      }
      // Given up by its writer (or by recovery for a dead one)? Look in the writers' slots
      // only when something was given up since we last looked here.
      const std::uint64_t marks = skip_marks();
      if (marks != skips_seen_ || cursor_ != skips_seen_at_) {
        if (skip_given_up()) continue;
        skips_seen_ = marks;
        skips_seen_at_ = cursor_;
      }
      return Next::blocked;  // being written (or its writer died: recovery repairs it)
    }
    const std::uint64_t w = h->word.load(mo_relaxed);
    const RecordType type = word_type(w);
    const std::uint64_t size = size_of_record(w);
    const bool sane = ((type == RecordType::message && word_length(w) <= g.max_message) ||
                       ((type == RecordType::padding || type == RecordType::abandoned) && size >= kRecordHeaderSize &&
                        size % kRecordAlignment == 0)) &&
                      fits_in_lap(cursor_, size, g);
    const std::byte* payload = reinterpret_cast<const std::byte*>(h) + kMessageHeaderSize;
    const std::uint32_t len = word_length(w);
    std::uint64_t seq = 0;
    if (sane && type == RecordType::message) {
      seq = message_header(h)->writer_seq.load(mo_relaxed);
      if (copy) {
        out->resize(len);
        copy_out(out->data(), payload, len);
      }
    }
    if (g.block()) {
      // Nothing overwrites what we have not read, unless we were evicted meanwhile.
      std::atomic_thread_fence(mo_acquire);
      if (slot_ptr_->owner.load(mo_relaxed) != owner_word_) return Next::evicted;
    } else if (overwritten_since(cursor_)) {
      resync();
      continue;
    }
    if (!sane) return found_corrupt();
    if (type != RecordType::message) {
      if (type == RecordType::abandoned) ++skipped_;
      cursor_ += size;
      continue;
    }
    if (view != nullptr) {
      view->payload = std::span<const std::byte>(payload, len);
      view->position = cursor_;
      peek_next_ = cursor_ + size;
      peek_word_ = w;
      peek_seq_ = seq;
      return Next::message;
    }
    count_message(w, seq);
    cursor_ += size;
    ++read_;
    maybe_publish();
    return Next::message;
  }
}

bool RingReader::data_available() const noexcept {
  const RingControl& c = *view_.control;
  const std::uint64_t t = c.tail.load(mo_acquire);
  if (cursor_ >= t) return false;
  if (!view_.geo.block() && t > cursor_ + view_.geo.capacity) return true;  // lapped: wake up to jump
  // Anything but a record still being written is worth waking up for.
  return view_.header_at(cursor_)->stamp.load(mo_acquire) == stamp_of(cursor_) || skip_marks() != skips_seen_;
}

ReadStatus RingReader::wait_loop(std::optional<nanoseconds> timeout, bool copy, std::vector<std::byte>* out,
                                 RecordView* view) {
  RingControl& c = *view_.control;
  const auto start = Clock::now();
  // A far-future deadline stands for "forever" (keeps GCC's maybe-uninitialized quiet).
  const bool bounded = timeout.has_value();
  const Clock::time_point deadline = bounded ? start + *timeout : Clock::time_point::max();
  std::uint32_t spins = options_.timing.spin_iterations;
  std::uint64_t stuck_pos = kNoPosition;
  auto stuck_since = start;
  for (;;) {
    if (!check_still_owner()) return ReadStatus::evicted;
    const Next n = next_record(copy, out, view);
    if (n == Next::message) return ReadStatus::ok;
    if (n == Next::corrupt) return ReadStatus::corrupt;
    if (n == Next::evicted) continue;  // check_still_owner re-registers and reports it
    auto now = Clock::now();
    if (n == Next::blocked) {
      if (stuck_pos != cursor_) {
        stuck_pos = cursor_;
        stuck_since = now;
      } else if (now - stuck_since >= options_.timing.recovery_timeout) {
        recover(view_);  // its writer may have died between reserving and committing
        check_own_cursor();
        stuck_since = now;
      }
    }
    if (spins > 0) {
      --spins;
      cpu_relax();
      continue;
    }
    if (bounded && now >= deadline) return ReadStatus::timeout;
    publish();
    c.data_waiters.fetch_add(1, mo_relaxed);
    slot_ptr_->sleeping.store(1, mo_relaxed);
    // Dekker with wake_readers: writers read data_waiters right after their release store,
    // without a fence; the remote barrier orders their accesses for them (or, where there is
    // none, they fence themselves). Either we see the record, or the writer sees us counted.
    // Without the barrier on this OS, writers fence (they failed to register too).
    const bool ordered = !barrier_ || platform::remote_barrier();
    std::atomic_thread_fence(mo_seq_cst);
    const std::uint32_t epoch = c.data_epoch.load(mo_acquire);
    if (!data_available()) {
      std::optional<nanoseconds> wait;
      if (bounded) wait = std::chrono::duration_cast<nanoseconds>(deadline - now);
      if (n == Next::blocked) wait = std::min(wait.value_or(options_.timing.recovery_timeout), options_.timing.recovery_timeout);
      // The barrier failed unexpectedly: re-check often rather than miss a wake.
      if (!ordered) wait = std::min(wait.value_or(nanoseconds(std::chrono::milliseconds(1))), nanoseconds(std::chrono::milliseconds(1)));
      platform::wait_on_address(c.data_epoch, epoch, wait);
    }
    slot_ptr_->sleeping.store(0, mo_relaxed);
    c.data_waiters.fetch_sub(1, mo_relaxed);
  }
}

ReadStatus RingReader::try_read(std::vector<std::byte>& out) {
  if (!check_still_owner()) return ReadStatus::evicted;
  switch (next_record(true, &out, nullptr)) {
    case Next::message: return ReadStatus::ok;
    case Next::corrupt: return ReadStatus::corrupt;
    case Next::evicted: return check_still_owner() ? ReadStatus::empty : ReadStatus::evicted;
    default: break;
  }
  if (cursor_ != published_) publish();  // drained: let Block writers and status see it
  return ReadStatus::empty;
}

ReadStatus RingReader::read(std::vector<std::byte>& out, std::optional<nanoseconds> timeout) {
  return wait_loop(timeout, true, &out, nullptr);
}

ReadStatus RingReader::try_peek(RecordView& out) {
  if (!check_still_owner()) return ReadStatus::evicted;
  switch (next_record(false, nullptr, &out)) {
    case Next::message: return ReadStatus::ok;
    case Next::corrupt: return ReadStatus::corrupt;
    case Next::evicted: return check_still_owner() ? ReadStatus::empty : ReadStatus::evicted;
    default: break;
  }
  if (cursor_ != published_) publish();
  return ReadStatus::empty;
}

ReadStatus RingReader::peek(RecordView& out, std::optional<nanoseconds> timeout) {
  return wait_loop(timeout, false, nullptr, &out);
}

bool RingReader::release() noexcept {
  if (peek_next_ == kNoPosition) return false;
  // Same re-check as after a copy: in Overwrite mode nothing reserved over the record
  // while the caller looked; in Block mode we were not evicted (nothing overwrote it).
  bool intact;
  if (view_.geo.block()) {
    std::atomic_thread_fence(mo_acquire);
    intact = slot_ptr_->owner.load(mo_relaxed) == owner_word_;
  } else {
    intact = !overwritten_since(cursor_);
  }
  if (intact) {
    count_message(peek_word_, peek_seq_);
    cursor_ = peek_next_;
    ++read_;
  } else if (!view_.geo.block()) {
    resync();
  }
  peek_next_ = kNoPosition;
  maybe_publish();
  return intact;
}

}  // namespace stella::ring
