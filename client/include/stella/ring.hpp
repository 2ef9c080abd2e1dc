// MultiWriterCircularBuffer and LockFreeBufferReader: a shared-memory ring of
// variable-length messages, written by many processes and read by many independent
// readers. See README.md "MultiWriterCircularBuffer" and docs/ring.md for the algorithm.
//
//   stella::MultiWriterCircularBuffer buffer("MyLogBuffer", stella::SharedMemoryMode::Create, 65536);
//   buffer.write(message, serializer);
//
//   stella::LockFreeBufferReader reader("MyLogBuffer");
//   while (reader.try_read(serializer, entry)) { ... }
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stella/common/export.h"
#include "stella/common/platform/shm.hpp"
#include "stella/common/ring.hpp"
#include "stella/serializer.hpp"
#include "stella/shared_memory.hpp"

namespace stella {

/// What a writer does when the ring is full.
enum class WriteBehavior {
  Overwrite,  ///< default: never wait for readers, overwrite the oldest data
  Block,      ///< never overwrite what a live registered reader has not read: wait (or time out)
};

/// Result of a write. Explicitly converts to true when the message was written.
enum class WriteResult {
  Ok,          ///< written and committed
  Timeout,     ///< no space (Block mode), or an older writer's unfinished record in the way a lap back (either mode), until the timeout (nothing was written)
  WouldBlock,  ///< try_write: writing would have had to wait (nothing was written)
};

/// Options of a writer (and of the ring when it creates it).
struct RingOptions {
  std::uint32_t max_readers = 32;  ///< reader slots (Create)
  std::uint32_t max_writers = 64;  ///< writer slots (Create); one per open writer
  /// Waiting with no progress this long triggers crash recovery (dead writer or reader).
  std::chrono::nanoseconds recovery_timeout = std::chrono::seconds(1);
  /// Busy checks before a waiting writer sleeps on a futex. Short: with more writers than
  /// cores, spinning only steals the CPU the writer ahead of us needs (measured: 4 writers
  /// on 2 cores moved 3-5x more messages with 20 than with 200).
  std::uint32_t spin_iterations = 20;
  /// Owner, group and mode of a segment this call creates (default 0660).
  platform::Permissions permissions{};
  /// Typed channel: the payload type tag (up to 24 of [A-Za-z0-9._:@/+-], e.g. "market.Quote@2").
  /// Create stores it in the segment's header; Open and OpenOrCreate, when it is not empty,
  /// refuse a ring that carries another tag or none (Errc::type_mismatch, naming both). Empty:
  /// untyped access, which opens any ring.
  std::string schema;
};

/// The writer side. Many processes (and many instances) may write to one ring at once;
/// arriving writers are served in arrival order. One instance must not be used by two
/// threads at once: open one per thread.
class STELLA_API MultiWriterCircularBuffer {
 public:
  class Claim;

  /// Creates and/or opens the ring `name`. `capacity` (Create/OpenOrCreate) is the bytes of
  /// record data, a power of two >= 4096; the largest message is capacity/2 - 32 bytes.
  /// `behavior` applies when creating; opening uses the ring's own (see behavior()).
  /// Throws stella::Error: invalid_name, not_found, already_exists, wrong_kind, corrupt,
  /// version_mismatch, truncated, bad_magic, invalid_argument, no_space, slots_full.
  MultiWriterCircularBuffer(std::string_view name, SharedMemoryMode mode, std::size_t capacity = 0,
                            WriteBehavior behavior = WriteBehavior::Overwrite, const RingOptions& options = {});
  ~MultiWriterCircularBuffer();
  MultiWriterCircularBuffer(const MultiWriterCircularBuffer&) = delete;
  MultiWriterCircularBuffer& operator=(const MultiWriterCircularBuffer&) = delete;
  /// Movable: the moved-from object must not be used.
  MultiWriterCircularBuffer(MultiWriterCircularBuffer&&) noexcept;
  /// Movable: the moved-from object must not be used.
  MultiWriterCircularBuffer& operator=(MultiWriterCircularBuffer&&) noexcept;

  /// Writes one message. Overwrite mode never waits for readers. Block mode waits for
  /// space, at most `timeout` if given. Throws Error(value_too_large) if bytes.size() >
  /// max_message_size().
  WriteResult write_bytes(std::span<const std::byte> bytes,
                          std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  /// Never waits: WouldBlock if the turn is taken or (Block) there is no space.
  [[nodiscard]] WriteResult try_write_bytes(std::span<const std::byte> bytes);

  /// Encodes `value` with `serializer` and writes it. A serializer failure throws
  /// Error(serialization) naming this ring.
  template <class T, class S>
    requires SerializerFor<S, T>
  WriteResult write(const T& value, const S& serializer,
                    std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
    encode(value, serializer);
    return write_bytes(scratch_, timeout);
  }
  /// Like write(), but never waits: WouldBlock instead.
  template <class T, class S>
    requires SerializerFor<S, T>
  [[nodiscard]] WriteResult try_write(const T& value, const S& serializer) {
    encode(value, serializer);
    return try_write_bytes(scratch_);
  }

  /// Zero copy: reserves `size` bytes in the ring; fill claim.data() in place, then
  /// commit() (or abort(); destroying an uncommitted claim aborts it). Readers wait at an
  /// uncommitted record, so commit promptly. nullopt on timeout (Block mode) or, with
  /// try_claim, when it would wait.
  [[nodiscard]] std::optional<Claim> claim(std::size_t size,
                                           std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  /// Like claim(), but never waits: nullopt instead.
  [[nodiscard]] std::optional<Claim> try_claim(std::size_t size);

  /// The ring's name.
  [[nodiscard]] const std::string& name() const noexcept;
  /// The ring's type tag ("" when untyped).
  [[nodiscard]] std::string_view schema() const noexcept;
  /// Bytes of record data.
  [[nodiscard]] std::size_t capacity() const noexcept;
  /// The largest message: capacity/2 - 16 bytes.
  [[nodiscard]] std::size_t max_message_size() const noexcept;
  /// The ring's behaviour when full (its own, fixed when it was created).
  [[nodiscard]] WriteBehavior behavior() const noexcept;

  /// Removes the ring's name (mapped instances keep working). False if it did not exist.
  static bool remove(std::string_view name);

  /// The internal writer (tests, stellad, benchmarks).
  [[nodiscard]] ring::RingWriter& core() noexcept { return *writer_; }

 private:
  WriteResult write_impl(std::span<const std::byte> bytes, std::optional<ring::Clock::time_point> deadline,
                         bool try_only);
  std::optional<Claim> claim_impl(std::size_t size, std::optional<ring::Clock::time_point> deadline, bool try_only);
  template <class T, class S>
  void encode(const T& value, const S& serializer) {
    try {
      serializer.serialize(value, scratch_);
    } catch (const Error& e) {
      rethrow_naming_segment(e);
    }
  }
  /// Called inside a catch handler: rethrows `e`, with this ring's name if it had none.
  [[noreturn]] void rethrow_naming_segment(const Error& e) const;

  Segment segment_;
  std::unique_ptr<ring::RingWriter> writer_;
  std::vector<std::byte> scratch_;
};

/// A claimed record. Move-only; aborts on destruction unless committed.
class STELLA_API MultiWriterCircularBuffer::Claim {
 public:
  /// Moves the claim; `other` no longer holds it.
  Claim(Claim&& other) noexcept : writer_(other.writer_), r_(other.r_) { other.r_.position = ring::kNoPosition; }
  Claim& operator=(Claim&&) = delete;
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;
  /// Aborts the record unless it was committed (or moved from): no call at all then.
  ~Claim() {
    if (r_.position != ring::kNoPosition) abort();
  }

  /// The record's bytes, to fill in place (exactly the size claimed).
  [[nodiscard]] std::span<std::byte> data() const noexcept { return {r_.payload, r_.length}; }
  /// Publishes the record to readers.
  void commit() noexcept;
  /// Withdraws the record; readers skip it.
  void abort() noexcept;

 private:
  friend class MultiWriterCircularBuffer;
  Claim(ring::RingWriter* writer, const ring::Reservation& r) : writer_(writer), r_(r) {}
  ring::RingWriter* writer_;
  ring::Reservation r_;
};

enum class StartPosition {
  Oldest,  ///< the oldest message still in the ring (default)
  Latest,  ///< only messages written after the reader opened
};

/// Options of a reader.
struct ReaderOptions {
  StartPosition start = StartPosition::Oldest;  ///< where the reader starts
  /// Waiting with no progress this long triggers crash recovery (a dead writer's record).
  std::chrono::nanoseconds recovery_timeout = std::chrono::seconds(1);
  std::uint32_t spin_iterations = 200;  ///< busy checks before a waiting reader sleeps on a futex
  /// Typed channel: when not empty, refuse a ring whose type tag differs (Errc::type_mismatch,
  /// naming both); see RingOptions::schema.
  std::string schema;
};

/// Result of a read.
enum class ReadResult {
  Ok,       ///< a message was read
  Empty,    ///< try_*: nothing to read now
  Timeout,  ///< read: nothing arrived before the timeout
  Evicted,  ///< this reader stalled past the ring's limit and was evicted; it has resumed at
            ///< the oldest message and messages_lost() counts the gap after the next read
};

/// One independent reader with its own cursor. Reading takes no lock and never slows
/// writers or other readers. One instance must not be used by two threads at once.
class STELLA_API LockFreeBufferReader {
 public:
  /// Opens the ring `name` and takes a reader slot. Throws stella::Error: not_found,
  /// wrong_kind, corrupt, version_mismatch, slots_full (all max_readers slots taken).
  explicit LockFreeBufferReader(std::string_view name, const ReaderOptions& options = {});
  ~LockFreeBufferReader();
  LockFreeBufferReader(const LockFreeBufferReader&) = delete;
  LockFreeBufferReader& operator=(const LockFreeBufferReader&) = delete;
  /// Movable: the moved-from object must not be used.
  LockFreeBufferReader(LockFreeBufferReader&&) noexcept;
  /// Movable: the moved-from object must not be used.
  LockFreeBufferReader& operator=(LockFreeBufferReader&&) noexcept;

  /// Never waits. True when a message was read into `out`. Throws Error(corrupt) if the
  /// ring's contents are corrupted, Error(evicted) if this reader was evicted (it resumes).
  bool try_read_bytes(std::vector<std::byte>& out);
  /// Waits (spin, then sleep on a futex) up to `timeout`; nullopt waits forever.
  ReadResult read_bytes(std::vector<std::byte>& out, std::optional<std::chrono::nanoseconds> timeout);

  /// Never waits: decodes the next message into `out`; false when there is none. Bytes the
  /// serializer cannot decode throw Error(serialization) naming this ring (the message is
  /// consumed).
  template <class T, class S>
    requires SerializerFor<S, T>
  bool try_read(const S& serializer, T& out) {
    if (!try_read_bytes(scratch_)) return false;
    decode(serializer, out);
    return true;
  }
  /// Waits up to `timeout` (nullopt: forever) and decodes the next message into `out`.
  template <class T, class S>
    requires SerializerFor<S, T>
  ReadResult read(const S& serializer, T& out, std::optional<std::chrono::nanoseconds> timeout) {
    const ReadResult r = read_bytes(scratch_, timeout);
    if (r == ReadResult::Ok) decode(serializer, out);
    return r;
  }

  /// Zero copy: the next message in place, without copying. Valid until release().
  class View {
   public:
    /// The message's bytes, in the ring's memory.
    [[nodiscard]] std::span<const std::byte> data() const noexcept { return payload_; }
    /// The message's sequence number in the ring.
    [[nodiscard]] std::uint64_t sequence() const noexcept { return seq_; }

   private:
    friend class LockFreeBufferReader;
    View(std::span<const std::byte> payload, std::uint64_t seq) : payload_(payload), seq_(seq) {}
    std::span<const std::byte> payload_;
    std::uint64_t seq_ = 0;
  };
  /// The next message in place, or nullopt if there is none now.
  [[nodiscard]] std::optional<View> try_peek();
  /// Like try_peek(), but waits up to `timeout` (nullopt: forever) for a message.
  [[nodiscard]] std::optional<View> peek(std::optional<std::chrono::nanoseconds> timeout);
  /// Moves past the viewed message. In Overwrite mode false means a writer overwrote it
  /// while you looked: discard what you read from the view.
  bool release() noexcept;

  /// Messages read so far.
  [[nodiscard]] std::uint64_t messages_read() const noexcept;
  /// Messages overwritten before this reader could read them (Overwrite mode).
  [[nodiscard]] std::uint64_t messages_lost() const noexcept;
  /// Records passed without delivering them: aborted claims, reservations a writer gave up
  /// after a timeout, and those left unfinished by writers that died. Never counted as lost.
  [[nodiscard]] std::uint64_t records_skipped() const noexcept;
  /// The ring's name.
  [[nodiscard]] const std::string& name() const noexcept;
  /// The ring's type tag ("" when untyped).
  [[nodiscard]] std::string_view schema() const noexcept;
  /// The ring's largest message (capacity/2 - 32 bytes): a buffer this large holds any message.
  [[nodiscard]] std::size_t max_message_size() const noexcept;

  /// The internal reader (tests, stellad).
  [[nodiscard]] ring::RingReader& core() noexcept { return *reader_; }

 private:
  template <class T, class S>
  void decode(const S& serializer, T& out) {
    try {
      serializer.deserialize(std::span<const std::byte>(scratch_), out);
    } catch (const Error& e) {
      rethrow_naming_segment(e);
    }
  }
  /// Called inside a catch handler: rethrows `e`, with this ring's name if it had none.
  [[noreturn]] void rethrow_naming_segment(const Error& e) const;

  Segment segment_;
  std::unique_ptr<ring::RingReader> reader_;
  std::vector<std::byte> scratch_;
};

[[nodiscard]] STELLA_API std::string_view to_string(WriteResult r) noexcept;
[[nodiscard]] STELLA_API std::string_view to_string(ReadResult r) noexcept;

}  // namespace stella
