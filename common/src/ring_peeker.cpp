// The slotless reader (`stella tail --peek`): reads a ring without a reader slot and writes
// nothing into the mapping, so it may map the ring read-only and never holds a writer back.
// It validates a record as an Overwrite RingReader does (its own stamp before the copy;
// after it, an acquire fence, then the stamp unchanged and tail <= cursor + capacity), in
// both modes, and when lapped jumps to oldest_start(tail) counting what it skipped. See
// ring.hpp and docs/ring.md ("Peeking without a slot").
//
// Loss accounting and given-up skipping are RingReader's, shared in ring_tracking.cpp.
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
  detail::track_writers_from(view_, cursor_, writers_);
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
  lost_ += detail::account_writers_below(view_, position, writers_);
}

void RingPeeker::count_message(std::uint64_t word, std::uint64_t writer_seq) noexcept {
  lost_ += detail::count_message(writers_, word, writer_seq);
}

bool RingPeeker::skip_given_up() noexcept {
  // The record at the cursor is not there yet: a writer that gave up its reservation (or
  // recovery, for a dead one) announces it in its slot until it is filled.
  const auto size = detail::given_up_at(view_, cursor_);
  if (!size) return false;
  cursor_ += *size;
  ++skipped_;
  return true;
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
