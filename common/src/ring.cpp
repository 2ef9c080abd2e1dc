// The ring algorithms. Read ring.hpp's overview first; every atomic access below names
// its order and what it pairs with.
#include "stella/common/ring.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <thread>

#include "stella/common/error.hpp"
#include "stella/common/platform/process.hpp"
#include "stella/common/platform/wait.hpp"

#if defined(__SANITIZE_THREAD__)
#define STELLA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STELLA_TSAN 1
#endif
#endif

namespace stella::ring {

namespace {

constexpr auto mo_relaxed = std::memory_order_relaxed;
constexpr auto mo_acquire = std::memory_order_acquire;
constexpr auto mo_release = std::memory_order_release;
constexpr auto mo_acq_rel = std::memory_order_acq_rel;
constexpr auto mo_seq_cst = std::memory_order_seq_cst;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline std::uint32_t turn_channel(std::uint32_t ticket) noexcept { return 1u << (ticket % 32); }

inline bool ticket_passed(std::uint32_t serving, std::uint32_t ticket) noexcept {
  return static_cast<std::int32_t>(serving - ticket) > 0;
}

// Payload copies race by design with a writer that laps the reader (Overwrite mode); the
// reader detects it afterwards (the record's header word or sequence changed) and discards
// the copy (seqlock pattern). Under ThreadSanitizer the copies use relaxed atomic words so the intended
// race is not reported; records are 16-byte aligned and padded, so whole words stay
// inside the record.
void copy_out(std::byte* dst, const std::byte* src, std::size_t n) noexcept {
  if (n == 0) return;  // dst may be null (an empty vector's data())
#ifdef STELLA_TSAN
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w = __atomic_load_n(reinterpret_cast<const std::uint64_t*>(src + i), __ATOMIC_RELAXED);
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < n; ++i) {
    dst[i] = static_cast<std::byte>(__atomic_load_n(reinterpret_cast<const unsigned char*>(src + i), __ATOMIC_RELAXED));
  }
#else
  std::memcpy(dst, src, n);
#endif
}

// --- the turn -------------------------------------------------------------------------

// Skips tickets given up by writers that timed out (or were dead) once they come up.
// Called by whoever has just stored now_serving = next.
void pass_chain(const RingView& v, std::uint32_t next) noexcept {
  RingControl& c = *v.control;
  for (;;) {
    // One fence for both checks. Pairs with the fence in abandon() (either we see its
    // abandoned_tickets increment, or it sees our now_serving store and passes the turn on
    // itself) and with the one in take_turn after turn_waiters++ (a sleeper is seen, or it
    // sees our store).
    std::atomic_thread_fence(mo_seq_cst);
    if (c.abandoned_tickets.load(mo_relaxed) != 0) {
      bool skipped = false;
      for (std::uint32_t i = 0; i < c.max_writers; ++i) {
        std::uint64_t mark = kTicketHeld | next;
        // acq_rel: the winner of this CAS alone passes ticket `next` on.
        if (v.writers[i].abandoned.load(mo_relaxed) == mark &&
            v.writers[i].abandoned.compare_exchange_strong(mark, 0, mo_acq_rel)) {
          c.abandoned_tickets.fetch_sub(1, mo_relaxed);
          skipped = true;
          break;
        }
      }
      if (skipped) {
        ++next;
        c.now_serving.store(next, mo_release);  // pairs with take_turn's acquire loads
        continue;
      }
    }
    break;
  }
  // Wake only the owner of the next ticket (waiters sleep on channel ticket % 32), not the
  // whole queue: a thundering herd per turn costs more than the turn itself.
  if (c.turn_waiters.load(mo_relaxed) != 0) platform::wake_on_address(c.now_serving, 0, turn_channel(next));
}

void release_turn_word(const RingView& v, std::atomic<std::uint64_t>& ticket_word, std::uint32_t ticket) noexcept {
  ticket_word.store(0, mo_relaxed);
  // release: everything this holder wrote (head, intent, tail, headers) is visible to the
  // next holder, who acquires now_serving.
  v.control->now_serving.store(ticket + 1, mo_release);
  pass_chain(v, ticket + 1);
}

// Waits for the turn. `abandoned_word` is null for takers that never give up (readers
// registering in Block mode).
bool take_turn(const RingView& v, std::atomic<std::uint64_t>& ticket_word, std::atomic<std::uint64_t>* abandoned_word,
               const Timing& timing, std::optional<Clock::time_point> deadline, bool try_only,
               std::uint32_t& ticket, std::uint32_t* queue_ahead = nullptr);

void abandon(const RingView& v, std::atomic<std::uint64_t>& ticket_word, std::atomic<std::uint64_t>& abandoned_word,
             std::uint32_t t) noexcept {
  RingControl& c = *v.control;
  abandoned_word.store(kTicketHeld | t, mo_relaxed);
  c.abandoned_tickets.fetch_add(1, mo_relaxed);
  // Pairs with the fence in pass_chain (Dekker): the releaser of t-1 sees our mark, or
  // we see that t is already served and pass it on ourselves.
  std::atomic_thread_fence(mo_seq_cst);
  if (c.now_serving.load(mo_relaxed) == t) {
    std::uint64_t mark = kTicketHeld | t;
    if (abandoned_word.compare_exchange_strong(mark, 0, mo_acq_rel)) {
      c.abandoned_tickets.fetch_sub(1, mo_relaxed);
      std::atomic_thread_fence(mo_acquire);  // we hold the turn now: see the previous holder's writes
      release_turn_word(v, ticket_word, t);
      return;
    }
    // Otherwise a releaser took our mark and passes the turn for us.
  }
  ticket_word.store(0, mo_relaxed);
}

bool take_turn(const RingView& v, std::atomic<std::uint64_t>& ticket_word, std::atomic<std::uint64_t>* abandoned_word,
               const Timing& timing, std::optional<Clock::time_point> deadline, bool try_only,
               std::uint32_t& ticket, std::uint32_t* queue_ahead) {
  RingControl& c = *v.control;
  if (try_only) {
    std::uint32_t serving = c.now_serving.load(mo_acquire);
    std::uint32_t expected = serving;
    ticket_word.store(kTicketPending, mo_relaxed);
    // Only when nobody waits: next_ticket == now_serving. acq_rel pairs with the previous
    // holder's release of now_serving (we read it before) and orders our holder writes.
    if (!c.next_ticket.compare_exchange_strong(expected, serving + 1, mo_acq_rel)) {
      ticket_word.store(0, mo_relaxed);
      return false;
    }
    ticket_word.store(kTicketHeld | serving, mo_relaxed);
    ticket = serving;
    return true;
  }
retake:
  // The pending mark is ordered before the ticket is taken (the fetch_add releases it), so
  // a ticket is never anybody's but a pending or holding slot's. Recovery reads these words
  // only about a ticket that has been stuck for a whole recovery timeout, so they need no
  // stronger order (and the fast path pays no extra barrier for them).
  ticket_word.store(kTicketPending, mo_relaxed);
  const std::uint32_t t = c.next_ticket.fetch_add(1, mo_acq_rel);
  ticket_word.store(kTicketHeld | t, mo_release);
  ticket = t;
  if (queue_ahead != nullptr) *queue_ahead = t - c.now_serving.load(mo_relaxed);  // turns served before ours
  for (std::uint32_t i = 0; i < timing.spin_iterations; ++i) {
    const std::uint32_t s = c.now_serving.load(mo_acquire);  // pairs with release_turn_word
    if (s == t) return true;
    if (ticket_passed(s, t)) goto retake;  // recovery presumed us dead: take a new ticket
    cpu_relax();
  }
  std::uint32_t last = c.now_serving.load(mo_acquire);
  auto last_progress = Clock::now();
  for (;;) {
    c.turn_waiters.fetch_add(1, mo_relaxed);
    std::atomic_thread_fence(mo_seq_cst);  // pairs with the fence in pass_chain
    std::uint32_t s = c.now_serving.load(mo_acquire);
    if (s != t && !ticket_passed(s, t)) {
      nanoseconds wait = timing.recovery_timeout;
      if (deadline) wait = std::min(wait, std::chrono::duration_cast<nanoseconds>(*deadline - Clock::now()));
      if (wait.count() > 0) platform::wait_on_address(c.now_serving, s, wait, turn_channel(t));
    }
    c.turn_waiters.fetch_sub(1, mo_relaxed);
    s = c.now_serving.load(mo_acquire);
    if (s == t) return true;
    if (ticket_passed(s, t)) goto retake;
    const auto now = Clock::now();
    if (s != last) {
      last = s;
      last_progress = now;
    } else if (now - last_progress >= timing.recovery_timeout) {
      RecoveryOptions ro;
      ro.turn_stuck_at = s;
      recover(v, ro);
      last_progress = now;
    }
    if (deadline && now >= *deadline) {
      if (abandoned_word != nullptr) {
        abandon(v, ticket_word, *abandoned_word, t);
        return false;
      }
    }
  }
}

void wake_all(RingControl& c) noexcept {
  c.data_epoch.fetch_add(1, mo_release);
  platform::wake_on_address(c.data_epoch);
  c.space_epoch.fetch_add(1, mo_release);
  platform::wake_on_address(c.space_epoch);
  platform::wake_on_address(c.now_serving);
}

}  // namespace

void copy_into_record(std::byte* dst, const std::byte* src, std::size_t n) noexcept {
  if (n == 0) return;  // src may be null (an empty span's data())
#ifdef STELLA_TSAN
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, src + i, 8);
    __atomic_store_n(reinterpret_cast<std::uint64_t*>(dst + i), w, __ATOMIC_RELAXED);
  }
  for (; i < n; ++i) __atomic_store_n(reinterpret_cast<unsigned char*>(dst + i), static_cast<unsigned char>(src[i]), __ATOMIC_RELAXED);
#else
  std::memcpy(dst, src, n);
#endif
}

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<nanoseconds>(Clock::now().time_since_epoch()).count());
}

// --- creation and validation -----------------------------------------------------------

void validate_params(const std::string& segment, const RingParams& p) {
  if (!std::has_single_bit(p.capacity) || p.capacity < kMinCapacity || p.capacity > kMaxCapacity) {
    throw Error(Errc::invalid_argument, segment,
                "ring capacity must be a power of two between 4 KiB and 1 TiB, got " + std::to_string(p.capacity) +
                    " bytes");
  }
  if (p.max_readers < 1 || p.max_readers > kMaxSlots) {
    throw Error(Errc::invalid_argument, segment,
                "max_readers must be between 1 and " + std::to_string(kMaxSlots) + ", got " + std::to_string(p.max_readers));
  }
  if (p.max_writers < 1 || p.max_writers > kMaxSlots) {
    throw Error(Errc::invalid_argument, segment,
                "max_writers must be between 1 and " + std::to_string(kMaxSlots) + ", got " + std::to_string(p.max_writers));
  }
  if (p.behavior != WriteBehavior::overwrite && p.behavior != WriteBehavior::block) {
    throw Error(Errc::invalid_argument, segment, "unknown write behavior");
  }
}

std::uint64_t area_size(const RingParams& p) noexcept {
  return sizeof(RingControl) + std::uint64_t{p.max_readers} * sizeof(ReaderSlot) +
         std::uint64_t{p.max_writers} * sizeof(WriterSlot) + p.capacity;
}

void initialize(std::byte* area, std::uint64_t area_bytes, const RingParams& p) {
  if (area_bytes < area_size(p)) throw Error(Errc::invalid_argument, {}, "ring area smaller than its parameters need");
  auto* c = new (area) RingControl{};
  c->capacity = p.capacity;
  c->max_message = max_message_for(p.capacity);
  c->max_readers = p.max_readers;
  c->max_writers = p.max_writers;
  c->behavior = static_cast<std::uint32_t>(p.behavior);
  c->reader_slots_offset = sizeof(RingControl);
  c->writer_slots_offset = c->reader_slots_offset + std::uint64_t{p.max_readers} * sizeof(ReaderSlot);
  c->data_offset = c->writer_slots_offset + std::uint64_t{p.max_writers} * sizeof(WriterSlot);
  auto* readers = reinterpret_cast<ReaderSlot*>(area + c->reader_slots_offset);
  for (std::uint32_t i = 0; i < p.max_readers; ++i) new (readers + i) ReaderSlot{};
  auto* writers = reinterpret_cast<WriterSlot*>(area + c->writer_slots_offset);
  for (std::uint32_t i = 0; i < p.max_writers; ++i) {
    new (writers + i) WriterSlot{};
    writers[i].claimed_pos.store(kNoPosition, mo_relaxed);
  }
  // The data area is zero: every header reads as type 0 until a writer reserves it.
}

Segment create_segment(std::string_view name, const RingParams& p, const platform::Permissions& perms) {
  validate_params(std::string(name), p);
  SegmentSpec spec;
  spec.kind = SegmentKind::ring;
  spec.area_size = area_size(p);
  spec.params[0] = p.capacity;
  spec.params[1] = p.max_readers;
  spec.params[2] = p.max_writers;
  spec.params[3] = static_cast<std::uint64_t>(p.behavior);
  Segment seg = Segment::create(name, spec, perms);
  initialize(seg.area(), seg.area_size(), p);
  seg.publish();  // release: the initialised control block is visible to openers
  return seg;
}

RingView attach_area(std::string_view name, std::byte* area, std::uint64_t area_bytes) {
  const std::string seg(name);
  auto corrupt = [&](const std::string& what) { return Error(Errc::corrupt, seg, "corrupt ring: " + what); };
  if (area_bytes < sizeof(RingControl)) throw corrupt("area smaller than its control block");
  auto* c = reinterpret_cast<RingControl*>(area);
  if (!std::has_single_bit(c->capacity) || c->capacity < kMinCapacity) {
    throw corrupt("capacity " + std::to_string(c->capacity) + " is not a power of two >= 4096");
  }
  if (c->max_message != max_message_for(c->capacity)) throw corrupt("max_message does not match capacity");
  if (c->max_readers < 1 || c->max_readers > kMaxSlots || c->max_writers < 1 || c->max_writers > kMaxSlots) {
    throw corrupt("slot counts out of range");
  }
  if (c->behavior > 1) throw corrupt("unknown write behavior " + std::to_string(c->behavior));
  RingParams p{c->capacity, c->max_readers, c->max_writers, static_cast<WriteBehavior>(c->behavior)};
  if (c->reader_slots_offset != sizeof(RingControl) ||
      c->writer_slots_offset != c->reader_slots_offset + std::uint64_t{p.max_readers} * sizeof(ReaderSlot) ||
      c->data_offset != c->writer_slots_offset + std::uint64_t{p.max_writers} * sizeof(WriterSlot) ||
      area_size(p) > area_bytes) {
    throw corrupt("slot or data offsets inconsistent with the sizes");
  }
  RingView v;
  v.control = c;
  v.readers = reinterpret_cast<ReaderSlot*>(area + c->reader_slots_offset);
  v.writers = reinterpret_cast<WriterSlot*>(area + c->writer_slots_offset);
  v.data = area + c->data_offset;
  v.mask = c->capacity - 1;
  v.name = seg;
  return v;
}

RingView attach(const Segment& segment) {
  RingView v = attach_area(segment.name(), segment.area(), segment.area_size());
  const auto& h = segment.header();
  const RingControl& c = *v.control;
  if (h.params[0] != c.capacity || h.params[1] != c.max_readers || h.params[2] != c.max_writers ||
      h.params[3] != c.behavior) {
    throw Error(Errc::corrupt, segment.name(), "corrupt ring: control block disagrees with the segment header");
  }
  return v;
}

// --- slots -------------------------------------------------------------------------------

namespace {
// First half of taking a free reader or writer slot: CAS its owner word from free to
// claiming under the next generation, then record who we are. Returns the generation, or
// nothing if the slot is not free (or another process won it). The caller initialises its
// fields and finishes with a CAS claiming -> active, which fails if a reaper freed the slot
// meanwhile (it saw the previous owner's dead pid).
template <class Slot>
std::optional<std::uint64_t> begin_slot_claim(Slot& s, const platform::ProcessIdentity& me) {
  std::uint64_t o = s.owner.load(mo_acquire);
  if (owner_state(o) != SlotState::free) return std::nullopt;
  const std::uint64_t gen = owner_generation(o) + 1;
  // acq_rel: claim the slot; a reaper's CAS on the same word cannot also succeed.
  if (!s.owner.compare_exchange_strong(o, make_owner(gen, SlotState::claiming), mo_acq_rel)) return std::nullopt;
  s.pid.store(me.pid, mo_relaxed);
  s.start_time.store(me.start_time, mo_relaxed);
  return gen;
}
}  // namespace

// --- writer ------------------------------------------------------------------------------

RingWriter::RingWriter(RingView view, Timing timing) : view_(std::move(view)), timing_(timing) {
  RingControl& c = *view_.control;
  const auto me = platform::current_process();
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (std::uint32_t i = 0; i < c.max_writers; ++i) {
      WriterSlot& s = view_.writers[i];
      const auto claimed = begin_slot_claim(s, me);
      if (!claimed) continue;
      const std::uint64_t gen = *claimed;
      s.ticket.store(0, mo_relaxed);
      s.claimed_pos.store(kNoPosition, mo_relaxed);
      s.messages_written.store(0, mo_relaxed);
      std::uint64_t claiming = make_owner(gen, SlotState::claiming);
      // release: pid/start_time are visible to whoever sees the slot active. If a reaper
      // freed the slot meanwhile (it saw the previous owner's dead pid), try another.
      if (!s.owner.compare_exchange_strong(claiming, make_owner(gen, SlotState::active), mo_acq_rel)) continue;
      slot_ptr_ = &s;
      slot_ = i;
      owner_word_ = make_owner(gen, SlotState::active);
      return;
    }
    if (attempt == 0) recover(view_);  // free the slots of dead writers, then look again
  }
  throw Error(Errc::slots_full, view_.name,
              "all " + std::to_string(c.max_writers) + " writer slots are taken (raise max_writers)");
}

RingWriter::~RingWriter() {
  if (slot_ptr_ == nullptr) return;
  std::uint64_t o = owner_word_;
  slot_ptr_->claimed_pos.store(kNoPosition, mo_relaxed);
  // release: our last writes happen-before the next owner's claim.
  slot_ptr_->owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::free), mo_release, mo_relaxed);
}

bool RingWriter::space_available(std::uint64_t end) {
  RingControl& c = *view_.control;
  if (end <= c.capacity) return true;
  const std::uint64_t need = end - c.capacity;
  // acquire: pairs with the release increment by a registering/leaving reader.
  const std::uint64_t gen = c.readers_generation.load(mo_acquire);
  if (gen == cached_readers_generation_ && cached_min_cursor_ >= need) return true;
  std::uint64_t min = ~std::uint64_t{0};
  for (std::uint32_t i = 0; i < c.max_readers; ++i) {
    const ReaderSlot& r = view_.readers[i];
    if (owner_state(r.owner.load(mo_acquire)) != SlotState::active) continue;
    min = std::min(min, r.cursor.load(mo_acquire));  // pairs with RingReader::publish
  }
  cached_readers_generation_ = gen;
  cached_min_cursor_ = min;
  return min >= need;
}

WriteStatus RingWriter::wait_for_space(std::uint64_t end, std::optional<Clock::time_point> deadline,
                                       bool try_only) {
  if (space_available(end)) return WriteStatus::ok;
  if (try_only) return WriteStatus::would_block;
  RingControl& c = *view_.control;
  for (std::uint32_t i = 0; i < timing_.spin_iterations; ++i) {
    cpu_relax();
    if (space_available(end)) return WriteStatus::ok;  // re-scans: the cached minimum fell short
  }
  std::uint64_t last_min = cached_min_cursor_;
  auto last_progress = Clock::now();
  // Hysteresis: readers wake us once they have freed a slice of the ring, not per message.
  c.space_wanted.store(end - c.capacity + c.capacity / 8, mo_relaxed);
  for (;;) {
    c.space_waiters.fetch_add(1, mo_relaxed);
    std::atomic_thread_fence(mo_seq_cst);  // pairs with the fence in RingReader::publish
    const std::uint32_t epoch = c.space_epoch.load(mo_acquire);  // pairs with the reader's release bump
    bool ok = space_available(end);
    if (!ok) {
      nanoseconds wait = timing_.recovery_timeout;
      if (deadline) wait = std::min(wait, std::chrono::duration_cast<nanoseconds>(*deadline - Clock::now()));
      if (wait.count() > 0) platform::wait_on_address(c.space_epoch, epoch, wait);
    }
    c.space_waiters.fetch_sub(1, mo_relaxed);
    if (ok || space_available(end)) return WriteStatus::ok;
    const auto now = Clock::now();
    if (cached_min_cursor_ != last_min) {
      last_min = cached_min_cursor_;
      last_progress = now;
    } else if (now - last_progress >= timing_.recovery_timeout) {
      recover(view_);  // a dead reader may be holding us back
      last_progress = now;
    }
    if (deadline && now >= *deadline) return WriteStatus::timeout;
  }
}

void RingWriter::advance_head(std::uint64_t limit) {
  RingControl& c = *view_.control;
  std::uint64_t h = c.head.load(mo_relaxed);  // only the turn holder writes head
  if (h >= limit) return;
  while (h < limit) {
    RecordHeader* hdr = view_.header_at(h);
    std::uint64_t w = hdr->word.load(mo_acquire);  // pairs with commit/abort's release
    if (word_type(w) == RecordType::claimed) {
      // A claim from a full lap ago is still being filled: we may not overwrite it. This
      // only happens when a writer holds a claim for a whole lap, or died holding it.
      auto since = Clock::now();
      auto delay = std::chrono::microseconds(20);
      while (hdr->word.load(mo_acquire) == w) {
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::microseconds(1000));
        if (Clock::now() - since >= timing_.recovery_timeout) {
          recover(view_);
          since = Clock::now();
        }
      }
      continue;
    }
    const RecordType type = word_type(w);
    const std::uint64_t size = record_size(word_length(w));
    if ((type != RecordType::message && type != RecordType::padding && type != RecordType::abandoned &&
         type != RecordType::overwritten) ||
        (h & view_.mask) + size > c.capacity) {
      h = limit;  // corrupted by a foreign write: give up on boundaries up to the limit
      c.head.store(h, mo_release);
      break;
    }
    h += size;
    // Head first (release), then the stamp (release): a reader that sees the stamp also
    // sees a head past this record, so its jump always moves forward. The fence after
    // tail_intent in reserve() orders the stamp before any byte written over the record.
    c.head.store(h, mo_release);
    hdr->word.store(make_word(word_length(w), RecordType::overwritten, word_writer(w)), mo_release);
  }
}

WriteStatus RingWriter::reserve(std::uint32_t length, std::optional<Clock::time_point> deadline, bool try_only,
                                Reservation& out) {
  RingControl& c = *view_.control;
  if (length > c.max_message) return WriteStatus::too_large;
  const std::uint64_t rec = record_size(length);
  std::uint32_t ticket = 0;
  std::uint32_t ahead = 0;
  if (!take_turn(view_, slot_ptr_->ticket, &slot_ptr_->abandoned, timing_, deadline, try_only, ticket, &ahead)) {
    return try_only ? WriteStatus::would_block : WriteStatus::timeout;
  }
  max_queue_ahead_ = std::max(max_queue_ahead_, ahead);
  if (pause_hook_ != nullptr) pause_hook_("turn");
  const std::uint64_t cap = c.capacity;
  std::uint64_t version = c.tail_version.load(mo_relaxed);
  if ((version & 1) != 0) ++version;  // a holder died in the middle of an update
  const std::uint64_t pos = c.tail.load(mo_relaxed);  // only the holder writes tail
  const std::uint64_t seq = c.tail_seq.load(mo_relaxed);
  const std::uint64_t off = pos & view_.mask;
  const std::uint64_t pad = off + rec > cap ? cap - off : 0;
  const std::uint64_t start = pos + pad;
  const std::uint64_t end = start + rec;
  if (c.behavior == static_cast<std::uint32_t>(WriteBehavior::block)) {
    const WriteStatus st = wait_for_space(end, deadline, try_only);
    if (st != WriteStatus::ok) {
      release_turn_word(view_, slot_ptr_->ticket, ticket);
      return st;
    }
  }
  if (end > cap) advance_head(end - cap);
  if (end > c.tail_intent.load(mo_relaxed)) {
    // release: the head advanced above is visible to a reader that sees this intent.
    c.tail_intent.store(end, mo_release);
  }
  // Seqlock writer: the intent must not be overtaken by the record writes below, which a
  // lapped reader checks against it after copying.
  std::atomic_thread_fence(mo_release);
  if (pad != 0) {
    RecordHeader* ph = view_.header_at(pos);
    ph->seq.store(seq, mo_relaxed);
    ph->word.store(make_word(static_cast<std::uint32_t>(pad - kRecordHeaderSize), RecordType::padding, slot_), mo_release);
  }
  RecordHeader* rh = view_.header_at(start);
  rh->seq.store(seq, mo_relaxed);
  rh->word.store(make_word(length, RecordType::claimed, slot_), mo_release);
  slot_ptr_->claimed_pos.store(start, mo_relaxed);
  c.tail_version.store(version + 1, mo_relaxed);
  std::atomic_thread_fence(mo_release);
  c.tail_seq.store(seq + 1, mo_relaxed);
  // release: pairs with readers' acquire of tail: the headers below `end` are visible.
  c.tail.store(end, mo_release);
  c.tail_version.store(version + 2, mo_release);
  release_turn_word(view_, slot_ptr_->ticket, ticket);
  out.payload = reinterpret_cast<std::byte*>(rh) + kRecordHeaderSize;
  out.length = length;
  out.position = start;
  out.seq = seq;
  if (pause_hook_ != nullptr) pause_hook_("claim");
  return WriteStatus::ok;
}

namespace {
void publish_record(const RingView& v, WriterSlot& slot, std::uint32_t slot_index, Reservation& r,
                    RecordType type) noexcept {
  RingControl& c = *v.control;
  RecordHeader* hdr = v.header_at(r.position);
  // release: the payload written before is visible to a reader that acquires the word.
  hdr->word.store(make_word(r.length, type, slot_index), mo_release);
  slot.claimed_pos.store(kNoPosition, mo_relaxed);
  if (type == RecordType::message) slot.messages_written.store(slot.messages_written.load(mo_relaxed) + 1, mo_relaxed);
  r.position = kNoPosition;
  // Pairs with the fence in RingReader::wait_loop after data_waiters++ (Dekker): either
  // the sleeper sees this record, or we see it counted and wake it.
  std::atomic_thread_fence(mo_seq_cst);
  if (c.data_waiters.load(mo_relaxed) != 0) {
    c.data_epoch.fetch_add(1, mo_release);
    platform::wake_on_address(c.data_epoch);
  }
}
}  // namespace

void RingWriter::commit(Reservation& r) noexcept {
  if (r.position == kNoPosition) return;
  publish_record(view_, *slot_ptr_, slot_, r, RecordType::message);
}

void RingWriter::abort(Reservation& r) noexcept {
  if (r.position == kNoPosition) return;
  publish_record(view_, *slot_ptr_, slot_, r, RecordType::abandoned);
}

// --- reader ------------------------------------------------------------------------------

RingReader::RingReader(RingView view, ReaderOptions options) : view_(std::move(view)), options_(options) {
  publish_every_ = std::max<std::uint64_t>(view_.control->capacity / 4, 1);
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
  RingControl& c = *view_.control;
  const auto me = platform::current_process();
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (std::uint32_t i = 0; i < c.max_readers; ++i) {
      ReaderSlot& s = view_.readers[i];
      const auto claimed = begin_slot_claim(s, me);
      if (!claimed) continue;
      const std::uint64_t gen = *claimed;
      s.messages_read.store(0, mo_relaxed);
      s.messages_lost.store(0, mo_relaxed);
      s.sleeping.store(0, mo_relaxed);
      s.ticket.store(0, mo_relaxed);
      s.progress_ns.store(now_ns(), mo_relaxed);
      slot_ptr_ = &s;
      owner_word_ = make_owner(gen, SlotState::active);
      bool ok = false;
      const bool placed = activate_slot(gen, options_.start, ok);
      if (!placed) {
        slot_ptr_ = nullptr;
        throw Error(Errc::corrupt, view_.name, "corrupt ring: head, tail and tail_intent are inconsistent");
      }
      if (!ok) {  // reaped while claiming (a reaper saw the previous owner's dead pid)
        slot_ptr_ = nullptr;
        continue;
      }
      return;
    }
    if (attempt == 0) recover(view_);
  }
  throw Error(Errc::slots_full, view_.name,
              "all " + std::to_string(c.max_readers) + " reader slots are taken (raise max_readers)");
}

// Second half of taking a reader slot (after begin_slot_claim, or an eviction): place the
// cursor and turn the slot from claiming to active (or back to free if the ring is too
// corrupt to place a cursor in). In Block mode this happens under the turn: no reservation
// is in progress, and the next holder sees the new readers_generation and our cursor.
// Returns whether the cursor was placed; `activated` says whether the slot is ours (false
// if a reaper freed it meanwhile, having seen the previous owner's dead pid).
bool RingReader::activate_slot(std::uint64_t generation, StartPosition start, bool& activated) {
  RingControl& c = *view_.control;
  ReaderSlot& s = *slot_ptr_;
  const bool block = c.behavior == static_cast<std::uint32_t>(WriteBehavior::block);
  std::uint32_t ticket = 0;
  if (block) take_turn(view_, s.ticket, nullptr, options_.timing, std::nullopt, false, ticket);
  const bool placed = place_cursor(start);
  std::uint64_t claiming = make_owner(generation, SlotState::claiming);
  activated = s.owner.compare_exchange_strong(
      claiming, placed ? make_owner(generation, SlotState::active) : make_owner(generation, SlotState::free), mo_acq_rel);
  c.readers_generation.fetch_add(1, mo_release);
  if (block) release_turn_word(view_, s.ticket, ticket);
  return placed;
}

bool RingReader::place_cursor(StartPosition start) {
  RingControl& c = *view_.control;
  for (int tries = 0;; ++tries) {
    // Consistent (tail, tail_seq) through the holder's seqlock.
    const std::uint64_t v1 = c.tail_version.load(mo_acquire);
    const std::uint64_t t = c.tail.load(mo_relaxed);
    const std::uint64_t ts = c.tail_seq.load(mo_relaxed);
    std::atomic_thread_fence(mo_acquire);
    const std::uint64_t v2 = c.tail_version.load(mo_relaxed);
    const bool consistent = v1 == v2 && (v1 & 1) == 0;
    if (!consistent && tries < 10000) {
      cpu_relax();
      continue;
    }
    std::uint64_t pos = t;
    if (start == StartPosition::oldest) pos = std::min(c.head.load(mo_acquire), t);
    // Positions are record boundaries, multiples of the record alignment; anything else is
    // a corrupt control block (and would be a misaligned header access).
    if (pos % kRecordAlignment != 0 || t % kRecordAlignment != 0) return false;
    if (pos == t) {
      cursor_ = t;
      expected_seq_ = ts;
      have_expected_ = consistent;
      break;
    }
    // Oldest: the record at head gives the sequence number, if it was not overwritten.
    const RecordHeader* hdr = view_.header_at(pos);
    const std::uint64_t seq = hdr->seq.load(mo_relaxed);
    std::atomic_thread_fence(mo_acquire);
    const std::uint64_t intent = c.tail_intent.load(mo_acquire);
    if (intent > pos + c.capacity) {
      // Overwritten since we read head: a writer moved head past it before announcing this
      // intent, so a fresh head must now be within a lap of it, or the ring is corrupt.
      if (c.head.load(mo_acquire) + c.capacity < intent) return false;
      continue;
    }
    cursor_ = pos;
    expected_seq_ = seq;
    have_expected_ = true;
    break;
  }
  cached_tail_ = cursor_;
  published_ = cursor_;
  slot_ptr_->cursor.store(cursor_, mo_release);
  return true;
}

bool RingReader::check_still_owner() {
  if (slot_ptr_->owner.load(mo_acquire) == owner_word_) return true;
  // Evicted for stalling (or reaped while we were stopped): take a slot again and resume
  // at the oldest record; the sequence gap is counted as lost on the next read.
  ++evictions_;
  ReaderSlot& s = *slot_ptr_;
  std::uint64_t o = s.owner.load(mo_acquire);
  const auto keep_expected = expected_seq_;
  const auto keep_have = have_expected_;
  if (owner_state(o) == SlotState::evicted && owner_generation(o) == owner_generation(owner_word_) &&
      s.owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::claiming), mo_acq_rel)) {
    owner_word_ = make_owner(owner_generation(o), SlotState::active);
    bool activated = false;
    if (!activate_slot(owner_generation(o), StartPosition::oldest, activated)) pending_corrupt_ = true;  // next read
  } else {
    slot_ptr_ = nullptr;
    register_slot();
  }
  // Keep counting from where we were: the jump to the oldest record is a loss, which the
  // next read measures by intent (not by the sequence, which leaps here).
  expected_seq_ = keep_expected;
  have_expected_ = keep_have;
  after_resync_ = true;
  return false;
}

void RingReader::publish() noexcept {
  RingControl& c = *view_.control;
  ReaderSlot& s = *slot_ptr_;
  // release: pairs with the Block-mode writer's acquire in space_available; everything
  // we read before this point is done with, so the writer may overwrite it.
  s.cursor.store(cursor_, mo_release);
  s.messages_read.store(read_, mo_relaxed);
  s.messages_lost.store(lost_, mo_relaxed);
  s.progress_ns.store(now_ns(), mo_relaxed);
  published_ = cursor_;
  // Pairs with the fence in RingWriter::wait_for_space after space_waiters++.
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

// Jump to the oldest intact record. In a sound ring head > cursor here (the holder moves
// head past a record before stamping it, and before announcing any overwrite), so a head
// that does not move us forward means the control block is corrupt: say so, never loop.
bool RingReader::jump_to_head() noexcept {
  const std::uint64_t h = view_.control->head.load(mo_acquire);
  if (h <= cursor_ || h % kRecordAlignment != 0) return false;
  cursor_ = h;
  cached_tail_ = cursor_;
  after_resync_ = true;  // the next record's sequence may leap (the loss): check it by intent
  return true;
}

RingReader::Next RingReader::next_record(bool copy, std::vector<std::byte>* out, RecordView* view) {
  RingControl& c = *view_.control;
  const std::uint64_t cap = c.capacity;
  // One call never walks more than a lap's worth of records plus the jumps after being
  // lapped; more means the ring is corrupt (a fuzzed tail far ahead of garbage padding).
  std::uint64_t budget = cap / kRecordAlignment + 64;
  // Slow path: has a writer announced an overwrite of the record at the cursor? Used only
  // when the record's own header cannot tell (no expected sequence yet, or garbage).
  auto lapped_by_intent = [&] {
    std::atomic_thread_fence(mo_acquire);
    // acquire: pairs with the holder's release of tail_intent, so head is fresh enough.
    return c.tail_intent.load(mo_acquire) > cursor_ + cap;
  };
  auto resync = [&] { return jump_to_head(); };
  // Lapped (then jump), or else the header is garbage: corrupt.
  auto lapped_and_jumped = [&] { return lapped_by_intent() && jump_to_head(); };
  if (pending_corrupt_) return Next::corrupt;
  for (;;) {
    if (budget-- == 0) return Next::corrupt;
    if (cursor_ >= cached_tail_) {
      cached_tail_ = c.tail.load(mo_acquire);  // pairs with the holder's release of tail
      if (cursor_ >= cached_tail_) return Next::empty;
    }
    RecordHeader* hdr = view_.header_at(cursor_);
    const std::uint64_t w = hdr->word.load(mo_acquire);  // pairs with the release of every header store
    const RecordType type = word_type(w);
    const std::uint32_t len = word_length(w);
    if (type == RecordType::overwritten) {  // stamped by a writer about to overwrite it
      if (!resync()) return Next::corrupt;
      continue;
    }
    const std::uint64_t size = record_size(len);
    const bool known = type == RecordType::claimed || type == RecordType::message || type == RecordType::padding ||
                       type == RecordType::abandoned;
    // Only padding may exceed the largest message; nothing may cross the end of the data.
    const bool sane = known && (type == RecordType::padding || len <= c.max_message) &&
                      (cursor_ & view_.mask) + size <= cap;
    if (!sane) {
      if (lapped_and_jumped()) continue;  // new payload bytes where our header was
      return Next::corrupt;
    }
    // The record's sequence number says whose lap it belongs to: ours has exactly the one
    // we expect; a later lap's is larger. So the fast path needs no shared control line.
    const std::uint64_t seq = hdr->seq.load(mo_relaxed);
    // Right after a jump (or before the first record) the sequence may legitimately leap
    // ahead: there the shared intent decides instead, once.
    const bool trust_seq = have_expected_ && !after_resync_;
    if (trust_seq ? seq > expected_seq_ : lapped_by_intent()) {
      if (!resync()) return Next::corrupt;
      continue;
    }
    if (have_expected_ && seq < expected_seq_) {
      if (lapped_and_jumped()) continue;
      return Next::corrupt;
    }
    if (type == RecordType::claimed) return Next::blocked_on_claim;
    const std::byte* payload = reinterpret_cast<const std::byte*>(hdr) + kRecordHeaderSize;
    if (type == RecordType::message && copy) {
      out->resize(len);
      copy_out(out->data(), payload, len);
    }
    // Seqlock re-check: a writer stamps the header (release, then a release fence) before
    // it writes anything over the record; if the word is unchanged after our copy, nothing
    // was overwritten while we copied. The word alone could come back (ABA: a record of the
    // same length from the same writer a lap later), so the sequence number, stored before
    // every new header word, is compared too: a later record always has another one.
    std::atomic_thread_fence(mo_acquire);
    const std::uint64_t w_after = hdr->word.load(mo_acquire);
    if (w_after != w || hdr->seq.load(mo_relaxed) != seq || (!trust_seq && lapped_by_intent())) {
      if (!resync()) return Next::corrupt;
      continue;
    }
    after_resync_ = false;
    if (have_expected_ && seq > expected_seq_) lost_ += seq - expected_seq_;
    if (type != RecordType::message) {
      expected_seq_ = type == RecordType::padding ? seq : seq + 1;
      have_expected_ = true;
      cursor_ += size;
      continue;
    }
    if (view != nullptr) {
      expected_seq_ = seq;  // the message itself counts once release() succeeds
      have_expected_ = true;
      view->payload = std::span<const std::byte>(payload, len);
      view->seq = seq;
      peek_next_ = cursor_ + size;
      peek_seq_ = seq;
      peek_word_ = w;
      return Next::message;
    }
    expected_seq_ = seq + 1;
    have_expected_ = true;
    cursor_ += size;
    ++read_;
    maybe_publish();
    return Next::message;
  }
}

bool RingReader::data_available_seq_cst() const noexcept {
  RingControl& c = *view_.control;
  const std::uint64_t t = c.tail.load(mo_acquire);
  if (cursor_ >= t) return false;
  const RecordHeader* hdr = view_.header_at(cursor_);
  const std::uint64_t w = hdr->word.load(mo_acquire);
  // Anything but our own uncommitted record is worth waking up for (a later lap's claimed
  // record has a larger sequence number: we have been lapped and must jump).
  return word_type(w) != RecordType::claimed || (have_expected_ && hdr->seq.load(mo_relaxed) != expected_seq_) ||
         c.tail_intent.load(mo_acquire) > cursor_ + c.capacity;
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
    auto now = Clock::now();
    if (n == Next::blocked_on_claim) {
      if (stuck_pos != cursor_) {
        stuck_pos = cursor_;
        stuck_since = now;
      } else if (now - stuck_since >= options_.timing.recovery_timeout) {
        recover(view_);  // its writer may have died between claim and commit
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
    std::atomic_thread_fence(mo_seq_cst);  // pairs with the fence in publish_record (Dekker)
    const std::uint32_t epoch = c.data_epoch.load(mo_acquire);
    if (!data_available_seq_cst()) {
      std::optional<nanoseconds> wait;
      if (bounded) wait = std::chrono::duration_cast<nanoseconds>(deadline - now);
      if (n == Next::blocked_on_claim) wait = std::min(wait.value_or(options_.timing.recovery_timeout), options_.timing.recovery_timeout);
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
  std::atomic_thread_fence(mo_acquire);
  // Same re-check as after a copy: the header is stamped before anything overwrites it, and
  // a later record at the same place has another sequence number.
  const RecordHeader* hdr = view_.header_at(cursor_);
  const bool intact = hdr->word.load(mo_acquire) == peek_word_ && hdr->seq.load(mo_relaxed) == peek_seq_;
  if (intact) {
    cursor_ = peek_next_;
    expected_seq_ = peek_seq_ + 1;
    ++read_;
  } else {
    (void)jump_to_head();  // if head did not move, the next read says corrupt
  }
  peek_next_ = kNoPosition;
  maybe_publish();
  return intact;
}

// --- recovery ----------------------------------------------------------------------------

namespace {

bool dead(const std::atomic<std::uint64_t>& pid, const std::atomic<std::uint64_t>& start) {
  const platform::ProcessIdentity id{pid.load(mo_acquire), start.load(mo_acquire)};
  if (id.pid == 0) return false;  // not yet known: never judge
  return !platform::is_alive(id);
}

// Gives up, on behalf of a dead process, the ticket in `ticket_word`.
bool release_dead_ticket(const RingView& v, std::atomic<std::uint64_t>& ticket_word,
                         std::atomic<std::uint64_t>* abandoned_word) {
  RingControl& c = *v.control;
  std::uint64_t tk = ticket_word.load(mo_acquire);
  if ((tk & kTicketHeld) == 0) return false;
  const auto t = static_cast<std::uint32_t>(tk);
  // acq_rel: exactly one recoverer converts this ticket.
  if (!ticket_word.compare_exchange_strong(tk, 0, mo_acq_rel)) return false;
  if (c.now_serving.load(mo_acquire) == t) {
    std::uint32_t expected = t;
    if (c.now_serving.compare_exchange_strong(expected, t + 1, mo_acq_rel)) pass_chain(v, t + 1);
    return true;
  }
  if (abandoned_word != nullptr) {  // queued, not yet served: skip it when it comes up
    abandon(v, ticket_word, *abandoned_word, t);
    return true;
  }
  return false;  // a dead reader's queued ticket: the unknown-owner rule passes it later
}

}  // namespace

RecoveryReport recover(const RingView& v, const RecoveryOptions& options) {
  RingControl& c = *v.control;
  RecoveryReport rep;

  // 1. Dead writers: repair their claimed record, give up their ticket, free the slot.
  for (std::uint32_t i = 0; i < c.max_writers; ++i) {
    WriterSlot& s = v.writers[i];
    std::uint64_t o = s.owner.load(mo_acquire);
    const SlotState st = owner_state(o);
    if (st != SlotState::active && st != SlotState::claiming) continue;
    if (!dead(s.pid, s.start_time)) continue;
    const std::uint64_t cp = s.claimed_pos.load(mo_acquire);
    if (cp != kNoPosition) {
      RecordHeader* hdr = v.header_at(cp);
      std::uint64_t w = hdr->word.load(mo_acquire);
      if (word_type(w) == RecordType::claimed && word_writer(w) == (i & 0xFFFFu)) {
        // acq_rel: one recoverer turns it into an abandoned record; readers skip it.
        if (hdr->word.compare_exchange_strong(w, make_word(word_length(w), RecordType::abandoned, i), mo_acq_rel)) {
          ++rep.records_repaired;
        }
      }
      s.claimed_pos.store(kNoPosition, mo_relaxed);
    }
    if (release_dead_ticket(v, s.ticket, &s.abandoned)) ++rep.turns_recovered;
    if (s.abandoned.load(mo_acquire) != 0 || (s.ticket.load(mo_acquire) & kTicketHeld) != 0) continue;  // later
    if (s.owner.compare_exchange_strong(o, make_owner(owner_generation(o), SlotState::free), mo_acq_rel)) {
      ++rep.writers_reaped;
    }
  }

  // 2. Dead readers: free the slot (a sleeping one also leaves the waiter count).
  for (std::uint32_t i = 0; i < c.max_readers; ++i) {
    ReaderSlot& s = v.readers[i];
    std::uint64_t o = s.owner.load(mo_acquire);
    const SlotState st = owner_state(o);
    if (st == SlotState::free) continue;
    if (!dead(s.pid, s.start_time)) continue;
    if (release_dead_ticket(v, s.ticket, nullptr)) ++rep.turns_recovered;
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

  // 3. A turn stuck with no live owner: its taker died before recording its ticket.
  if (options.turn_stuck_at) {
    const std::uint32_t t = *options.turn_stuck_at;
    // The ticket words are read only about a ticket stuck for a whole recovery timeout, long
    // after its taker stored them (see take_turn); seq_cst costs nothing on this rare path.
    if (c.now_serving.load(mo_seq_cst) == t && ticket_passed(c.next_ticket.load(mo_seq_cst), t)) {
      bool owned = false;
      auto check = [&](const std::atomic<std::uint64_t>& ticket, const std::atomic<std::uint64_t>& pid,
                       const std::atomic<std::uint64_t>& start) {
        const std::uint64_t tk = ticket.load(mo_seq_cst);
        if (tk == (kTicketHeld | t)) owned = true;  // its owner is alive, or step 1 handled it
        if (tk == kTicketPending && !dead(pid, start)) owned = true;
      };
      for (std::uint32_t i = 0; i < c.max_writers; ++i) check(v.writers[i].ticket, v.writers[i].pid, v.writers[i].start_time);
      for (std::uint32_t i = 0; i < c.max_readers; ++i) check(v.readers[i].ticket, v.readers[i].pid, v.readers[i].start_time);
      for (std::uint32_t i = 0; i < c.max_writers && !owned; ++i) {
        if (v.writers[i].abandoned.load(mo_seq_cst) == (kTicketHeld | t)) owned = true;  // pass_chain's business
      }
      std::uint32_t expected = t;
      if (!owned && c.now_serving.compare_exchange_strong(expected, t + 1, mo_acq_rel)) {
        pass_chain(v, t + 1);
        ++rep.turns_recovered;
      }
    }
  }

  // 4. Optional: evict live readers stalled with data waiting.
  if (options.evict_stalled_after) {
    const std::uint64_t now = now_ns();
    const auto limit = static_cast<std::uint64_t>(options.evict_stalled_after->count());
    const std::uint64_t tail = c.tail.load(mo_acquire);
    for (std::uint32_t i = 0; i < c.max_readers; ++i) {
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
    c.turns_recovered.fetch_add(rep.turns_recovered, mo_relaxed);
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

RingStatus status(const RingView& v) {
  const RingControl& c = *v.control;
  RingStatus s{};
  s.capacity = c.capacity;
  s.tail = c.tail.load(mo_acquire);
  s.head = c.head.load(mo_acquire);
  s.next_seq = c.tail_seq.load(mo_acquire);
  s.behavior = static_cast<WriteBehavior>(c.behavior);
  s.now_serving = c.now_serving.load(mo_acquire);
  s.next_ticket = c.next_ticket.load(mo_acquire);
  for (std::uint32_t i = 0; i < c.max_readers; ++i) {
    const ReaderSlot& r = v.readers[i];
    const SlotState st = owner_state(r.owner.load(mo_acquire));
    if (st != SlotState::active && st != SlotState::evicted) continue;
    const std::uint64_t cur = r.cursor.load(mo_acquire);
    s.readers.push_back(ReaderInfo{i, r.pid.load(mo_relaxed), cur, s.tail > cur ? s.tail - cur : 0,
                                   r.messages_read.load(mo_relaxed), r.messages_lost.load(mo_relaxed),
                                   st == SlotState::evicted});
  }
  for (std::uint32_t i = 0; i < c.max_writers; ++i) {
    const WriterSlot& w = v.writers[i];
    if (owner_state(w.owner.load(mo_acquire)) != SlotState::active) continue;
    s.writers.push_back(WriterInfo{i, w.pid.load(mo_relaxed), w.messages_written.load(mo_relaxed)});
  }
  s.records_repaired = c.records_repaired.load(mo_relaxed);
  s.turns_recovered = c.turns_recovered.load(mo_relaxed);
  s.readers_reaped = c.readers_reaped.load(mo_relaxed);
  s.writers_reaped = c.writers_reaped.load(mo_relaxed);
  s.readers_evicted = c.readers_evicted.load(mo_relaxed);
  return s;
}

}  // namespace stella::ring
