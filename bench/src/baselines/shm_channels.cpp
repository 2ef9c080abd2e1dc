// Shared-memory baselines: the hand-written single-producer/single-consumer ring (the
// practical upper bound of any shared-memory queue) and the two latency floors.
//
// Every channel lives in a named shared-memory object (stella::platform::MappedObject, so
// /dev/shm like Stella's own segments) that each child maps again after fork.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "stella/common/platform/shm.hpp"
#include "stella/common/platform/wait.hpp"

#include "../spin.hpp"
#include "baselines.hpp"

namespace stella::bench {
namespace {

using platform::MappedObject;

constexpr std::size_t kCacheLine = 64;

/// Maps `name` again in this (child) process; the parent's object keeps ownership.
class NamedMapping {
 public:
  NamedMapping(const std::string& name, std::size_t size) : owner_(MappedObject::create(name, size)), name_(name) {}
  ~NamedMapping() { MappedObject::unlink(name_); }
  NamedMapping(const NamedMapping&) = delete;
  NamedMapping& operator=(const NamedMapping&) = delete;
  [[nodiscard]] MappedObject open() const { return MappedObject::open(name_, platform::Access::read_write); }

 private:
  MappedObject owner_;
  std::string name_;
};

// ---- SPSC ring ---------------------------------------------------------------------------
//
// rigtorp/SPSCQueue's discipline with variable-length records: two 64-bit monotonic
// positions on their own cache lines, each side caching the other's, a record never split
// across the wrap (a padding record fills the gap), records 8-byte aligned.

struct SpscHeader {
  alignas(kCacheLine) std::atomic<std::uint64_t> head;  // next byte the writer will fill
  alignas(kCacheLine) std::atomic<std::uint64_t> tail;  // next byte the reader will consume
  alignas(kCacheLine) std::uint64_t capacity;           // power of two, set before fork
};
static_assert(offsetof(SpscHeader, tail) - offsetof(SpscHeader, head) >= kCacheLine,
              "head and tail must not share a cache line");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

constexpr std::uint32_t kPaddingRecord = 0xFFFF'FFFFu;
constexpr std::size_t kRecordHeader = 8;  // u32 length, u32 unused

constexpr std::size_t record_size(std::size_t payload) { return (kRecordHeader + payload + 7) & ~std::size_t{7}; }

struct SpscView {
  SpscHeader* header;
  std::byte* data;
  std::uint64_t mask;
  explicit SpscView(void* base)
      : header(static_cast<SpscHeader*>(base)),
        data(static_cast<std::byte*>(base) + sizeof(SpscHeader)),
        mask(header->capacity - 1) {}
};

class SpscWriter final : public WriterEndpoint {
 public:
  explicit SpscWriter(MappedObject mapping) : mapping_(std::move(mapping)), ring_(mapping_.data()) {
    head_ = ring_.header->head.load(std::memory_order_relaxed);  // own index
    cached_tail_ = ring_.header->tail.load(std::memory_order_acquire);
  }
  void send(ConstBytes message) override {
    MutableBytes space = claim(message.size());
    std::memcpy(space.data(), message.data(), message.size());
    commit();
  }
  MutableBytes claim(std::size_t size) override {
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
  void commit() override {
    head_ += pending_;
    ring_.header->head.store(head_, std::memory_order_release);  // publishes the record; pairs with the reader's acquire
  }

 private:
  void store_length(std::uint64_t offset, std::uint32_t length) {
    std::memcpy(ring_.data + offset, &length, sizeof length);
  }
  MappedObject mapping_;
  SpscView ring_;
  std::uint64_t head_ = 0;
  std::uint64_t cached_tail_ = 0;
  std::size_t pending_ = 0;
};

class SpscReader final : public ReaderEndpoint {
 public:
  SpscReader(MappedObject mapping, bool publish_per_batch, std::size_t message_size)
      : mapping_(std::move(mapping)), ring_(mapping_.data()), per_batch_(publish_per_batch), message_(message_size) {
    tail_ = ring_.header->tail.load(std::memory_order_relaxed);  // own index
    cached_head_ = tail_;
  }
  std::optional<ConstBytes> receive() override {
    auto view = peek();
    std::memcpy(message_.data(), view->data(), view->size());
    release();
    return ConstBytes{message_.data(), view->size()};
  }
  std::optional<ConstBytes> peek() override {
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
      return ConstBytes{ring_.data + offset + kRecordHeader, length};
    }
  }
  bool release() override {
    tail_ += pending_;
    if (!per_batch_) publish();
    return true;  // the writer never overwrites unread records
  }

 private:
  void publish() { ring_.header->tail.store(tail_, std::memory_order_release); }  // frees space; pairs with the writer's acquire
  MappedObject mapping_;
  SpscView ring_;
  bool per_batch_;
  std::vector<std::byte> message_;
  std::uint64_t tail_ = 0;
  std::uint64_t cached_head_ = 0;
  std::size_t pending_ = 0;
};

std::size_t round_up_pow2(std::size_t v) {
  std::size_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

class SpscChannel final : public Channel {
 public:
  SpscChannel(const ChannelConfig& config, bool per_batch)
      : capacity_(round_up_pow2(config.ring_capacity)),
        shm_(config.unique_name + "-spsc", sizeof(SpscHeader) + capacity_),
        per_batch_(per_batch),
        message_size_(config.message_size) {
    auto mapping = shm_.open();
    auto* header = new (mapping.data()) SpscHeader{};
    header->capacity = capacity_;
  }
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<SpscWriter>(shm_.open()); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override {
    return std::make_unique<SpscReader>(shm_.open(), per_batch_, message_size_);
  }

 private:
  std::size_t capacity_;
  NamedMapping shm_;
  bool per_batch_;
  std::size_t message_size_;
};

// ---- latency floors: a one-slot mailbox in one cache line ---------------------------------
//
// The message lives in the same line as the sequence word, so a hand-off is exactly one
// cache-line transfer (plus, for the futex floor, one FUTEX_WAKE and the wake-to-run).

constexpr std::size_t kMailboxPayload = 48;

struct Mailbox {
  alignas(kCacheLine) std::atomic<std::uint32_t> sequence;  // bumped by the writer per message
  std::uint32_t length;
  std::byte payload[kMailboxPayload];
  alignas(kCacheLine) std::atomic<std::uint32_t> consumed;  // the reader's last sequence
};
static_assert(offsetof(Mailbox, payload) + kMailboxPayload <= kCacheLine, "the message shares the sequence's line");
static_assert(offsetof(Mailbox, consumed) == kCacheLine);

class MailboxWriter final : public WriterEndpoint {
 public:
  MailboxWriter(MappedObject mapping, bool wake)
      : mapping_(std::move(mapping)), box_(static_cast<Mailbox*>(mapping_.data())), wake_(wake) {}
  void send(ConstBytes message) override {
    // One slot: wait until the previous message was taken (pairs with the reader's release).
    while (box_->consumed.load(std::memory_order_acquire) != sequence_) spin_pause();
    box_->length = static_cast<std::uint32_t>(message.size());
    std::memcpy(box_->payload, message.data(), message.size());
    box_->sequence.store(++sequence_, std::memory_order_release);  // publishes payload and length
    if (wake_) platform::wake_on_address(box_->sequence, 1);      // the floor: always wake
  }

 private:
  MappedObject mapping_;
  Mailbox* box_;
  bool wake_;
  std::uint32_t sequence_ = 0;
};

class MailboxReader final : public ReaderEndpoint {
 public:
  MailboxReader(MappedObject mapping, bool sleep)
      : mapping_(std::move(mapping)), box_(static_cast<Mailbox*>(mapping_.data())), sleep_(sleep) {}
  std::optional<ConstBytes> receive() override {
    std::uint32_t seen;
    while ((seen = box_->sequence.load(std::memory_order_acquire)) == last_) {  // pairs with the writer's release
      if (sleep_) {
        platform::wait_on_address(box_->sequence, last_, std::nullopt);
      } else {
        spin_pause();
      }
    }
    last_ = seen;
    const std::size_t length = box_->length;
    std::memcpy(message_, box_->payload, length);
    box_->consumed.store(seen, std::memory_order_release);  // frees the slot; pairs with the writer's acquire
    return ConstBytes{message_, length};
  }

 private:
  MappedObject mapping_;
  Mailbox* box_;
  bool sleep_;
  std::uint32_t last_ = 0;
  std::byte message_[kMailboxPayload];
};

class MailboxChannel final : public Channel {
 public:
  MailboxChannel(const ChannelConfig& config, bool futex)
      : shm_(config.unique_name + "-mailbox", sizeof(Mailbox)), futex_(futex) {
    auto mapping = shm_.open();
    new (mapping.data()) Mailbox{};
  }
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<MailboxWriter>(shm_.open(), futex_); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override { return std::make_unique<MailboxReader>(shm_.open(), futex_); }

 private:
  NamedMapping shm_;
  bool futex_;
};

std::optional<std::string> mailbox_unsupported(const ChannelConfig& c) {
  if (c.message_size > kMailboxPayload) return "a floor carries at most " + std::to_string(kMailboxPayload) + " B";
  if (c.writers != 1 || c.readers != 1) return "a floor is one writer, one reader";
  return std::nullopt;
}

}  // namespace

TransportInfo spsc_ring_transport(bool reader_publishes_per_batch) {
  TransportInfo info;
  info.name = reader_publishes_per_batch ? "spsc-ring-batch" : "spsc-ring";
  info.kind = TransportKind::baseline_shm;
  info.description = reader_publishes_per_batch
                         ? "hand-written SPSC shared-memory ring; reader publishes its cursor once per batch"
                         : "hand-written SPSC shared-memory ring; both sides publish per message";
  info.zero_copy = true;
  info.reader_wait = ReaderWait::spin;
  info.unsupported = [](const ChannelConfig& c) -> std::optional<std::string> {
    if (c.writers != 1) return "single producer by construction";
    if (record_size(c.message_size) > round_up_pow2(c.ring_capacity) / 2) return "message larger than half the ring";
    return std::nullopt;
  };
  info.create = [reader_publishes_per_batch](const ChannelConfig& c) {
    return std::make_unique<SpscChannel>(c, reader_publishes_per_batch);
  };
  return info;
}

TransportInfo cacheline_floor_transport() {
  TransportInfo info;
  info.name = "cacheline-floor";
  info.kind = TransportKind::floor;
  info.description = "one cache line handed from writer to spinning reader (the one-way latency floor)";
  info.reader_wait = ReaderWait::spin;
  info.unsupported = mailbox_unsupported;
  info.create = [](const ChannelConfig& c) { return std::make_unique<MailboxChannel>(c, false); };
  return info;
}

TransportInfo futex_floor_transport() {
  TransportInfo info;
  info.name = "futex-floor";
  info.kind = TransportKind::floor;
  info.description = "one cache line plus FUTEX_WAKE to a reader asleep in FUTEX_WAIT (the sleeping-reader floor)";
  info.reader_wait = ReaderWait::sleep;
  info.unsupported = mailbox_unsupported;
  info.create = [](const ChannelConfig& c) { return std::make_unique<MailboxChannel>(c, true); };
  return info;
}

}  // namespace stella::bench
