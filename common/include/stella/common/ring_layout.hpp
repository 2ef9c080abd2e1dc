// The shared layout of a ring segment. These structs ARE the layout spec: every field is
// fixed-width, every atomic is always lock-free, hot fields written by different parties
// live on different cache lines, and sizes/offsets are asserted. Changing anything here
// requires bumping kLayoutVersion (tests/common/test_layout_guard.cpp enforces it).
//
// Area of a ring segment (offsets relative to the segment's area):
//   [0, 512)                 RingControl
//   [reader_slots_offset)    max_readers x ReaderSlot (128 bytes each)
//   [writer_slots_offset)    max_writers x WriterSlot (64 bytes each)
//   [data_offset)            capacity bytes of records (capacity is a power of two)
//
// Positions are 64-bit byte counters that only grow; offset = position & (capacity - 1).
// A record is a 16-byte RecordHeader plus the payload, padded to 16 bytes; records never
// straddle the end of the data: a wrap-padding record fills the gap.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace stella::ring {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::uint64_t kRecordAlignment = 16;
inline constexpr std::uint64_t kRecordHeaderSize = 16;
inline constexpr std::uint64_t kMinCapacity = 4096;
inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 40;  // 1 TiB
inline constexpr std::uint32_t kMaxSlots = 4096;                       // readers, and writers
inline constexpr std::uint64_t kNoPosition = ~std::uint64_t{0};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "mapped memory needs lock-free 64-bit atomics");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "mapped memory needs lock-free 32-bit atomics");

enum class WriteBehavior : std::uint32_t { overwrite = 0, block = 1 };

/// Record types, stored in bits 32..39 of RecordHeader::word.
enum class RecordType : std::uint8_t {
  claimed = 1,    // reserved by a writer, payload being written; readers stop here
  message = 2,    // committed message
  padding = 3,    // wrap padding: fills the space up to the end of the data
  abandoned = 4,  // aborted by its writer, or repaired after its writer died; skipped
  overwritten = 5,  // stamped by the turn holder just before it overwrites the record
};

/// RecordHeader::word = length (bits 0..31) | type (32..39) | writer slot (40..55).
/// One 64-bit word so that a record's type and length are published by one store.
struct RecordHeader {
  std::atomic<std::uint64_t> word;
  /// message/abandoned: this record's sequence number (messages and abandoned records
  /// each consume one); padding: the sequence number of the next record. Written
  /// (relaxed) before `word` or `tail` is published with release order.
  std::atomic<std::uint64_t> seq;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);
static_assert(std::is_standard_layout_v<RecordHeader>);

constexpr std::uint64_t make_word(std::uint32_t length, RecordType type, std::uint32_t writer_slot) noexcept {
  return std::uint64_t{length} | (std::uint64_t{static_cast<std::uint8_t>(type)} << 32) |
         (std::uint64_t{writer_slot & 0xFFFFu} << 40);
}
constexpr std::uint32_t word_length(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w); }
constexpr RecordType word_type(std::uint64_t w) noexcept { return static_cast<RecordType>((w >> 32) & 0xFF); }
constexpr std::uint32_t word_writer(std::uint64_t w) noexcept { return static_cast<std::uint32_t>((w >> 40) & 0xFFFF); }

constexpr std::uint64_t record_size(std::uint64_t payload) noexcept {
  return (kRecordHeaderSize + payload + kRecordAlignment - 1) & ~(kRecordAlignment - 1);
}

/// Slot ownership word: generation (bits 8..63) | state (bits 0..7). Claiming and reaping a
/// slot are CASes on this word, so two reapers never free the same owner twice and a
/// reaper never frees a slot that has been taken again meanwhile.
enum class SlotState : std::uint8_t { free = 0, claiming = 1, active = 2, evicted = 3 };
constexpr std::uint64_t make_owner(std::uint64_t generation, SlotState s) noexcept {
  return (generation << 8) | static_cast<std::uint8_t>(s);
}
constexpr SlotState owner_state(std::uint64_t o) noexcept { return static_cast<SlotState>(o & 0xFF); }
constexpr std::uint64_t owner_generation(std::uint64_t o) noexcept { return o >> 8; }

struct alignas(kCacheLine) RingControl {
  // --- line 0: immutable after creation ---
  std::uint64_t capacity;  // bytes of record data, a power of two
  std::uint64_t max_message;  // largest payload: capacity / 2 - kRecordHeaderSize
  std::uint32_t max_readers;
  std::uint32_t max_writers;
  std::uint32_t behavior;  // WriteBehavior
  std::uint32_t reserved0;
  std::uint64_t reader_slots_offset;
  std::uint64_t writer_slots_offset;
  std::uint64_t data_offset;
  std::uint64_t reserved1;

  // --- line 1: taken by every arriving writer ---
  alignas(kCacheLine) std::atomic<std::uint32_t> next_ticket;

  // --- line 2: the turn: who is served, who sleeps waiting for it ---
  alignas(kCacheLine) std::atomic<std::uint32_t> now_serving;  // futex word
  std::atomic<std::uint32_t> turn_waiters;
  std::atomic<std::uint32_t> abandoned_tickets;  // tickets given up after a timeout, not yet skipped

  // --- line 3: written only by the turn holder, read by everyone ---
  alignas(kCacheLine) std::atomic<std::uint64_t> tail;  // end of the last reserved record; headers below are written
  std::atomic<std::uint64_t> tail_intent;  // >= tail: bytes up to here may be being overwritten
  std::atomic<std::uint64_t> head;         // oldest record still intact (a record boundary)
  std::atomic<std::uint64_t> tail_seq;     // sequence number the next record will take
  std::atomic<std::uint64_t> tail_version; // seqlock over (tail, tail_seq): odd while updating

  // --- line 4: readers that sleep for data ---
  alignas(kCacheLine) std::atomic<std::uint32_t> data_epoch;  // futex word, bumped by a writer that wakes
  std::atomic<std::uint32_t> data_waiters;

  // --- line 5: Block-mode writers that sleep for space ---
  alignas(kCacheLine) std::atomic<std::uint32_t> space_epoch;  // futex word, bumped by a reader that wakes
  std::atomic<std::uint32_t> space_waiters;
  std::atomic<std::uint64_t> readers_generation;  // bumped when a reader slot is taken, freed or evicted
  std::atomic<std::uint64_t> space_wanted;        // position the sleeping Block writer waits for readers to pass

  // --- line 6: counters for stellad status (rarely written) ---
  alignas(kCacheLine) std::atomic<std::uint64_t> records_repaired;  // claimed records of dead writers made abandoned
  std::atomic<std::uint64_t> turns_recovered;   // turns taken back from dead holders
  std::atomic<std::uint64_t> readers_reaped;    // dead readers' slots freed
  std::atomic<std::uint64_t> writers_reaped;    // dead writers' slots freed
  std::atomic<std::uint64_t> readers_evicted;   // stalled live readers evicted
  std::atomic<std::uint64_t> recovery_passes;   // recovery passes that changed something
  std::atomic<std::uint64_t> last_recovery_unix_ns;

  std::uint8_t reserved2[kCacheLine];
};

static_assert(std::is_standard_layout_v<RingControl>);
static_assert(sizeof(RingControl) == 8 * kCacheLine, "RingControl spans exactly 8 cache lines");
static_assert(offsetof(RingControl, next_ticket) == 1 * kCacheLine, "arriving writers get their own line");
static_assert(offsetof(RingControl, now_serving) == 2 * kCacheLine);
static_assert(offsetof(RingControl, tail) == 3 * kCacheLine, "the holder's positions are on one line");
static_assert(offsetof(RingControl, data_epoch) == 4 * kCacheLine);
static_assert(offsetof(RingControl, space_epoch) == 5 * kCacheLine);
static_assert(offsetof(RingControl, records_repaired) == 6 * kCacheLine);

struct alignas(kCacheLine) ReaderSlot {
  std::atomic<std::uint64_t> owner;          // make_owner(generation, SlotState)
  std::atomic<std::uint64_t> cursor;         // published read position (once per batch)
  std::atomic<std::uint64_t> pid;
  std::atomic<std::uint64_t> start_time;
  std::atomic<std::uint64_t> messages_read;  // published with the cursor, for status
  std::atomic<std::uint64_t> messages_lost;
  std::atomic<std::uint64_t> progress_ns;    // steady-clock time of the last publish (stall detection only)
  std::atomic<std::uint32_t> sleeping;       // 1 while counted in data_waiters
  std::atomic<std::uint32_t> reserved0;
  // second line: used only while a Block-mode reader registers under the turn
  alignas(kCacheLine) std::atomic<std::uint64_t> ticket;  // like WriterSlot::ticket
  std::uint8_t reserved1[kCacheLine - 8];
};
static_assert(sizeof(ReaderSlot) == 2 * kCacheLine, "reader slots never share a cache line");
static_assert(offsetof(ReaderSlot, cursor) == 8);

struct alignas(kCacheLine) WriterSlot {
  std::atomic<std::uint64_t> owner;        // make_owner(generation, SlotState)
  std::atomic<std::uint64_t> pid;
  std::atomic<std::uint64_t> start_time;
  std::atomic<std::uint64_t> ticket;       // (1 << 32) | ticket while waiting for or holding the turn, else 0
  std::atomic<std::uint64_t> abandoned;    // (1 << 32) | ticket given up after a timeout, else 0
  std::atomic<std::uint64_t> claimed_pos;  // position of this writer's claimed record, or kNoPosition
  std::atomic<std::uint64_t> messages_written;
  std::atomic<std::uint64_t> reserved;
};
static_assert(sizeof(WriterSlot) == kCacheLine);

/// Ticket words (WriterSlot::ticket, ReaderSlot::ticket): 0, kTicketPending while a
/// ticket is being taken (so recovery never mistakes a live taker for a dead one), or
/// kTicketHeld | ticket while waiting for or holding the turn.
inline constexpr std::uint64_t kTicketHeld = std::uint64_t{1} << 32;
inline constexpr std::uint64_t kTicketPending = std::uint64_t{1} << 33;

}  // namespace stella::ring
