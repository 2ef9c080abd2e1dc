// Helpers shared by the ring's writer, reader and recovery (not installed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "stella/common/platform/process.hpp"
#include "stella/common/ring.hpp"

#if defined(__SANITIZE_THREAD__)
#define STELLA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STELLA_TSAN 1
#endif
#endif

namespace stella::ring::detail {

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

/// Payload copies race by design with a writer that laps the reader (Overwrite mode); the
/// reader detects it afterwards and discards the copy (seqlock pattern). Under
/// ThreadSanitizer the copies use relaxed atomic words so the intended race is not
/// reported; records are 16-byte aligned and padded, so whole words stay inside the record.
inline void copy_out(std::byte* dst, const std::byte* src, std::size_t n) noexcept {
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

inline MessageHeader* message_header(RecordHeader* h) noexcept { return reinterpret_cast<MessageHeader*>(h + 1); }
inline const MessageHeader* message_header(const RecordHeader* h) noexcept {
  return reinterpret_cast<const MessageHeader*>(h + 1);
}

/// Size in bytes of the record whose header word is `w` (messages: header + payload,
/// padded; padding and abandoned records: their length).
constexpr std::uint64_t size_of_record(std::uint64_t w) noexcept {
  return word_type(w) == RecordType::message ? record_size(word_length(w)) : word_length(w);
}

/// Whether [pos, pos + size) fits in one lap at its offset.
constexpr bool fits_in_lap(std::uint64_t pos, std::uint64_t size, const Geometry& g) noexcept {
  return (pos & g.mask) + size <= g.capacity;
}

/// Writes non-message records (padding or abandoned) over [pos, pos + size), split at the
/// end of the data so no record straddles it. Each part's header is published with its
/// position last (release), like a message. Parts longer than a header's 32-bit length
/// are split too.
void write_filler(const RingView& v, std::uint64_t pos, std::uint64_t size, RecordType type,
                  std::uint32_t writer_slot) noexcept;

/// Whether the owner of a slot is known to be dead, by its liveness token (a kernel lock the
/// owner holds while it lives; platform/liveness.hpp): never by its pid, which another pid
/// namespace numbers differently and which is reused. A token of 0 (a claimer that has not
/// stored its token yet, or bytes scribbled over the slot) reads dead: reaping a claiming
/// slot only makes its claimer take another one (its CAS to active fails).
bool dead(const std::atomic<std::uint64_t>& token) noexcept;

/// Who we are, for a slot: our liveness token (taken on first use; throws stella::Error if
/// the segment directory will not hold it) and, for status only, our pid and start time.
struct SlotIdentity {
  platform::ProcessIdentity process;
  std::uint64_t token;
};
SlotIdentity current_identity();

/// First half of taking a free reader or writer slot: CAS its owner word from free to
/// claiming under the next generation, then record who we are. Returns the generation, or
/// nothing if the slot is not free (or another process won it).
template <class Slot>
std::optional<std::uint64_t> begin_slot_claim(Slot& s, const SlotIdentity& me) {
  std::uint64_t o = s.owner.load(mo_acquire);
  if (owner_state(o) != SlotState::free) return std::nullopt;
  const std::uint64_t gen = owner_generation(o) + 1;
  // acq_rel: claim the slot; a reaper's CAS on the same word cannot also succeed.
  if (!s.owner.compare_exchange_strong(o, make_owner(gen, SlotState::claiming), mo_acq_rel)) return std::nullopt;
  // Published by the claimer's release CAS to active; a reaper that reads an older token
  // meanwhile may free the claiming slot, and the claimer then takes another.
  s.token.store(me.token, mo_relaxed);
  s.pid.store(me.process.pid, mo_relaxed);
  s.start_time.store(me.process.start_time, mo_relaxed);
  return gen;
}

/// Fills writer `idx`'s given-up reservation with an abandoned record once its space is
/// free, or drops it once a later lap covers it. Returns whether the entry is gone.
bool resolve_given_up(const RingView& v, std::uint32_t idx) noexcept;

/// Loss accounting shared by RingReader and RingPeeker (ring_tracking.cpp).
/// Starts `tracks` at `cursor`: what each writer slot committed before it is not ours.
void track_writers_from(const RingView& v, std::uint64_t cursor, std::vector<WriterTrack>& tracks) noexcept;
/// We skip everything below `position`: returns the messages lost by writers whose last
/// commit lies below it (a writer with records on both sides is counted by its next gap).
std::uint64_t account_writers_below(const RingView& v, std::uint64_t position, std::vector<WriterTrack>& tracks) noexcept;
/// Counts a delivered message (its record word and writer sequence): returns the messages
/// of that writer lost before it.
std::uint64_t count_message(std::vector<WriterTrack>& tracks, std::uint64_t word, std::uint64_t writer_seq) noexcept;
/// The size of a given-up reservation announced at `position` in a writer slot, if any
/// (and sane); readers skip it.
std::optional<std::uint64_t> given_up_at(const RingView& v, std::uint64_t position) noexcept;

/// Wakes everyone who sleeps on the ring (after a repair).
void wake_all(RingControl& c) noexcept;

/// Wakes sleeping readers if there are any. `fence`: this writer did not register for
/// remote barriers, so it must order its publication before reading the count itself.
void wake_readers(RingControl& c, bool fence) noexcept;

}  // namespace stella::ring::detail
