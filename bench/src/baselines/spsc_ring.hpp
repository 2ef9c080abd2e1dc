// The hand-written SPSC ring of the "spsc-ring" baseline, on any memory both sides map:
// rigtorp/SPSCQueue's discipline with variable-length records — two 64-bit monotonic
// positions on their own cache lines, each side caching the other's, a record never split
// across the wrap (a padding record fills the gap), records 8-byte aligned. Used by the
// cross-process transport (shm_channels.cpp) and by stella-bench-instr (instructions per
// message, one process).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>

#include "../spin.hpp"

namespace stella::bench::spsc {

constexpr std::size_t kCacheLine = 64;

struct Header {
  alignas(kCacheLine) std::atomic<std::uint64_t> head;  // next byte the writer will fill
  alignas(kCacheLine) std::atomic<std::uint64_t> tail;  // next byte the reader will consume
  alignas(kCacheLine) std::uint64_t capacity;           // power of two, set before fork
};
static_assert(offsetof(Header, tail) - offsetof(Header, head) >= kCacheLine,
              "head and tail must not share a cache line");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

constexpr std::uint32_t kPaddingRecord = 0xFFFF'FFFFu;
constexpr std::size_t kRecordHeader = 8;  // u32 length, u32 unused

constexpr std::size_t record_size(std::size_t payload) { return (kRecordHeader + payload + 7) & ~std::size_t{7}; }

/// Bytes to map for a ring of `capacity` (a power of two) bytes of records.
constexpr std::size_t mapping_size(std::size_t capacity) { return sizeof(Header) + capacity; }

/// Sets up an empty ring at `base` (mapping_size(capacity) bytes).
inline void initialize(void* base, std::size_t capacity) {
  auto* header = new (base) Header{};
  header->capacity = capacity;
}

struct View {
  Header* header;
  std::byte* data;
  std::uint64_t mask;
  explicit View(void* base)
      : header(static_cast<Header*>(base)),
        data(static_cast<std::byte*>(base) + sizeof(Header)),
        mask(header->capacity - 1) {}
};

class Writer {
 public:
  explicit Writer(void* base) : ring_(base) {
    head_ = ring_.header->head.load(std::memory_order_relaxed);  // own index
    cached_tail_ = ring_.header->tail.load(std::memory_order_acquire);
  }
  /// Space for a `size`-byte record (waits, spinning, while the ring is full); commit() publishes it.
  std::span<std::byte> claim(std::size_t size) {
    const std::uint64_t capacity = ring_.mask + 1;
    const std::size_t need = record_size(size);
    const std::uint64_t offset = head_ & ring_.mask;
    const std::uint64_t to_end = capacity - offset;
    const std::uint64_t padding = to_end < need ? to_end : 0;
    while (head_ + padding + need - cached_tail_ > capacity) {
      spin_pause();
      cached_tail_ = ring_.header->tail.load(std::memory_order_acquire);  // pairs with the reader's release
    }
    if (padding != 0) {
      store_length(offset, kPaddingRecord);
      head_ += padding;  // published together with the record that follows
    }
    pending_ = need;
    store_length(head_ & ring_.mask, static_cast<std::uint32_t>(size));
    return {ring_.data + (head_ & ring_.mask) + kRecordHeader, size};
  }
  void commit() {
    head_ += pending_;
    ring_.header->head.store(head_, std::memory_order_release);  // publishes the record; pairs with the reader's acquire
  }
  void send(std::span<const std::byte> message) {
    std::span<std::byte> space = claim(message.size());
    std::memcpy(space.data(), message.data(), message.size());
    commit();
  }

 private:
  void store_length(std::uint64_t offset, std::uint32_t length) {
    std::memcpy(ring_.data + offset, &length, sizeof length);
  }
  View ring_;
  std::uint64_t head_ = 0;
  std::uint64_t cached_tail_ = 0;
  std::size_t pending_ = 0;
};

class Reader {
 public:
  /// publish_per_batch: the reader stores its position once per batch seen, not per message.
  Reader(void* base, bool publish_per_batch) : ring_(base), per_batch_(publish_per_batch) {
    tail_ = ring_.header->tail.load(std::memory_order_relaxed);  // own index
    cached_head_ = tail_;
  }
  /// The next record in place (spins until there is one); release() moves past it.
  std::span<const std::byte> peek() {
    for (;;) {
      if (tail_ == cached_head_) {
        if (per_batch_) publish();  // everything seen so far is consumed: one store per batch
        while ((cached_head_ = ring_.header->head.load(std::memory_order_acquire)) == tail_) spin_pause();
      }
      const std::uint64_t offset = tail_ & ring_.mask;
      std::uint32_t length = 0;
      std::memcpy(&length, ring_.data + offset, sizeof length);
      if (length == kPaddingRecord) {
        tail_ += (ring_.mask + 1) - offset;
        continue;
      }
      pending_ = record_size(length);
      return {ring_.data + offset + kRecordHeader, length};
    }
  }
  void release() {
    tail_ += pending_;
    if (!per_batch_) publish();
  }
  /// Copies the next record into `out` (large enough) and moves past it; returns its size.
  std::size_t receive(std::byte* out) {
    const std::span<const std::byte> view = peek();
    std::memcpy(out, view.data(), view.size());
    release();
    return view.size();
  }

 private:
  void publish() { ring_.header->tail.store(tail_, std::memory_order_release); }  // frees space; pairs with the writer's acquire
  View ring_;
  bool per_batch_;
  std::uint64_t tail_ = 0;
  std::uint64_t cached_head_ = 0;
  std::size_t pending_ = 0;
};

}  // namespace stella::bench::spsc
