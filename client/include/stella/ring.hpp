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
  Timeout,     ///< Block mode: no space before the timeout (nothing was written)
  WouldBlock,  ///< try_write: writing would have had to wait (nothing was written)
};

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
};

/// The writer side. Many processes (and many instances) may write to one ring at once;
/// arriving writers are served in arrival order. One instance must not be used by two
/// threads at once: open one per thread.
class MultiWriterCircularBuffer {
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
  MultiWriterCircularBuffer(MultiWriterCircularBuffer&&) noexcept;
  MultiWriterCircularBuffer& operator=(MultiWriterCircularBuffer&&) noexcept;

  /// Writes one message. Overwrite mode never waits for readers. Block mode waits for
  /// space, at most `timeout` if given. Throws Error(value_too_large) if bytes.size() >
  /// max_message_size().
  WriteResult write_bytes(std::span<const std::byte> bytes,
                          std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  /// Never waits: WouldBlock if the turn is taken or (Block) there is no space.
  [[nodiscard]] WriteResult try_write_bytes(std::span<const std::byte> bytes);

  template <class T, class S>
    requires SerializerFor<S, T>
  WriteResult write(const T& value, const S& serializer,
                    std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
    serializer.serialize(value, scratch_);
    return write_bytes(scratch_, timeout);
  }
  template <class T, class S>
    requires SerializerFor<S, T>
  [[nodiscard]] WriteResult try_write(const T& value, const S& serializer) {
    serializer.serialize(value, scratch_);
    return try_write_bytes(scratch_);
  }

  /// Zero copy: reserves `size` bytes in the ring; fill claim.data() in place, then
  /// commit() (or abort(); destroying an uncommitted claim aborts it). Readers wait at an
  /// uncommitted record, so commit promptly. nullopt on timeout (Block mode) or, with
  /// try_claim, when it would wait.
  [[nodiscard]] std::optional<Claim> claim(std::size_t size,
                                           std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  [[nodiscard]] std::optional<Claim> try_claim(std::size_t size);

  [[nodiscard]] const std::string& name() const noexcept;
  [[nodiscard]] std::size_t capacity() const noexcept;
  [[nodiscard]] std::size_t max_message_size() const noexcept;
  [[nodiscard]] WriteBehavior behavior() const noexcept;

  /// Removes the ring's name (mapped instances keep working). False if it did not exist.
  static bool remove(std::string_view name);

  /// The internal writer (tests, stellad, benchmarks).
  [[nodiscard]] ring::RingWriter& core() noexcept { return *writer_; }

 private:
  WriteResult write_impl(std::span<const std::byte> bytes, std::optional<ring::Clock::time_point> deadline,
                         bool try_only);
  std::optional<Claim> claim_impl(std::size_t size, std::optional<ring::Clock::time_point> deadline, bool try_only);

  Segment segment_;
  std::unique_ptr<ring::RingWriter> writer_;
  std::vector<std::byte> scratch_;
};

/// A claimed record. Move-only; aborts on destruction unless committed.
class MultiWriterCircularBuffer::Claim {
 public:
  Claim(Claim&& other) noexcept : writer_(other.writer_), r_(other.r_) { other.r_.position = ring::kNoPosition; }
  Claim& operator=(Claim&&) = delete;
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;
  ~Claim() { abort(); }

  [[nodiscard]] std::span<std::byte> data() const noexcept { return {r_.payload, r_.length}; }
  /// Publishes the record to readers.
  void commit() noexcept { writer_->commit(r_); }
  /// Withdraws the record; readers skip it.
  void abort() noexcept { writer_->abort(r_); }

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

struct ReaderOptions {
  StartPosition start = StartPosition::Oldest;
  std::chrono::nanoseconds recovery_timeout = std::chrono::seconds(1);
  std::uint32_t spin_iterations = 200;
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
class LockFreeBufferReader {
 public:
  /// Opens the ring `name` and takes a reader slot. Throws stella::Error: not_found,
  /// wrong_kind, corrupt, version_mismatch, slots_full (all max_readers slots taken).
  explicit LockFreeBufferReader(std::string_view name, const ReaderOptions& options = {});
  ~LockFreeBufferReader();
  LockFreeBufferReader(const LockFreeBufferReader&) = delete;
  LockFreeBufferReader& operator=(const LockFreeBufferReader&) = delete;
  LockFreeBufferReader(LockFreeBufferReader&&) noexcept;
  LockFreeBufferReader& operator=(LockFreeBufferReader&&) noexcept;

  /// Never waits. True when a message was read into `out`. Throws Error(corrupt) if the
  /// ring's contents are corrupted, Error(evicted) if this reader was evicted (it resumes).
  bool try_read_bytes(std::vector<std::byte>& out);
  /// Waits (spin, then sleep on a futex) up to `timeout`; nullopt waits forever.
  ReadResult read_bytes(std::vector<std::byte>& out, std::optional<std::chrono::nanoseconds> timeout);

  template <class T, class S>
    requires SerializerFor<S, T>
  bool try_read(const S& serializer, T& out) {
    if (!try_read_bytes(scratch_)) return false;
    serializer.deserialize(scratch_, out);
    return true;
  }
  template <class T, class S>
    requires SerializerFor<S, T>
  ReadResult read(const S& serializer, T& out, std::optional<std::chrono::nanoseconds> timeout) {
    const ReadResult r = read_bytes(scratch_, timeout);
    if (r == ReadResult::Ok) serializer.deserialize(scratch_, out);
    return r;
  }

  /// Zero copy: the next message in place, without copying. Valid until release().
  class View {
   public:
    [[nodiscard]] std::span<const std::byte> data() const noexcept { return payload_; }
    [[nodiscard]] std::uint64_t sequence() const noexcept { return seq_; }

   private:
    friend class LockFreeBufferReader;
    View(std::span<const std::byte> payload, std::uint64_t seq) : payload_(payload), seq_(seq) {}
    std::span<const std::byte> payload_;
    std::uint64_t seq_ = 0;
  };
  /// The next message in place, or nullopt if there is none now.
  [[nodiscard]] std::optional<View> try_peek();
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
  [[nodiscard]] const std::string& name() const noexcept;

  [[nodiscard]] ring::RingReader& core() noexcept { return *reader_; }

 private:
  Segment segment_;
  std::unique_ptr<ring::RingReader> reader_;
  std::vector<std::byte> scratch_;
};

[[nodiscard]] std::string_view to_string(WriteResult r) noexcept;
[[nodiscard]] std::string_view to_string(ReadResult r) noexcept;

}  // namespace stella
