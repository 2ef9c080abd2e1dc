// The ring algorithms over a mapped ring segment (see ring_layout.hpp for the layout).
//
// Writers: a ticket (fetch_add on next_ticket) orders arriving writers; the writer whose
// ticket is served holds "the turn" only long enough to reserve space (and, in Block
// mode, to wait for it), then releases it and fills its record outside the turn, so
// copies of different writers overlap. A record is reserved as `claimed`, then committed
// as `message` (or aborted as `abandoned`). The turn holder also advances `head` past the
// records it is about to overwrite, stamping each one's header `overwritten`, and
// announces `tail_intent` before writing, so readers can tell when what they copied was
// overwritten.
//
// Readers: each has its own cursor and a slot to publish it in (once per batch). A read
// checks the record's sequence number, copies it, then re-checks the header word and
// sequence (the stamp, or a later record, changes them); `tail_intent` is the slow-path
// check right after a jump. A lapped reader jumps to `head` and counts the sequence-number
// gap as lost. No lock, no write to any shared line but its own slot.
//
// Waiting: spin briefly, then sleep on a futex word; wakers wake only when someone sleeps
// (a counter checked after a seq_cst fence, Dekker-style on both sides).
//
// Recovery (recover()): dead writers' claimed records become `abandoned`, a turn held or
// owned by a dead writer is passed on, dead readers' slots are freed; every repair is a
// CAS, so concurrent recoverers never repair the same thing twice.
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
};

/// Throws Error(invalid_argument) naming the problem if `p` cannot make a ring.
void validate_params(const std::string& segment, const RingParams& p);
/// Bytes of segment area a ring with `p` needs.
[[nodiscard]] std::uint64_t area_size(const RingParams& p) noexcept;
/// Largest payload of a ring of `capacity` bytes: capacity / 2 - kRecordHeaderSize.
[[nodiscard]] constexpr std::uint64_t max_message_for(std::uint64_t capacity) noexcept {
  return capacity / 2 - kRecordHeaderSize;
}

/// Non-owning pointers into a mapped ring.
struct RingView {
  RingControl* control = nullptr;
  ReaderSlot* readers = nullptr;
  WriterSlot* writers = nullptr;
  std::byte* data = nullptr;
  std::uint64_t mask = 0;
  std::string name;

  [[nodiscard]] RecordHeader* header_at(std::uint64_t position) const noexcept {
    return reinterpret_cast<RecordHeader*>(data + (position & mask));
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

enum class WriteStatus { ok, timeout, would_block, too_large };
enum class ReadStatus { ok, empty, timeout, evicted, corrupt };

struct Reservation {
  std::byte* payload = nullptr;
  std::uint32_t length = 0;
  std::uint64_t position = kNoPosition;
  std::uint64_t seq = 0;
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

  /// The most tickets ever ahead of ours when we took one: with FIFO tickets it never
  /// exceeds the number of other writers (and readers registering) at that moment.
  [[nodiscard]] std::uint32_t max_queue_ahead() const noexcept { return max_queue_ahead_; }

  /// Test hooks (STELLA_TEST_PAUSE=turn|claim): called while holding the turn / after reserving.
  void set_pause_hook(void (*hook)(const char* where)) noexcept { pause_hook_ = hook; }

 private:
  bool acquire_turn(std::optional<Clock::time_point> deadline, bool try_only, std::uint32_t& ticket);
  void release_turn(std::uint32_t ticket) noexcept;
  void abandon_ticket(std::uint32_t ticket) noexcept;
  bool space_available(std::uint64_t end);
  WriteStatus wait_for_space(std::uint64_t end, std::optional<Clock::time_point> deadline, bool try_only);
  void advance_head(std::uint64_t limit);

  RingView view_;
  Timing timing_;
  WriterSlot* slot_ptr_ = nullptr;
  std::uint32_t slot_ = 0;
  std::uint64_t owner_word_ = 0;
  std::uint64_t cached_min_cursor_ = 0;
  std::uint64_t cached_readers_generation_ = ~std::uint64_t{0};
  void (*pause_hook_)(const char*) = nullptr;
  std::uint32_t max_queue_ahead_ = 0;
};

enum class StartPosition { oldest, latest };

struct ReaderOptions {
  StartPosition start = StartPosition::oldest;
  Timing timing{};
};

struct RecordView {
  std::span<const std::byte> payload;
  std::uint64_t seq = 0;
};

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
  [[nodiscard]] std::uint64_t messages_lost() const noexcept { return lost_; }
  [[nodiscard]] std::uint64_t evictions() const noexcept { return evictions_; }
  [[nodiscard]] std::uint64_t position() const noexcept { return cursor_; }
  [[nodiscard]] const RingView& view() const noexcept { return view_; }
  /// Publishes the cursor now (normally done once per batch and before sleeping).
  void publish() noexcept;

 private:
  enum class Next { message, empty, blocked_on_claim, corrupt, evicted };
  Next next_record(bool copy, std::vector<std::byte>* out, RecordView* view);
  ReadStatus wait_loop(std::optional<nanoseconds> timeout, bool copy, std::vector<std::byte>* out, RecordView* view);
  bool data_available_seq_cst() const noexcept;
  bool jump_to_head() noexcept;
  void register_slot();
  bool place_cursor(StartPosition start);  // false: the control block is corrupt
  bool activate_slot(std::uint64_t generation, StartPosition start, bool& activated);
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
  std::uint64_t expected_seq_ = 0;
  bool have_expected_ = false;
  std::uint64_t read_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t evictions_ = 0;
  // Pending zero-copy view: the position after it and its header word.
  std::uint64_t peek_next_ = kNoPosition;
  std::uint64_t peek_seq_ = 0;
  std::uint64_t peek_word_ = 0;
  bool after_resync_ = false;
  bool pending_corrupt_ = false;
};

/// What one recovery pass did.
struct RecoveryReport {
  std::uint32_t records_repaired = 0;
  std::uint32_t turns_recovered = 0;
  std::uint32_t readers_reaped = 0;
  std::uint32_t writers_reaped = 0;
  std::uint32_t readers_evicted = 0;
  [[nodiscard]] bool changed() const noexcept {
    return records_repaired + turns_recovered + readers_reaped + writers_reaped + readers_evicted > 0;
  }
};

struct RecoveryOptions {
  /// The turn has been observed stuck at this ticket for at least the recovery timeout:
  /// if its owner is dead or unknown, pass the turn on.
  std::optional<std::uint32_t> turn_stuck_at;
  /// Evict live readers whose cursor has not moved for this long while data waits
  /// (nullopt: never evict; the default).
  std::optional<nanoseconds> evict_stalled_after;
};

/// Repairs what dead processes left behind. Safe to run from several processes at once
/// and idempotent: a pass over a healthy ring changes nothing.
RecoveryReport recover(const RingView& view, const RecoveryOptions& options = {});

/// Snapshot for status reporting.
struct ReaderInfo {
  std::uint32_t slot;
  std::uint64_t pid;
  std::uint64_t cursor;
  std::uint64_t lag_bytes;
  std::uint64_t messages_read;
  std::uint64_t messages_lost;
  bool evicted;
};
struct WriterInfo {
  std::uint32_t slot;
  std::uint64_t pid;
  std::uint64_t messages_written;
};
struct RingStatus {
  std::uint64_t capacity, tail, head, next_seq;
  WriteBehavior behavior;
  std::uint32_t now_serving, next_ticket;
  std::vector<ReaderInfo> readers;
  std::vector<WriterInfo> writers;
  std::uint64_t records_repaired, turns_recovered, readers_reaped, writers_reaped, readers_evicted;
};
[[nodiscard]] RingStatus status(const RingView& view);

/// Copies a payload into a reserved record. Use it (not memcpy) where a lapped reader may
/// read concurrently: under ThreadSanitizer it copies with relaxed atomic words, so the
/// seqlock-style race that readers detect afterwards is not reported.
void copy_into_record(std::byte* dst, const std::byte* src, std::size_t n) noexcept;

/// Monotonic nanoseconds (steady clock) for progress stamps.
[[nodiscard]] std::uint64_t now_ns() noexcept;

}  // namespace stella::ring
