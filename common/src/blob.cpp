#include "stella/common/blob.hpp"

#include <cstring>
#include <new>
#include <string>
#include <thread>

#include "stella/common/error.hpp"

namespace stella {

namespace {

// A reader that retries this many times in a row while `published` does not change is
// looking at scribbled memory (a live writer never touches the published slot): it
// reports the segment corrupt instead of spinning forever.
constexpr unsigned kStuckReadLimit = 1u << 20;
// Retries beyond this many yield the CPU (still never waiting on anything).
constexpr unsigned kSpinsBeforeYield = 64;

// Copies `size` bytes out of a slot whose words a writer may be storing concurrently.
// Relaxed atomic loads: no data race; the seqlock re-check decides whether the copy counts.
void copy_out(const std::byte* slot, std::byte* dst, std::size_t size) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(const_cast<std::byte*>(slot));
  const std::size_t full = size / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < full; ++i) {
    const std::uint64_t w = std::atomic_ref<std::uint64_t>(words[i]).load(std::memory_order_relaxed);
    std::memcpy(dst + i * sizeof w, &w, sizeof w);
  }
  if (const std::size_t rest = size % sizeof(std::uint64_t); rest != 0) {
    // The slot stride is a multiple of 64, so this whole word lies inside the slot.
    const std::uint64_t w = std::atomic_ref<std::uint64_t>(words[full]).load(std::memory_order_relaxed);
    std::memcpy(dst + full * sizeof w, &w, rest);
  }
}

// Copies `src` into a slot that readers may be copying out concurrently (see copy_out).
void copy_in(std::byte* slot, const std::byte* src, std::size_t size) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(slot);
  const std::size_t full = size / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < full; ++i) {
    std::uint64_t w;
    std::memcpy(&w, src + i * sizeof w, sizeof w);
    std::atomic_ref<std::uint64_t>(words[i]).store(w, std::memory_order_relaxed);
  }
  if (const std::size_t rest = size % sizeof(std::uint64_t); rest != 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, src + full * sizeof w, rest);
    std::atomic_ref<std::uint64_t>(words[full]).store(w, std::memory_order_relaxed);
  }
}

}  // namespace

BlobSegment::BlobSegment(Segment segment, std::uint64_t capacity, platform::Access access)
    : segment_(std::move(segment)), capacity_(capacity), stride_(blob_slot_stride(capacity)), access_(access) {}

std::unique_ptr<BlobSegment> BlobSegment::create(std::string_view name, std::uint64_t capacity,
                                                 const platform::Permissions& perms, std::string_view schema) {
  const std::string seg(name);
  if (capacity == 0) throw Error(Errc::invalid_argument, seg, "a blob capacity must be at least 1 byte");
  if (capacity > kBlobMaxCapacity) {
    throw Error(Errc::invalid_argument, seg,
                "a blob capacity of " + std::to_string(capacity) + " bytes exceeds the limit of " +
                    std::to_string(kBlobMaxCapacity) + " bytes");
  }
  SegmentSpec spec;
  spec.kind = SegmentKind::blob;
  spec.area_size = blob_area_size(capacity);
  spec.params[kBlobParamCapacity] = capacity;
  spec.params[kBlobParamSlotStride] = blob_slot_stride(capacity);
  spec.schema = schema;
  // Only writers write a blob: reader_gid gets read-only access to it, whatever was asked.
  platform::Permissions object_perms = perms;
  object_perms.written_by = platform::ObjectWriters::writers;
  Segment segment = Segment::create(name, spec, object_perms);
  // The memory is zero-filled; placement-new gives the atomics their lifetime (all zero:
  // published 0 = empty, both sequences even).
  new (segment.area()) BlobArea{};
  segment.publish();
  return std::unique_ptr<BlobSegment>(new BlobSegment(std::move(segment), capacity, platform::Access::read_write));
}

std::unique_ptr<BlobSegment> BlobSegment::open(std::string_view name, platform::Access access) {
  Segment segment = Segment::open(name, SegmentKind::blob, access);
  const std::string seg(name);
  const SegmentHeader& h = segment.header();
  const std::uint64_t capacity = h.params[kBlobParamCapacity];
  const std::uint64_t stride = h.params[kBlobParamSlotStride];
  if (capacity == 0 || capacity > kBlobMaxCapacity) {
    throw Error(Errc::corrupt, seg,
                "corrupt blob header: capacity " + std::to_string(capacity) + " is outside 1.." +
                    std::to_string(kBlobMaxCapacity));
  }
  if (stride != blob_slot_stride(capacity)) {
    throw Error(Errc::corrupt, seg,
                "corrupt blob header: slot stride " + std::to_string(stride) + ", expected " +
                    std::to_string(blob_slot_stride(capacity)) + " for capacity " + std::to_string(capacity));
  }
  if (h.area_offset % kCacheLineSize != 0) {
    throw Error(Errc::corrupt, seg, "corrupt blob header: area offset " + std::to_string(h.area_offset) +
                                        " is not cache-line aligned");
  }
  if (segment.area_size() < blob_area_size(capacity)) {
    throw Error(Errc::corrupt, seg,
                "corrupt blob header: area of " + std::to_string(segment.area_size()) + " bytes, a capacity of " +
                    std::to_string(capacity) + " needs " + std::to_string(blob_area_size(capacity)));
  }
  return std::unique_ptr<BlobSegment>(new BlobSegment(std::move(segment), capacity, access));
}

BlobArea& BlobSegment::area() const noexcept { return *reinterpret_cast<BlobArea*>(segment_.area()); }

std::byte* BlobSegment::slot_data(std::size_t slot) const noexcept {
  return segment_.area() + sizeof(BlobArea) + slot * stride_;
}

std::uint64_t BlobSegment::generation() const noexcept {
  // Pairs with the release store in commit_write.
  return area().control.published.load(std::memory_order_acquire);
}

void BlobSegment::require_writable() const {
  if (read_only()) {
    throw Error(Errc::permission_denied, name(), "opened read-only: writing needs a read-write open");
  }
}

void BlobSegment::check_fits(std::size_t size) const {
  if (size > capacity_) {
    throw Error(Errc::value_too_large, name(),
                "a value of " + std::to_string(size) + " bytes does not fit the capacity of " +
                    std::to_string(capacity_) + " bytes");
  }
}

void BlobSegment::lock_writer() {
  require_writable();
  thread_lock_.lock();
  try {
    segment_.object().lock_exclusive();
  } catch (...) {
    thread_lock_.unlock();
    throw;
  }
}

bool BlobSegment::try_lock_writer() {
  require_writable();
  if (!thread_lock_.try_lock()) return false;
  bool locked = false;
  try {
    locked = segment_.object().try_lock_exclusive();
  } catch (...) {
    thread_lock_.unlock();
    throw;
  }
  if (!locked) thread_lock_.unlock();
  return locked;
}

void BlobSegment::unlock_writer() noexcept {
  segment_.object().unlock();
  thread_lock_.unlock();
}

std::span<std::byte> BlobSegment::begin_write(std::size_t max_size) {
  require_writable();
  check_fits(max_size);
  if (writing_) throw Error(Errc::invalid_argument, name(), "a write is already in progress on this object");
  BlobArea& a = area();
  // Pairs with the release store in the previous commit_write (ours or another
  // process's; the flock hand-off orders it as well).
  const std::uint64_t published = a.control.published.load(std::memory_order_acquire);
  write_generation_ = published + 1;
  write_slot_ = static_cast<std::size_t>(write_generation_ & 1);  // never the published slot
  BlobSlotHeader& slot = a.slots[write_slot_];
  // Relaxed: only writers store the sequence, and we hold the writer lock.
  const std::uint64_t seq = slot.sequence.load(std::memory_order_relaxed);
  // Odd means a writer died (or aborted) mid-copy here: step to a fresh odd value.
  write_sequence_ = (seq & 1) != 0 ? seq + 2 : seq + 1;
  slot.sequence.store(write_sequence_, std::memory_order_relaxed);
  // Orders the odd store before every data, size and generation store that follows:
  // pairs with the reader's acquire fence before its re-check, so a reader whose copy
  // saw any of our stores re-reads a sequence other than the even one it started with.
  std::atomic_thread_fence(std::memory_order_release);
  write_max_ = max_size;
  writing_ = true;
  return {slot_data(write_slot_), max_size};
}

void BlobSegment::fill(std::span<const std::byte> value) noexcept {
  copy_in(slot_data(write_slot_), value.data(), value.size());
}

void BlobSegment::commit_write(std::size_t size) {
  if (!writing_) throw Error(Errc::invalid_argument, name(), "commit without a write in progress");
  if (size > write_max_) {
    throw Error(Errc::invalid_argument, name(),
                "commit of " + std::to_string(size) + " bytes exceeds the " + std::to_string(write_max_) +
                    " bytes claimed");
  }
  BlobArea& a = area();
  BlobSlotHeader& slot = a.slots[write_slot_];
  // Relaxed: inside the odd window, covered by the fence in begin_write.
  slot.size.store(size, std::memory_order_relaxed);
  slot.generation.store(write_generation_, std::memory_order_relaxed);
  // Pairs with the reader's acquire load of the sequence: a reader that sees this even
  // value sees the data, size and generation stored before it.
  slot.sequence.store(write_sequence_ + 1, std::memory_order_release);
  // Pairs with the acquire load of published in read() and begin_write(): whoever sees
  // the new count finds its slot complete.
  a.control.published.store(write_generation_, std::memory_order_release);
  writing_ = false;
}

void BlobSegment::abort_write() noexcept {
  // The slot keeps its odd sequence, as if this writer had died: readers skip it and the
  // next writer writes over it.
  writing_ = false;
}

void BlobSegment::write(std::span<const std::byte> value) {
  require_writable();
  check_fits(value.size());  // before taking the lock
  lock_writer();
  try {
    (void)begin_write(value.size());
    fill(value);
    commit_write(value.size());
  } catch (...) {
    abort_write();
    unlock_writer();
    throw;
  }
  unlock_writer();
}

bool BlobSegment::try_write(std::span<const std::byte> value) {
  require_writable();
  check_fits(value.size());
  if (!try_lock_writer()) return false;
  try {
    (void)begin_write(value.size());
    fill(value);
    commit_write(value.size());
  } catch (...) {
    abort_write();
    unlock_writer();
    throw;
  }
  unlock_writer();
  return true;
}

bool BlobSegment::read(std::vector<std::byte>& out, std::uint64_t* generation) const {
  BlobArea& a = area();
  std::uint64_t last_published = 0;
  unsigned same_published = 0;
  for (unsigned attempt = 0;; ++attempt) {
    if (attempt >= kSpinsBeforeYield) std::this_thread::yield();
    // Pairs with the release store in commit_write: the slot it names was complete.
    const std::uint64_t published = a.control.published.load(std::memory_order_acquire);
    if (published == 0) return false;
    if (attempt > 0 && published == last_published) {
      if (++same_published > kStuckReadLimit) {
        throw Error(Errc::corrupt, name(),
                    "corrupt blob: the published slot never holds a complete value (memory overwritten?)");
      }
    } else {
      same_published = 0;
    }
    last_published = published;
    const BlobSlotHeader& slot = a.slots[published & 1];
    // Pairs with the release store of the even sequence in commit_write.
    const std::uint64_t seq_before = slot.sequence.load(std::memory_order_acquire);
    if ((seq_before & 1) != 0) continue;  // a writer is in this slot: we hold a stale count
    // Relaxed: validated by the sequence re-check below.
    const std::uint64_t size = slot.size.load(std::memory_order_relaxed);
    const std::uint64_t slot_generation = slot.generation.load(std::memory_order_relaxed);
    const bool size_ok = size <= capacity_;
    if (size_ok && slot_generation == published) {
      out.resize(static_cast<std::size_t>(size));
      copy_out(slot_data(published & 1), out.data(), out.size());
    }
    // Orders the loads above before the re-check; pairs with the writer's release fence
    // in begin_write (a copy that saw a writer's store sees its sequence change).
    std::atomic_thread_fence(std::memory_order_acquire);
    const std::uint64_t seq_after = slot.sequence.load(std::memory_order_relaxed);
    if (seq_after != seq_before) continue;  // a writer touched the slot during the copy
    if (!size_ok) {
      throw Error(Errc::corrupt, name(),
                  "corrupt blob: stored size " + std::to_string(size) + " exceeds the capacity of " +
                      std::to_string(capacity_) + " bytes");
    }
    if (slot_generation != published) continue;  // a newer write lapped our count
    if (generation != nullptr) *generation = published;
    return true;
  }
}

}  // namespace stella
