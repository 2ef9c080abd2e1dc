// The blob segment: one value shared between processes. This file is the layout spec of
// the blob area (the part of a SegmentHeader::kind == blob segment after the header) and
// the algorithm that reads and writes it.
//
// Layout of the area (all offsets from the area start, which is cache-line aligned):
//
//   0    BlobControl      published: how many writes were ever published (0 = empty);
//                         the latest value lives in slot (published & 1)
//   64   BlobSlotHeader 0 sequence (seqlock), size, generation of slot 0
//   128  BlobSlotHeader 1 the same for slot 1
//   192  slot 0 data      slot_stride(capacity) bytes
//   192 + stride          slot 1 data
//
// SegmentHeader::params[kParamCapacity] holds the capacity (largest value in bytes) and
// params[kParamSlotStride] the stride; both are validated on open.
//
// Write (under the writer lock, so one writer at a time): pick the slot that is NOT
// published, make its sequence odd, copy the value in, store its size and generation,
// make the sequence even again, then publish by storing published + 1. Readers keep
// reading the published slot throughout, so a writer killed at any instruction leaves
// the value readers see untouched: the worst it leaves behind is an odd sequence on the
// unpublished slot, which the next writer simply writes over.
//
// Read (no lock, never blocks): load published, read that slot's sequence, copy size and
// bytes out, re-read the sequence. If the sequence was odd or changed, or the slot holds
// another generation than the one published (a newer write lapped us), start again.
// A reader only returns a value whose copy no writer touched.
//
// The data words are copied with relaxed std::atomic_ref accesses, so the concurrent
// copy is not a data race in the C++ memory model (and costs the same plain moves).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "stella/common/platform/shm.hpp"
#include "stella/common/segment.hpp"

namespace stella {

inline constexpr std::size_t kBlobSlotCount = 2;
/// Index into SegmentHeader::params.
inline constexpr std::size_t kBlobParamCapacity = 0;
inline constexpr std::size_t kBlobParamSlotStride = 1;
/// The largest capacity a blob segment may declare (1 TiB): keeps every size computation
/// far from overflow whatever a header claims.
inline constexpr std::uint64_t kBlobMaxCapacity = std::uint64_t{1} << 40;

struct alignas(kCacheLineSize) BlobControl {
  /// Number of writes published so far; 0 = never written. Only writers store it (under
  /// the writer lock), with release; readers load it with acquire.
  std::atomic<std::uint64_t> published;
  std::uint8_t reserved[56];
};

struct alignas(kCacheLineSize) BlobSlotHeader {
  /// Seqlock counter: odd while a writer copies into this slot. An odd value that never
  /// turns even is a writer that died (or aborted) mid-copy.
  std::atomic<std::uint64_t> sequence;
  /// Bytes of the value held (<= capacity). Written inside the odd period.
  std::atomic<std::uint64_t> size;
  /// The value of BlobControl::published this slot's content was written for.
  std::atomic<std::uint64_t> generation;
  std::uint8_t reserved[40];
};

struct BlobArea {
  BlobControl control;
  BlobSlotHeader slots[kBlobSlotCount];
  // Followed by kBlobSlotCount data regions of blob_slot_stride(capacity) bytes each.
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "mapped atomics must be lock free");
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free, "the data copy uses atomic_ref<uint64_t>");
static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= kCacheLineSize);
static_assert(std::is_standard_layout_v<BlobControl> && std::is_standard_layout_v<BlobSlotHeader> &&
              std::is_standard_layout_v<BlobArea>);
static_assert(sizeof(BlobControl) == 64, "published has a cache line of its own");
static_assert(sizeof(BlobSlotHeader) == 64, "each slot header has a cache line of its own");
static_assert(offsetof(BlobSlotHeader, sequence) == 0);
static_assert(offsetof(BlobSlotHeader, size) == 8);
static_assert(offsetof(BlobSlotHeader, generation) == 16);
static_assert(offsetof(BlobArea, control) == 0);
static_assert(offsetof(BlobArea, slots) == 64);
static_assert(sizeof(BlobArea) == 192, "data starts at area offset 192; change kLayoutVersion with it");

/// Bytes between the starts of the two data regions: capacity rounded up to a cache line.
[[nodiscard]] constexpr std::uint64_t blob_slot_stride(std::uint64_t capacity) noexcept {
  return (capacity + kCacheLineSize - 1) / kCacheLineSize * kCacheLineSize;
}
/// Bytes of the whole blob area for `capacity`.
[[nodiscard]] constexpr std::uint64_t blob_area_size(std::uint64_t capacity) noexcept {
  return sizeof(BlobArea) + kBlobSlotCount * blob_slot_stride(capacity);
}

/// A mapped blob segment and the write/read protocol above. Not copyable, not movable
/// (it holds the mutex that serialises threads sharing it); hold it by unique_ptr.
class BlobSegment {
 public:
  /// Creates `name` with room for values of up to `capacity` bytes, initially empty.
  static std::unique_ptr<BlobSegment> create(std::string_view name, std::uint64_t capacity,
                                             const platform::Permissions& perms = {}, std::string_view schema = {});
  /// Opens `name`, validating the header (kind blob) and the blob parameters.
  static std::unique_ptr<BlobSegment> open(std::string_view name, platform::Access access);

  BlobSegment(const BlobSegment&) = delete;
  BlobSegment& operator=(const BlobSegment&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return segment_.name(); }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }
  /// The type tag in the header ("" when untyped).
  [[nodiscard]] std::string_view schema() const noexcept { return segment_.schema(); }
  [[nodiscard]] bool read_only() const noexcept { return access_ == platform::Access::read_only; }
  /// Number of writes published so far (0 = empty). Changes whenever a new value is published.
  [[nodiscard]] std::uint64_t generation() const noexcept;

  // ---- Writer lock: excludes writers in other processes (flock, released by the kernel
  // when the holder dies) and threads sharing this object (a mutex). ----
  void lock_writer();
  [[nodiscard]] bool try_lock_writer();
  void unlock_writer() noexcept;

  /// Throws value_too_large naming the segment, the size and the capacity.
  void check_fits(std::size_t size) const;

  // ---- Writing; the caller holds the writer lock. ----
  /// Starts a write of up to `max_size` bytes into the unpublished slot and returns that
  /// slot's data (max_size bytes). Throws value_too_large above the capacity.
  [[nodiscard]] std::span<std::byte> begin_write(std::size_t max_size);
  /// Copies `value` into the slot begun with begin_write, word by word (race-free copy).
  void fill(std::span<const std::byte> value) noexcept;
  /// Publishes the first `size` bytes of the begun slot (size <= the begun max_size).
  void commit_write(std::size_t size);
  /// Abandons the begun write, exactly as if the writer had died: readers never see it.
  void abort_write() noexcept;
  /// lock + begin + fill + commit + unlock.
  void write(std::span<const std::byte> value);
  /// Like write, but returns false at once if another writer holds the lock.
  [[nodiscard]] bool try_write(std::span<const std::byte> value);

  // ---- Reading: no lock, never blocks. ----
  /// Copies the latest value into `out` (resized to its size). Returns false when the
  /// segment was never written. Throws Errc::corrupt if the slot's stored size is
  /// impossible (scribbled memory), never reads outside the segment.
  [[nodiscard]] bool read(std::vector<std::byte>& out, std::uint64_t* generation = nullptr) const;

 private:
  BlobSegment(Segment segment, std::uint64_t capacity, platform::Access access);
  [[nodiscard]] BlobArea& area() const noexcept;
  [[nodiscard]] std::byte* slot_data(std::size_t slot) const noexcept;
  void require_writable() const;

  Segment segment_;
  std::uint64_t capacity_ = 0;
  std::uint64_t stride_ = 0;
  platform::Access access_;
  std::mutex thread_lock_;
  // The write in progress (valid between begin_write and commit/abort).
  bool writing_ = false;
  std::size_t write_slot_ = 0;
  std::size_t write_max_ = 0;
  std::uint64_t write_sequence_ = 0;  // the odd value stored by begin_write
  std::uint64_t write_generation_ = 0;
};

}  // namespace stella
