// Ring segments: parameters, creation, attaching (the geometry is read once, here),
// status snapshots, and the small helpers the writer, reader and recovery share.
#include <algorithm>
#include <bit>
#include <new>

#include "ring_internal.hpp"
#include "stella/common/error.hpp"
#include "stella/common/platform/liveness.hpp"
#include "stella/common/platform/wait.hpp"

namespace stella::ring {

using namespace detail;

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
    writers[i].reserve_bound.store(kNoPosition, mo_relaxed);
    writers[i].reserve_pos.store(kNoPosition, mo_relaxed);
    writers[i].last_commit.store(kNoPosition, mo_relaxed);
    writers[i].given_up_pos.store(kNoPosition, mo_relaxed);
  }
  // The data area is zero: every stamp reads 0, which is no record's (stamp_of is odd).
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
  spec.schema = p.schema;
  Segment seg = Segment::create(name, spec, perms);
  initialize(seg.area(), seg.area_size(), p);
  seg.publish();  // release: the initialised control block is visible to openers
  return seg;
}

RingView attach_area(std::string_view name, std::byte* area, std::uint64_t area_bytes) {
  const std::string seg(name);
  auto corrupt = [&](const std::string& what) { return Error(Errc::corrupt, seg, "corrupt ring: " + what); };
  if (area_bytes < sizeof(RingControl)) throw corrupt("area smaller than its control block");
  const auto* c = reinterpret_cast<const RingControl*>(area);
  // Every geometry field is read exactly once, into locals, and only those are used.
  const std::uint64_t capacity = c->capacity;
  const std::uint64_t max_message = c->max_message;
  const std::uint32_t max_readers = c->max_readers;
  const std::uint32_t max_writers = c->max_writers;
  const std::uint32_t behavior = c->behavior;
  const std::uint64_t reader_off = c->reader_slots_offset;
  const std::uint64_t writer_off = c->writer_slots_offset;
  const std::uint64_t data_off = c->data_offset;
  if (!std::has_single_bit(capacity) || capacity < kMinCapacity || capacity > kMaxCapacity) {
    throw corrupt("capacity " + std::to_string(capacity) + " is not a power of two >= 4096");
  }
  if (max_message != max_message_for(capacity)) throw corrupt("max_message does not match capacity");
  if (max_readers < 1 || max_readers > kMaxSlots || max_writers < 1 || max_writers > kMaxSlots) {
    throw corrupt("slot counts out of range");
  }
  if (behavior > 1) throw corrupt("unknown write behavior " + std::to_string(behavior));
  RingParams p{capacity, max_readers, max_writers, static_cast<WriteBehavior>(behavior), {}};
  if (reader_off != sizeof(RingControl) || writer_off != reader_off + std::uint64_t{max_readers} * sizeof(ReaderSlot) ||
      data_off != writer_off + std::uint64_t{max_writers} * sizeof(WriterSlot) || area_size(p) > area_bytes) {
    throw corrupt("slot or data offsets inconsistent with the sizes");
  }
  RingView v;
  v.control = reinterpret_cast<RingControl*>(area);
  v.readers = reinterpret_cast<ReaderSlot*>(area + reader_off);
  v.writers = reinterpret_cast<WriterSlot*>(area + writer_off);
  v.data = area + data_off;
  v.geo = Geometry{capacity, capacity - 1, max_message, max_readers, max_writers, p.behavior};
  v.name = seg;
  return v;
}

RingView attach(const Segment& segment) {
  RingView v = attach_area(segment.name(), segment.area(), segment.area_size());
  // The checksummed segment header is the reference for the geometry.
  const auto& h = segment.header();
  const Geometry& g = v.geo;
  if (h.params[0] != g.capacity || h.params[1] != g.max_readers || h.params[2] != g.max_writers ||
      h.params[3] != static_cast<std::uint64_t>(g.behavior)) {
    throw Error(Errc::corrupt, segment.name(), "corrupt ring: control block disagrees with the segment header");
  }
  return v;
}

RingStatus status(const RingView& v) {
  const RingControl& c = *v.control;
  const Geometry& g = v.geo;
  RingStatus s{};
  s.capacity = g.capacity;
  s.tail = c.tail.load(mo_acquire);
  s.head = oldest_start(s.tail, g.capacity);
  s.behavior = g.behavior;
  s.next_seq = c.messages_retired.load(mo_relaxed);
  for (std::uint32_t i = 0; i < g.max_readers; ++i) {
    const ReaderSlot& r = v.readers[i];
    const SlotState st = owner_state(r.owner.load(mo_acquire));
    if (st != SlotState::active && st != SlotState::evicted) continue;
    const std::uint64_t cur = r.cursor.load(mo_acquire);
    s.readers.push_back(ReaderInfo{i, r.pid.load(mo_relaxed), cur, s.tail > cur ? s.tail - cur : 0,
                                   r.messages_read.load(mo_relaxed), r.messages_lost.load(mo_relaxed),
                                   st == SlotState::evicted, !dead(r.token)});
  }
  for (std::uint32_t i = 0; i < g.max_writers; ++i) {
    const WriterSlot& w = v.writers[i];
    if (owner_state(w.owner.load(mo_acquire)) != SlotState::active) continue;
    const std::uint64_t written = w.messages_written.load(mo_relaxed);
    s.next_seq += written;
    s.writers.push_back(WriterInfo{i, w.pid.load(mo_relaxed), written, !dead(w.token)});
  }
  s.records_repaired = c.records_repaired.load(mo_relaxed);
  s.reservations_given_up = c.reservations_given_up.load(mo_relaxed);
  s.readers_reaped = c.readers_reaped.load(mo_relaxed);
  s.writers_reaped = c.writers_reaped.load(mo_relaxed);
  s.readers_evicted = c.readers_evicted.load(mo_relaxed);
  return s;
}

namespace detail {

void write_filler(const RingView& v, std::uint64_t pos, std::uint64_t size, RecordType type,
                  std::uint32_t writer_slot) noexcept {
  const Geometry& g = v.geo;
  while (size > 0) {
    const std::uint64_t room = g.capacity - (pos & g.mask);  // bytes to the end of the data
    const std::uint64_t part = std::min({size, room, std::uint64_t{0x8000'0000}});
    RecordHeader* h = v.header_at(pos);
    h->word.store(make_word(static_cast<std::uint32_t>(part), type, writer_slot), mo_relaxed);
    // release: pairs with the reader's acquire of the position; the word is visible with it.
    h->stamp.store(stamp_of(pos), mo_release);
    pos += part;
    size -= part;
  }
}

bool dead(const std::atomic<std::uint64_t>& token) noexcept {
  return platform::token_liveness(token.load(mo_acquire)) == platform::Liveness::dead;
}

SlotIdentity current_identity() { return SlotIdentity{platform::current_process(), platform::current_liveness_token()}; }

void wake_all(RingControl& c) noexcept {
  c.data_epoch.fetch_add(1, mo_release);
  platform::wake_on_address(c.data_epoch);
  c.space_epoch.fetch_add(1, mo_release);
  platform::wake_on_address(c.space_epoch);
  c.lap_epoch.fetch_add(1, mo_release);
  platform::wake_on_address(c.lap_epoch);
}

void wake_readers(RingControl& c, bool fence) noexcept {
  // Dekker with RingReader::wait_loop: the sleeper counts itself, then runs a remote
  // barrier (or relies on our fence) before it re-checks, so either it sees our record
  // or we see it counted.
  if (fence) std::atomic_thread_fence(mo_seq_cst);
  if (c.data_waiters.load(mo_relaxed) != 0) {
    c.data_epoch.fetch_add(1, mo_release);
    platform::wake_on_address(c.data_epoch);
  }
}

}  // namespace detail

}  // namespace stella::ring
