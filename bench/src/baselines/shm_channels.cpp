// Shared-memory baselines: the hand-written single-producer/single-consumer ring (the
// practical upper bound of any shared-memory queue; spsc_ring.hpp) and the two latency floors.
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
#include "spsc_ring.hpp"

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

// ---- SPSC ring (spsc_ring.hpp) -------------------------------------------------------------

class SpscWriter final : public WriterEndpoint {
 public:
  explicit SpscWriter(MappedObject mapping) : mapping_(std::move(mapping)), ring_(mapping_.data()) {}
  void send(ConstBytes message) override { ring_.send(message); }
  MutableBytes claim(std::size_t size) override { return ring_.claim(size); }
  void commit() override { ring_.commit(); }

 private:
  MappedObject mapping_;
  spsc::Writer ring_;
};

class SpscReader final : public ReaderEndpoint {
 public:
  SpscReader(MappedObject mapping, bool publish_per_batch, std::size_t message_size)
      : mapping_(std::move(mapping)), ring_(mapping_.data(), publish_per_batch), message_(message_size) {}
  std::optional<ConstBytes> receive() override {
    const std::size_t size = ring_.receive(message_.data());
    return ConstBytes{message_.data(), size};
  }
  std::optional<ConstBytes> peek() override { return ring_.peek(); }
  bool release() override {
    ring_.release();
    return true;  // the writer never overwrites unread records
  }

 private:
  MappedObject mapping_;
  spsc::Reader ring_;
  std::vector<std::byte> message_;
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
        shm_(config.unique_name + "-spsc", spsc::mapping_size(capacity_)),
        per_batch_(per_batch),
        message_size_(config.message_size) {
    auto mapping = shm_.open();
    spsc::initialize(mapping.data(), capacity_);
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
    if (spsc::record_size(c.message_size) > round_up_pow2(c.ring_capacity) / 2) return "message larger than half the ring";
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
