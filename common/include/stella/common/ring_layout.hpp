// The shared layout of a ring segment (layout version 3: wait-free writers, liveness tokens). These structs
// ARE the layout spec: every field is fixed-width, every atomic is always lock-free, hot
// fields written by different parties live on different cache lines, and sizes/offsets are
// asserted. Changing anything here requires bumping kLayoutVersion
// (tests/common/test_layout_guard.cpp enforces it).
//
// Area of a ring segment (offsets relative to the segment's area):
//   [0, 512)                 RingControl
//   [reader_slots_offset)    max_readers x ReaderSlot (128 bytes each)
//   [writer_slots_offset)    max_writers x WriterSlot (128 bytes each)
//   [data_offset)            capacity bytes of records (capacity is a power of two)
//
// Positions are 64-bit byte counters that only grow; offset = position & (capacity - 1).
// Writers reserve a record with one fetch_add on `tail`. Every record starts with a 16-byte
// RecordHeader (its type and length, and its own position, which tells readers which lap
// wrote it); a message adds a 16-byte MessageHeader (the writer's own sequence number)
// before the payload; records are padded to 16 bytes and never
// straddle the end of the data: a reservation that would is turned into padding, split at
// the end of the data, and the writer reserves again. So every multiple of the capacity is
// a record boundary.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace stella::ring {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::uint64_t kRecordAlignment = 16;
inline constexpr std::uint64_t kRecordHeaderSize = 16;   // RecordHeader: every record
inline constexpr std::uint64_t kMessageHeaderSize = 32;  // RecordHeader + MessageHeader: messages
inline constexpr std::uint64_t kMinCapacity = 4096;
inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 40;  // 1 TiB
inline constexpr std::uint32_t kMaxSlots = 4096;                       // readers, and writers
inline constexpr std::uint64_t kNoPosition = ~std::uint64_t{0};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "mapped memory needs lock-free 64-bit atomics");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "mapped memory needs lock-free 32-bit atomics");

enum class WriteBehavior : std::uint32_t { overwrite = 0, block = 1 };

/// Record types, stored in bits 32..39 of RecordHeader::word.
enum class RecordType : std::uint8_t {
  message = 2,    // committed message (a MessageHeader follows the RecordHeader)
  padding = 3,    // fills the space up to the end of the data, or the start of a lap
  abandoned = 4,  // aborted by its writer, given up, or repaired after its writer died; skipped
};

/// RecordHeader::word = length (bits 0..31) | type (32..39) | writer slot (40..55) |
/// low 8 bits of the writer slot's generation (56..63). For a message, length is the
/// payload length; for padding and abandoned records, the record's whole size.
struct RecordHeader {
  std::atomic<std::uint64_t> word;
  /// stamp_of(the record's own position). Stored last, with release order: a reader that
  /// acquires the stamp of its cursor sees the word, the MessageHeader and the payload.
  std::atomic<std::uint64_t> stamp;
};
/// Position + 1, so that zeroed memory (stamp 0) is never a record, not even at position 0;
/// positions are multiples of kRecordAlignment, so a stamp is always odd.
constexpr std::uint64_t stamp_of(std::uint64_t position) noexcept { return position + 1; }
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);
static_assert(std::is_standard_layout_v<RecordHeader>);

/// Follows the RecordHeader of a message.
struct MessageHeader {
  std::atomic<std::uint64_t> writer_seq;  // this writer slot generation's message count before this one
  std::uint64_t reserved;
};
static_assert(sizeof(RecordHeader) + sizeof(MessageHeader) == kMessageHeaderSize);

constexpr std::uint64_t make_word(std::uint32_t length, RecordType type, std::uint32_t writer_slot,
                                  std::uint64_t generation = 0) noexcept {
  return std::uint64_t{length} | (std::uint64_t{static_cast<std::uint8_t>(type)} << 32) |
         (std::uint64_t{writer_slot & 0xFFFFu} << 40) | ((generation & 0xFF) << 56);
}
constexpr std::uint32_t word_length(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w); }
constexpr RecordType word_type(std::uint64_t w) noexcept { return static_cast<RecordType>((w >> 32) & 0xFF); }
constexpr std::uint32_t word_writer(std::uint64_t w) noexcept { return static_cast<std::uint32_t>((w >> 40) & 0xFFFF); }
constexpr std::uint32_t word_generation(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w >> 56); }

/// Bytes a message of `payload` bytes occupies.
constexpr std::uint64_t record_size(std::uint64_t payload) noexcept {
  return (kMessageHeaderSize + payload + kRecordAlignment - 1) & ~(kRecordAlignment - 1);
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
  // --- line 0: immutable after creation (read once at open; never trusted afterwards) ---
  std::uint64_t capacity;     // bytes of record data, a power of two
  std::uint64_t max_message;  // largest payload: capacity / 2 - kMessageHeaderSize
  std::uint32_t max_readers;
  std::uint32_t max_writers;
  std::uint32_t behavior;  // WriteBehavior
  std::uint32_t reserved0;
  std::uint64_t reader_slots_offset;
  std::uint64_t writer_slots_offset;
  std::uint64_t data_offset;
  std::uint64_t reserved1;

  // --- line 1: the reservation counter: one fetch_add per record, by every writer ---
  alignas(kCacheLine) std::atomic<std::uint64_t> tail;  // end of the last reserved record

  // --- line 2: readers that sleep for data ---
  alignas(kCacheLine) std::atomic<std::uint32_t> data_epoch;  // futex word, bumped by a writer that wakes
  std::atomic<std::uint32_t> data_waiters;

  // --- line 3: Block-mode writers that sleep for space ---
  alignas(kCacheLine) std::atomic<std::uint32_t> space_epoch;  // futex word, bumped by a reader that wakes
  std::atomic<std::uint32_t> space_waiters;
  std::atomic<std::uint64_t> readers_generation;  // bumped when a reader slot is taken, freed or evicted
  std::atomic<std::uint64_t> space_wanted;        // cursor position a sleeping Block writer waits for

  // --- line 4: writers waiting for an older writer's record they would overwrite ---
  alignas(kCacheLine) std::atomic<std::uint32_t> lap_epoch;  // futex word, bumped by a committer that wakes
  std::atomic<std::uint32_t> lap_waiters;

  // --- line 5: counters for stellad status (rarely written) ---
  alignas(kCacheLine) std::atomic<std::uint64_t> records_repaired;  // reservations of dead writers made skippable
  std::atomic<std::uint64_t> reservations_given_up;  // reservations writers gave up after a timeout
  std::atomic<std::uint64_t> readers_reaped;         // dead readers' slots freed
  std::atomic<std::uint64_t> writers_reaped;         // dead writers' slots freed
  std::atomic<std::uint64_t> readers_evicted;        // stalled live readers evicted
  std::atomic<std::uint64_t> recovery_passes;        // recovery passes that changed something
  std::atomic<std::uint64_t> last_recovery_unix_ns;
  std::atomic<std::uint64_t> messages_retired;       // messages committed by writers whose slots were freed

  std::uint8_t reserved2[2 * kCacheLine];
};

static_assert(std::is_standard_layout_v<RingControl>);
static_assert(sizeof(RingControl) == 8 * kCacheLine, "RingControl spans exactly 8 cache lines");
static_assert(offsetof(RingControl, tail) == 1 * kCacheLine, "the reservation counter has its own line");
static_assert(offsetof(RingControl, data_epoch) == 2 * kCacheLine);
static_assert(offsetof(RingControl, space_epoch) == 3 * kCacheLine);
static_assert(offsetof(RingControl, lap_epoch) == 4 * kCacheLine);
static_assert(offsetof(RingControl, records_repaired) == 5 * kCacheLine);

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
  // second line: rarely written
  alignas(kCacheLine) std::atomic<std::uint64_t> records_skipped;  // abandoned records passed, for status
  /// The owner's liveness token (platform/liveness.hpp), stored while claiming: whether the
  /// owner is alive is decided by it alone; pid and start time are for status.
  std::atomic<std::uint64_t> token;
  /// 1 + the position where this reader found bytes that are no record (its reads then fail
  /// with corrupt), 0 if it has not: for status.
  std::atomic<std::uint64_t> corrupt_at;
  std::uint8_t reserved1[kCacheLine - 24];
};
static_assert(sizeof(ReaderSlot) == 2 * kCacheLine, "reader slots never share a cache line");
static_assert(offsetof(ReaderSlot, cursor) == 8);

/// A writer's slot: written by its writer (and by recovery once the writer is dead).
/// `reserve_bound` and `reserve_size` are stored before the fetch_add on tail, `reserve_pos`
/// right after it, so a recoverer always knows where a dead writer's reservation can be.
struct alignas(kCacheLine) WriterSlot {
  std::atomic<std::uint64_t> owner;  // make_owner(generation, SlotState)
  std::atomic<std::uint64_t> pid;
  std::atomic<std::uint64_t> start_time;
  std::atomic<std::uint64_t> reserve_bound;  // while reserving: tail before the fetch_add (<= the position), else kNoPosition
  std::atomic<std::uint64_t> reserve_pos;    // position of the outstanding reservation, or kNoPosition
  std::atomic<std::uint64_t> reserve_size;   // its size in bytes
  std::atomic<std::uint64_t> messages_written;  // this generation's committed messages (release, after last_commit)
  std::atomic<std::uint64_t> last_commit;       // position of the last committed message, or kNoPosition
  // second line: a reservation given up after a timeout (readers skip it until it is
  // filled with an abandoned record or falls more than a lap behind the tail)
  alignas(kCacheLine) std::atomic<std::uint64_t> given_up_pos;  // or kNoPosition
  std::atomic<std::uint64_t> given_up_size;
  /// The owner's liveness token, as in ReaderSlot.
  std::atomic<std::uint64_t> token;
  std::uint8_t reserved1[kCacheLine - 24];
};
static_assert(sizeof(WriterSlot) == 2 * kCacheLine);
static_assert(offsetof(WriterSlot, given_up_pos) == kCacheLine);

}  // namespace stella::ring
