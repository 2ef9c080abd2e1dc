// The ring algorithms over a mapped ring segment (see ring_layout.hpp for the layout and
// docs/ring.md for the full argument). Version 2: wait-free writers.
//
// Writers: one fetch_add on `tail` reserves a record; arrival order is the order of that
// instruction, so writers are served first come, first served and never wait for one
// another to reserve. Before it writes over the previous lap a writer checks, against values
// it caches privately, that no older reservation is still being filled there (all modes)
// and, in Block mode, that every registered reader has read it. A reservation that would
// cross the end of the data becomes padding and the writer reserves again. The record is
// published by storing its header with the record's own position last (release).
//
// Readers: each keeps its cursor privately and publishes it to its slot once per batch. A
// record is valid for the cursor when its header's position equals the cursor; Overwrite
// readers re-check after the copy that no writer has reserved over it (tail <= cursor +
// capacity, Agrona's broadcast-receiver check). A lapped reader resumes at the start of the
// current lap (a record boundary by construction) and counts what it lost from the writers'
// own sequence numbers.
//
// Waiting: spin briefly, then sleep on a futex word; a committer reads the waiter count after
// its release store and wakes only when someone sleeps. The sleeper makes that safe without
// a fence on the writer's side: after counting itself it runs a process-wide barrier
// (membarrier) before it re-checks, or, where that is unavailable, writers fence.
//
// Recovery (recover()): dead writers' reservations become skippable (and are filled with an
// abandoned record once their space is free), dead readers' slots are freed; every repair is
// a CAS, so concurrent recoverers never repair the same thing twice.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stella/common/ring_layout.hpp"
#include "stella/common/segment.hpp"

namespace stella::ring {

using Clock = std::chrono::steady_clock;
using std::chrono::nanoseconds;

struct RingParams {
  std::uint64_t capacity = 0;  // bytes of record data: a power of two >= kMinCapacity
  std::uint32_t max_readers = 32;
  std::uint32_t max_writers = 64;
  WriteBehavior behavior = WriteBehavior::overwrite;
  std::string schema;  // type tag stored in the header, empty for none
};

/// Throws Error(invalid_argument) naming the problem if `p` cannot make a ring.
void validate_params(const std::string& segment, const RingParams& p);
/// Bytes of segment area a ring with `p` needs.
[[nodiscard]] std::uint64_t area_size(const RingParams& p) noexcept;
/// Largest payload of a ring of `capacity` bytes: capacity / 2 - kMessageHeaderSize.
[[nodiscard]] constexpr std::uint64_t max_message_for(std::uint64_t capacity) noexcept {
  return capacity / 2 - kMessageHeaderSize;
}

/// Geometry of an attached ring, read once at attach and kept privately: nothing that
/// bounds an index or a size is ever re-read from the mapping.
struct Geometry {
  std::uint64_t capacity = 0;
  std::uint64_t mask = 0;
  std::uint64_t max_message = 0;
  std::uint32_t max_readers = 0;
  std::uint32_t max_writers = 0;
  WriteBehavior behavior = WriteBehavior::overwrite;
  [[nodiscard]] bool block() const noexcept { return behavior == WriteBehavior::block; }
};

/// Non-owning pointers into a mapped ring, plus its private geometry.
struct RingView {
  RingControl* control = nullptr;
  ReaderSlot* readers = nullptr;
  WriterSlot* writers = nullptr;
  std::byte* data = nullptr;
  Geometry geo;
  std::string name;

  [[nodiscard]] RecordHeader* header_at(std::uint64_t position) const noexcept {
    return reinterpret_cast<RecordHeader*>(data + (position & geo.mask));
  }
};

/// Creates a ring segment (unpublished header written, control initialised, published).
Segment create_segment(std::string_view name, const RingParams& p, const platform::Permissions& perms = {});
/// Initialises a zeroed area (used by create_segment; exposed for the fuzzer/tests).
void initialize(std::byte* area, std::uint64_t area_bytes, const RingParams& p);
/// Validates the ring control block of an opened ring segment and returns a view.
/// Throws Error(corrupt) naming what is inconsistent.
[[nodiscard]] RingView attach(const Segment& segment);
/// Same, over raw area bytes (for the fuzzer).
[[nodiscard]] RingView attach_area(std::string_view name, std::byte* area, std::uint64_t area_bytes);

struct Timing {
  nanoseconds recovery_timeout = std::chrono::seconds(1);  // no progress this long: run recovery
  std::uint32_t spin_iterations = 200;                      // busy checks before sleeping
};

/// corrupt: the tail is no record boundary (bytes written over it); nothing was written.
enum class WriteStatus { ok, timeout, would_block, too_large, corrupt };
enum class ReadStatus { ok, empty, timeout, evicted, corrupt };

struct Reservation {
  std::byte* payload = nullptr;
  std::uint32_t length = 0;
  std::uint64_t position = kNoPosition;
};

/// One writer: owns a writer slot while it lives. Not thread-safe: one thread at a time
/// (open one writer per thread). Holds at most one outstanding reservation.
class RingWriter {
 public:
  RingWriter(RingView view, Timing timing);
  ~RingWriter();
  RingWriter(const RingWriter&) = delete;
  RingWriter& operator=(const RingWriter&) = delete;

  /// Reserves space for `length` bytes. deadline: nullopt = wait as long as needed;
  /// try_only: never wait (would_block instead).
  [[nodiscard]] WriteStatus reserve(std::uint32_t length, std::optional<Clock::time_point> deadline, bool try_only,
                                    Reservation& out);
  void commit(Reservation& r) noexcept;
  void abort(Reservation& r) noexcept;

  [[nodiscard]] const RingView& view() const noexcept { return view_; }
  [[nodiscard]] std::uint32_t slot_index() const noexcept { return slot_; }
  /// Reservations this writer gave up because its deadline passed after it had reserved.
  [[nodiscard]] std::uint64_t given_up() const noexcept { return given_up_count_; }

  /// Test hooks: called with "reserved" right after the fetch_add (before the position is
  /// recorded) and with "claim" after reserving, before the payload is written.
  void set_pause_hook(void (*hook)(const char* where)) noexcept { pause_hook_ = hook; }

 private:
  enum class Wait { ok, timeout, would_block };
  Wait precheck_space(std::uint64_t need_end, std::optional<Clock::time_point> deadline, bool try_only);
  Wait make_room(std::uint64_t pos, std::uint64_t end, std::optional<Clock::time_point> deadline, bool try_only);
  bool readers_allow(std::uint64_t end, bool rescan);
  bool writers_allow(std::uint64_t end, bool rescan);
  Wait wait_for_readers(std::uint64_t end, std::optional<Clock::time_point> deadline);
  Wait wait_for_writers(std::uint64_t end, std::optional<Clock::time_point> deadline);
  bool resolve_given_up();
  void give_up(std::uint64_t pos, std::uint64_t size) noexcept;
  void finish_reservation() noexcept;

  RingView view_;
  Timing timing_;
  WriterSlot* slot_ptr_ = nullptr;
  std::uint32_t slot_ = 0;
  std::uint64_t owner_word_ = 0;
  std::uint64_t generation_ = 0;
  std::uint64_t next_seq_ = 0;  // this writer's next message sequence number
  std::uint64_t reserved_size_ = 0;
  // Cached limits (refreshed only when a record would pass them).
  std::uint64_t cached_min_cursor_ = 0;
  std::uint64_t cached_readers_generation_ = ~std::uint64_t{0};
  std::uint64_t writers_safe_below_ = 0;  // no other reservation outstanding below this position
  std::uint64_t given_up_count_ = 0;
  bool writer_fence_ = true;  // fence before reading data_waiters (no process-wide barrier)
  void (*pause_hook_)(const char*) = nullptr;
};

enum class StartPosition { oldest, latest };

struct ReaderOptions {
  StartPosition start = StartPosition::oldest;
  Timing timing{};
};

struct RecordView {
  std::span<const std::byte> payload;
  std::uint64_t position = 0;  // the record's position in the ring: unique and increasing
};

namespace detail {
/// What a reader (or a peeker) knows of one writer slot, to count messages it missed: the
/// slot generation its next sequence number belongs to (low 8 bits, as in record words).
struct WriterTrack {
  std::uint64_t generation = ~std::uint64_t{0};
  std::uint64_t next_seq = 0;
  bool known = false;  // next_seq is exact for this generation
};
}  // namespace detail

/// One reader: owns a reader slot while it lives. Not thread-safe.
class RingReader {
 public:
  RingReader(RingView view, ReaderOptions options);
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  /// Never waits.
  [[nodiscard]] ReadStatus try_read(std::vector<std::byte>& out);
  /// Spins briefly, then sleeps until a message arrives or `timeout` passes (nullopt: forever).
  [[nodiscard]] ReadStatus read(std::vector<std::byte>& out, std::optional<nanoseconds> timeout);
  /// Zero copy: the next message in place. Valid until release(); in Overwrite mode check
  /// release()'s result: false means the record was overwritten while you looked.
  [[nodiscard]] ReadStatus try_peek(RecordView& out);
  [[nodiscard]] ReadStatus peek(RecordView& out, std::optional<nanoseconds> timeout);
  bool release() noexcept;

  [[nodiscard]] std::uint64_t messages_read() const noexcept { return read_; }
  /// Messages overwritten before this reader read them (Overwrite mode; after an eviction).
  [[nodiscard]] std::uint64_t messages_lost() const noexcept { return lost_; }
  /// Records passed without delivering them: aborted, given up, or left by dead writers.
  [[nodiscard]] std::uint64_t records_skipped() const noexcept { return skipped_; }
  [[nodiscard]] std::uint64_t evictions() const noexcept { return evictions_; }
  [[nodiscard]] std::uint64_t position() const noexcept { return cursor_; }
  [[nodiscard]] const RingView& view() const noexcept { return view_; }
  /// Publishes the cursor now (normally done once per batch and before sleeping).
  void publish() noexcept;

 private:
  enum class Next { message, empty, blocked, corrupt, evicted };
  using WriterTrack = detail::WriterTrack;
  Next next_record(bool copy, std::vector<std::byte>* out, RecordView* view);
  ReadStatus wait_loop(std::optional<nanoseconds> timeout, bool copy, std::vector<std::byte>* out, RecordView* view);
  bool data_available() const noexcept;
  bool overwritten_since(std::uint64_t position) const noexcept;
  bool skip_given_up() noexcept;
  [[nodiscard]] std::uint64_t skip_marks() const noexcept;
  void resync() noexcept;
  void check_own_cursor() noexcept;
  Next found_corrupt() noexcept;
  void count_message(std::uint64_t word, std::uint64_t writer_seq) noexcept;
  void account_writers_below(std::uint64_t position) noexcept;
  void register_slot();
  void place_cursor(StartPosition start);
  bool activate_slot(std::uint64_t generation, StartPosition start);
  bool check_still_owner();
  void maybe_publish() noexcept;

  RingView view_;
  ReaderOptions options_;
  ReaderSlot* slot_ptr_ = nullptr;
  std::uint64_t owner_word_ = 0;
  std::uint64_t cursor_ = 0;
  std::uint64_t cached_tail_ = 0;
  std::uint64_t published_ = 0;
  std::uint64_t publish_every_ = 0;
  std::uint64_t read_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t evictions_ = 0;
  std::vector<WriterTrack> writers_;
  // Pending zero-copy view: the position after it, its header word and sequence number.
  std::uint64_t peek_next_ = kNoPosition;
  std::uint64_t peek_word_ = 0;
  std::uint64_t peek_seq_ = 0;
  std::uint64_t skips_seen_ = ~std::uint64_t{0};  // skip_marks() when we last found nothing to skip
  std::uint64_t skips_seen_at_ = kNoPosition;     // ... at this cursor
  bool pending_corrupt_ = false;
  bool barrier_ = false;  // this process can run the process-wide barrier before sleeping
};

struct PeekerOptions {
  StartPosition start = StartPosition::oldest;
  /// Longest sleep between checks while waiting for data (read()). A peeker is not counted
  /// in data_waiters, so writers never wake it: it sleeps on data_epoch for at most this
  /// long (growing from 1 ms), and is woken early only when a registered reader is woken.
  nanoseconds max_poll = std::chrono::milliseconds(10);
};

/// A slotless reader ("peeker", `stella tail --peek`): reads a ring without taking a reader
/// slot and without writing a byte into the mapping, so it works over a read-only mapping
/// and never holds a writer back, in Block mode either (Block writers only wait for
/// registered readers). It reads like an Overwrite reader that may be lapped, in both
/// modes: a record is delivered only if its stamp is the cursor's own before the copy, and
/// after the copy (acquire fence) the stamp is unchanged and tail <= cursor + capacity (no
/// writer had reserved over it). Otherwise it jumps to oldest_start(tail) and counts the
/// messages it skipped from the writers' sequence numbers, as RingReader does. In Block mode
/// tail may run ahead of a slow registered reader without overwriting anything; the peeker
/// cannot tell, so it skips there too (counted as lost: messages it did not show). It never
/// runs recovery, never publishes a cursor and never increments data_waiters.
/// Not thread-safe; the geometry is RingView's, read once at attach.
class RingPeeker {
 public:
  RingPeeker(RingView view, PeekerOptions options = {});
  RingPeeker(const RingPeeker&) = delete;
  RingPeeker& operator=(const RingPeeker&) = delete;

  /// Never waits: ok (a message in `out`), empty (nothing to read, or the next record is
  /// still being written), corrupt (the ring's contents are inconsistent).
  [[nodiscard]] ReadStatus try_read(std::vector<std::byte>& out);
  /// Polls (bounded timed sleeps on data_epoch, no busy spin) until a message arrives or
  /// `timeout` passes (nullopt: forever).
  [[nodiscard]] ReadStatus read(std::vector<std::byte>& out, std::optional<nanoseconds> timeout);

  [[nodiscard]] std::uint64_t messages_read() const noexcept { return read_; }
  /// Messages this peeker skipped because writers had (or might have) overwritten them.
  [[nodiscard]] std::uint64_t messages_lost() const noexcept { return lost_; }
  /// Records passed without delivering them: aborted, given up, or left by dead writers.
  [[nodiscard]] std::uint64_t records_skipped() const noexcept { return skipped_; }
  /// Times it was lapped (jumped forward).
  [[nodiscard]] std::uint64_t laps() const noexcept { return laps_; }
  [[nodiscard]] std::uint64_t position() const noexcept { return cursor_; }
  [[nodiscard]] const RingView& view() const noexcept { return view_; }

  /// Test hook: called with `context` after a record's stamp and word were checked and
  /// before its payload is copied (where a lapping writer races the copy).
  void set_copy_hook(void (*hook)(void* context), void* context) noexcept {
    copy_hook_ = hook;
    copy_hook_context_ = context;
  }

 private:
  enum class Next { message, empty, corrupt };
  using WriterTrack = detail::WriterTrack;
  Next next_record(std::vector<std::byte>& out);
  bool overwritten_since(std::uint64_t position) const noexcept;
  bool jump() noexcept;
  bool skip_given_up() noexcept;
  void count_message(std::uint64_t word, std::uint64_t writer_seq) noexcept;
  void account_writers_below(std::uint64_t position) noexcept;

  RingView view_;
  PeekerOptions options_;
  std::uint64_t cursor_ = 0;
  std::uint64_t cached_tail_ = 0;
  std::uint64_t read_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t laps_ = 0;
  std::vector<WriterTrack> writers_;
  bool corrupt_ = false;
  void (*copy_hook_)(void*) = nullptr;
  void* copy_hook_context_ = nullptr;
};

/// What one recovery pass did.
struct RecoveryReport {
  std::uint32_t records_repaired = 0;
  std::uint32_t readers_reaped = 0;
  std::uint32_t writers_reaped = 0;
  std::uint32_t readers_evicted = 0;
  [[nodiscard]] bool changed() const noexcept {
    return records_repaired + readers_reaped + writers_reaped + readers_evicted > 0;
  }
};

struct RecoveryOptions {
  /// Evict live readers whose cursor has not moved for this long while data waits
  /// (nullopt: never evict; the default).
  std::optional<nanoseconds> evict_stalled_after;
};

/// Repairs what dead processes left behind. Safe to run from several processes at once
/// and idempotent: a pass over a healthy ring changes nothing.
RecoveryReport recover(const RingView& view, const RecoveryOptions& options = {});

/// Something a live process holds up, or a ring that does not move (for status).
struct Stall {
  enum class Kind : std::uint8_t {
    writer_holds_record,  // a live writer has not finished a record it reserved: readers wait behind it
    ring_stuck,           // the oldest unread position holds no record and no writer claims it
    reader_found_corrupt, // a reader met bytes that are no record (its reads fail with corrupt)
  };
  Kind kind;
  std::uint32_t slot;     // the writer's (or reader's) slot
  std::uint64_t pid;      // its pid, as it numbers itself (information only)
  std::uint64_t position;
  std::uint64_t size;     // of the held reservation
  nanoseconds held;       // how long it has been so, as far as this watcher has seen
  std::uint32_t waiting_writers;  // other live writers whose reservation waits behind it
  [[nodiscard]] std::string describe() const;
};

/// Watches one ring for stalls from outside (stellad's reaper): every observe() compares
/// the slots with what the previous one saw, privately; nothing in the ring is written,
/// and values read from it are only compared, never used to index anything but the slots
/// the geometry (read once) bounds. Reports what has stayed so for at least `threshold`.
class StallWatch {
 public:
  std::vector<Stall> observe(const RingView& view, std::chrono::steady_clock::time_point now, nanoseconds threshold);

 private:
  struct Seen {
    std::uint64_t owner = 0, position = kNoPosition;
    std::chrono::steady_clock::time_point since{};
  };
  std::vector<Seen> writers_;
  Seen oldest_;  // the oldest unread position while it is unpublished
};

/// Snapshot for status reporting.
struct ReaderInfo {
  std::uint32_t slot;
  std::uint64_t pid;
  std::uint64_t cursor;
  std::uint64_t lag_bytes;
  std::uint64_t messages_read;
  std::uint64_t messages_lost;
  bool evicted;
  bool alive;  // its liveness token is held (or the OS would not say): not yet reaped because alive
};
struct WriterInfo {
  std::uint32_t slot;
  std::uint64_t pid;  // as the writer's own pid namespace numbers it: information only
  std::uint64_t messages_written;
  bool alive;
};
struct RingStatus {
  std::uint64_t capacity, tail, head, next_seq;  // head: oldest position a new reader can start at; next_seq: messages ever written (approximate while writers come and go)
  WriteBehavior behavior;
  std::vector<ReaderInfo> readers;
  std::vector<WriterInfo> writers;
  std::uint64_t records_repaired, reservations_given_up, readers_reaped, writers_reaped, readers_evicted;
};
[[nodiscard]] RingStatus status(const RingView& view);

/// Copies a payload into a reserved record. Use it (not memcpy) where a lapped reader may
/// read concurrently: under ThreadSanitizer it copies with relaxed atomic words, so the
/// seqlock-style race that readers detect afterwards is not reported.
void copy_into_record(std::byte* dst, const std::byte* src, std::size_t n) noexcept;

/// Monotonic nanoseconds (steady clock) for progress stamps.
[[nodiscard]] std::uint64_t now_ns() noexcept;

/// The oldest position a reader can start at when the tail is `tail`: the start of the
/// oldest lap that nothing has begun to overwrite (every multiple of the capacity is a
/// record boundary).
[[nodiscard]] constexpr std::uint64_t oldest_start(std::uint64_t tail, std::uint64_t capacity) noexcept {
  return tail <= capacity ? 0 : ((tail - capacity + capacity - 1) / capacity) * capacity;
}

}  // namespace stella::ring
