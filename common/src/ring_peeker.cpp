// The slotless reader (`stella tail --peek`): reads a ring without a reader slot and writes
// nothing into the mapping, so it may map the ring read-only and never holds a writer back.
// It validates a record as an Overwrite RingReader does (its own stamp before the copy;
// after it, an acquire fence, then the stamp unchanged and tail <= cursor + capacity), in
// both modes, and when lapped jumps to oldest_start(tail) counting what it skipped. See
// ring.hpp and docs/ring.md ("Peeking without a slot").
//
// count_message, account_writers_below and skip_given_up are copies of RingReader's
// (ring_reader.cpp), trimmed to loads: that file is not this one's to change, and the
// reader's versions are private members.
#include <algorithm>
#include <thread>

#include "ring_internal.hpp"
#include "stella/common/platform/wait.hpp"

namespace stella::ring {

using namespace detail;

RingPeeker::RingPeeker(RingView view, PeekerOptions options) : view_(std::move(view)), options_(options) {
  if (options_.max_poll <= nanoseconds::zero()) options_.max_poll = std::chrono::milliseconds(1);
  writers_.resize(view_.geo.max_writers);
  const std::uint64_t t = view_.control->tail.load(mo_acquire);
  // Records are aligned: a misaligned tail is a corrupt control block (reported on read).
  if (t % kRecordAlignment != 0) corrupt_ = true;
  cursor_ = options_.start == StartPosition::latest ? t : oldest_start(t, view_.geo.capacity);
  if (options_.start == StartPosition::latest || corrupt_) cursor_ = t & ~(kRecordAlignment - 1);
  cached_tail_ = cursor_;
  // What each writer slot committed before our start is not ours to read (nor lost); as
  // RingReader::place_cursor.
  for (std::uint32_t i = 0; i < view_.geo.max_writers; ++i) {
    const WriterSlot& w = view_.writers[i];
    WriterTrack& track = writers_[i];
    const std::uint64_t o = w.owner.load(mo_acquire);
    track.generation = owner_generation(o) & 0xFF;
    const std::uint64_t count = w.messages_written.load(mo_acquire);  // pairs with commit's release
    const std::uint64_t last = w.last_commit.load(mo_relaxed);
    track.known = last == kNoPosition || last < cursor_;
    track.next_seq = count;
    if (owner_state(o) == SlotState::free) {  // the next writer here is a new generation
      track.generation = (owner_generation(o) + 1) & 0xFF;
      track.next_seq = 0;
      track.known = true;
    }
  }
}

bool RingPeeker::overwritten_since(std::uint64_t position) const noexcept {
  // Seqlock re-check (Agrona's broadcast receiver): a writer reserves (fetch_add on tail)
  // before it writes a byte; our loads of the record are ordered before this load of tail
  // by the fence, so a tail within a lap of the record proves nothing overwrote it. This
  // holds in Block mode too: there it is only more cautious (a reservation may wait for a
  // registered reader without writing).
  std::atomic_thread_fence(mo_acquire);
  return view_.control->tail.load(mo_relaxed) > position + view_.geo.capacity;
}

bool RingPeeker::jump() noexcept {
  const std::uint64_t t = view_.control->tail.load(mo_acquire);
  const std::uint64_t target = oldest_start(t, view_.geo.capacity);
  // A lapped cursor is always behind the oldest start; anything else is a corrupt tail.
  if (target <= cursor_ || t % kRecordAlignment != 0) {
    corrupt_ = true;
    return false;
  }
  account_writers_below(target);
  cursor_ = target;
  cached_tail_ = t;
  ++laps_;
  return true;
}

void RingPeeker::account_writers_below(std::uint64_t position) noexcept {
  // As RingReader::account_writers_below: each writer whose last commit lies below the
  // position we jump to has nothing more there for us; its count since our last message
  // from it is lost. A writer with records on both sides is counted by its next gap.
  for (std::uint32_t i = 0; i < view_.geo.max_writers; ++i) {
    const WriterSlot& w = view_.writers[i];
    WriterTrack& track = writers_[i];
    const std::uint64_t o1 = w.owner.load(mo_acquire);
    const std::uint64_t gen = owner_generation(o1) & 0xFF;
    if (track.generation != gen) track = WriterTrack{gen, 0, true};
    if (!track.known) continue;
    const std::uint64_t count = w.messages_written.load(mo_acquire);
    const std::uint64_t last = w.last_commit.load(mo_relaxed);
    if (w.owner.load(mo_relaxed) != o1) continue;  // taken over while we looked
    if ((last == kNoPosition || last < position) && count > track.next_seq) {
      lost_ += count - track.next_seq;
      track.next_seq = count;
    }
  }
}

void RingPeeker::count_message(std::uint64_t word, std::uint64_t writer_seq) noexcept {
  const std::uint32_t slot = word_writer(word);
  if (slot >= writers_.size()) return;  // not a slot of this ring: nothing to account
  WriterTrack& track = writers_[slot];
  const std::uint64_t gen = word_generation(word);
  if (track.generation != gen) track = WriterTrack{gen, 0, true};
  if (track.known && writer_seq > track.next_seq) lost_ += writer_seq - track.next_seq;
  track.next_seq = writer_seq + 1;
  track.known = true;
}

bool RingPeeker::skip_given_up() noexcept {
  // The record at the cursor is not there: a writer that gave up its reservation (or
  // recovery, for a dead one) announces it in its slot until it is filled.
  for (std::uint32_t i = 0; i < view_.geo.max_writers; ++i) {
    const WriterSlot& w = view_.writers[i];
    const std::uint64_t g = w.given_up_pos.load(mo_acquire) & ~(std::uint64_t{1} << 63);
    if (g != cursor_) continue;
    const std::uint64_t size = w.given_up_size.load(mo_relaxed);
    if (size == 0 || size % kRecordAlignment != 0 || size > view_.geo.capacity / 2) return false;
    cursor_ += size;
    ++skipped_;
    return true;
  }
  return false;
}

RingPeeker::Next RingPeeker::next_record(std::vector<std::byte>& out) {
  const Geometry& g = view_.geo;
  const RingControl& c = *view_.control;
  // Between two jumps a call never walks more than a lap's worth of records; more means the
  // ring is corrupt. A writer lapping us again and again is no corruption: after
  // kMaxJumps jumps in one call we report nothing (the caller tries again later).
  constexpr std::uint32_t kMaxJumps = 64;
  const std::uint64_t walk_limit = g.capacity / kRecordAlignment + 1;
  std::uint64_t budget = walk_limit;
  std::uint32_t jumps = 0;
  auto jumped = [&] {
    budget = walk_limit;
    return ++jumps <= kMaxJumps;
  };
  for (;;) {
    if (corrupt_ || budget-- == 0) return Next::corrupt;
    if (cursor_ >= cached_tail_) {
      cached_tail_ = c.tail.load(mo_acquire);  // pairs with the writers' fetch_add
      if (cursor_ >= cached_tail_) return Next::empty;
    }
    // Lapped (in both modes: we hold nobody back, so nobody waits for us).
    if (cached_tail_ > cursor_ + g.capacity) {
      if (!jump()) return Next::corrupt;
      if (!jumped()) return Next::empty;
      continue;
    }
    const RecordHeader* h = view_.header_at(cursor_);
    // acquire: pairs with the writer's release store of the stamp; the word, the writer's
    // sequence and the payload are complete once it reads as ours.
    const std::uint64_t expected = stamp_of(cursor_);
    if (h->stamp.load(mo_acquire) != expected) {
      if (overwritten_since(cursor_)) {
        if (!jump()) return Next::corrupt;
        if (!jumped()) return Next::empty;
        continue;
      }
      if (skip_given_up()) continue;
      return Next::empty;  // being written (or its writer died: recovery, not us, repairs it)
    }
    const std::uint64_t w = h->word.load(mo_relaxed);
    const RecordType type = word_type(w);
    const std::uint64_t size = size_of_record(w);
    const bool sane = ((type == RecordType::message && word_length(w) <= g.max_message) ||
                       ((type == RecordType::padding || type == RecordType::abandoned) && size >= kRecordHeaderSize &&
                        size % kRecordAlignment == 0)) &&
                      fits_in_lap(cursor_, size, g);
    const std::uint32_t len = word_length(w);
    std::uint64_t seq = 0;
    if (copy_hook_ != nullptr) copy_hook_(copy_hook_context_);
    if (sane && type == RecordType::message) {
      seq = message_header(h)->writer_seq.load(mo_relaxed);
      out.resize(len);
      copy_out(out.data(), reinterpret_cast<const std::byte*>(h) + kMessageHeaderSize, len);
    }
    // After the copy: the stamp is still ours and no writer reserved over the record.
    // overwritten_since's acquire fence orders the copy's loads before both re-reads.
    const bool overwritten = overwritten_since(cursor_);
    if (overwritten || h->stamp.load(mo_relaxed) != expected) {
      if (!jump()) return Next::corrupt;  // a changed stamp with tail in range: corrupt
      if (!jumped()) return Next::empty;
      continue;
    }
    if (!sane) return Next::corrupt;
    if (type != RecordType::message) {
      if (type == RecordType::abandoned) ++skipped_;
      cursor_ += size;
      continue;
    }
    count_message(w, seq);
    cursor_ += size;
    ++read_;
    return Next::message;
  }
}

ReadStatus RingPeeker::try_read(std::vector<std::byte>& out) {
  switch (next_record(out)) {
    case Next::message: return ReadStatus::ok;
    case Next::corrupt: return ReadStatus::corrupt;
    case Next::empty: break;
  }
  return ReadStatus::empty;
}

ReadStatus RingPeeker::read(std::vector<std::byte>& out, std::optional<nanoseconds> timeout) {
  const RingControl& c = *view_.control;
  const bool bounded = timeout.has_value();
  const Clock::time_point deadline = bounded ? Clock::now() + *timeout : Clock::time_point::max();
  nanoseconds poll = std::min<nanoseconds>(std::chrono::milliseconds(1), options_.max_poll);
  bool woke_early = false;  // the last wait ended before its time, with nothing to read
  for (;;) {
    // The epoch before the check: a wake after the check ends the wait at once.
    const std::uint32_t epoch = c.data_epoch.load(mo_acquire);
    switch (next_record(out)) {
      case Next::message: return ReadStatus::ok;
      case Next::corrupt: return ReadStatus::corrupt;
      case Next::empty: break;
    }
    const auto now = Clock::now();
    if (bounded && now >= deadline) return ReadStatus::timeout;
    const nanoseconds slice = bounded ? std::min<nanoseconds>(poll, deadline - now) : poll;
    // We are not counted in data_waiters (that would be a write, and writers would pay a
    // wake for us), so no writer wakes us: a bounded sleep on data_epoch, which a writer
    // bumps only when a registered reader sleeps. If the word keeps changing without data
    // (bumped by someone else, or the wait fails at once), sleep plainly instead, so
    // nothing in the mapping can make this loop spin.
    if (woke_early) {
      std::this_thread::sleep_for(slice);
      woke_early = false;
    } else {
      woke_early = platform::wait_on_address(c.data_epoch, epoch, slice) != platform::WaitResult::timed_out;
    }
    poll = std::min(poll * 2, options_.max_poll);
  }
}

}  // namespace stella::ring
