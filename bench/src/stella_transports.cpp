// Stella's own transports, through the public API only: the ring
// (MultiWriterCircularBuffer / LockFreeBufferReader) in Block and Overwrite modes, with a
// sleeping reader (read_bytes with a timeout: spin briefly, then futex) or a spinning one
// (a try_read_bytes loop), and SharedMemory (the blob segment).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "stella/common/ring.hpp"

#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"

#include "spin.hpp"
#include "suite.hpp"

namespace stella::bench {
namespace {

// How long a sleeping reader waits before handing control back to the harness, which then
// checks whether the run is over (an Overwrite reader may have lost the end marker).
constexpr std::chrono::milliseconds kReaderPoll{10};
constexpr int kSpinTries = 1 << 16;

// ---- the ring ----------------------------------------------------------------------------

struct RingVariant {
  const char* name;
  WriteBehavior behavior;
  ReaderWait wait;
  const char* description;
  bool reaped = false;  // a process does stellad's reaper pass on the ring all along
};

// stellad's reaper is never on the data path: it runs ring::recover() and ring::status()
// on each ring once per reap interval. This process does exactly that, every 10 ms (ten
// times the default interval), for the whole run, so "stella-block-reaped" against
// "stella-block" measures what a running daemon costs the writers and readers.
class ReaperProcess {
 public:
  explicit ReaperProcess(const std::string& ring_name) {
    pid_ = ::fork();
    if (pid_ == 0) {
      try {
        Segment seg = Segment::open(ring_name, SegmentKind::ring, platform::Access::read_write);
        const ring::RingView view = ring::attach(seg);
        for (;;) {
          (void)ring::recover(view);
          (void)ring::status(view);
          std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the reap interval
        }
      } catch (...) {
      }
      ::_exit(0);
    }
  }
  ~ReaperProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  ReaperProcess(const ReaperProcess&) = delete;
  ReaperProcess& operator=(const ReaperProcess&) = delete;

 private:
  pid_t pid_ = -1;
};

class RingWriterEndpoint final : public WriterEndpoint {
 public:
  explicit RingWriterEndpoint(const std::string& name) : ring_(name, SharedMemoryMode::Open) {}
  void send(ConstBytes message) override {
    const WriteResult result = ring_.write_bytes(message);  // Block: waits as long as needed
    if (result != WriteResult::Ok) throw std::runtime_error("write_bytes: " + std::string(to_string(result)));
  }
  MutableBytes claim(std::size_t size) override {
    auto claim = ring_.claim(size);
    if (!claim) throw std::runtime_error("claim returned nothing without a timeout");
    claim_.emplace(std::move(*claim));
    return claim_->data();
  }
  void commit() override {
    claim_->commit();
    claim_.reset();
  }

 private:
  MultiWriterCircularBuffer ring_;
  std::optional<MultiWriterCircularBuffer::Claim> claim_;
};

class RingReaderEndpoint final : public ReaderEndpoint {
 public:
  RingReaderEndpoint(const std::string& name, ReaderWait wait) : reader_(name), wait_(wait) {}
  std::optional<ConstBytes> receive() override {
    if (wait_ == ReaderWait::sleep) {
      if (reader_.read_bytes(message_, kReaderPoll) != ReadResult::Ok) return std::nullopt;
      return ConstBytes{message_.data(), message_.size()};
    }
    for (int i = 0; i < kSpinTries; ++i) {
      if (reader_.try_read_bytes(message_)) return ConstBytes{message_.data(), message_.size()};
      spin_pause();
    }
    return std::nullopt;
  }
  std::optional<ConstBytes> peek() override {
    std::optional<LockFreeBufferReader::View> view;
    if (wait_ == ReaderWait::sleep) {
      view = reader_.peek(kReaderPoll);
    } else {
      for (int i = 0; i < kSpinTries && !(view = reader_.try_peek()); ++i) spin_pause();
    }
    if (!view) return std::nullopt;
    return view->data();
  }
  bool release() override { return reader_.release(); }
  [[nodiscard]] std::uint64_t reported_lost() const override { return reader_.messages_lost(); }

 private:
  LockFreeBufferReader reader_;
  ReaderWait wait_;
  std::vector<std::byte> message_;
};

class RingChannel final : public Channel {
 public:
  RingChannel(const ChannelConfig& config, WriteBehavior behavior, ReaderWait wait, bool reaped)
      : name_(config.unique_name + "-ring"),
        owner_(name_, SharedMemoryMode::Create, config.ring_capacity, behavior, options(config)),
        wait_(wait) {
    if (reaped) reaper_ = std::make_unique<ReaperProcess>(name_);
  }
  ~RingChannel() override { MultiWriterCircularBuffer::remove(name_); }
  RingChannel(const RingChannel&) = delete;
  RingChannel& operator=(const RingChannel&) = delete;
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<RingWriterEndpoint>(name_); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override {
    return std::make_unique<RingReaderEndpoint>(name_, wait_);
  }

 private:
  static RingOptions options(const ChannelConfig& config) {
    RingOptions o;
    o.max_readers = static_cast<std::uint32_t>(config.readers) + 1;
    o.max_writers = static_cast<std::uint32_t>(config.writers) + 1;  // + this (the creator's) instance
    return o;
  }
  std::string name_;
  MultiWriterCircularBuffer owner_;  // creates the ring; holds a writer slot it never uses
  ReaderWait wait_;
  std::unique_ptr<ReaperProcess> reaper_;
};

TransportInfo ring_transport(const RingVariant& v) {
  TransportInfo info;
  info.name = v.name;
  info.kind = TransportKind::stella;
  info.description = v.description;
  info.multi_writer = true;
  info.multi_reader = true;
  info.zero_copy = true;
  info.lossy = v.behavior == WriteBehavior::Overwrite;
  info.reader_wait = v.wait;
  info.unsupported = [](const ChannelConfig& c) -> std::optional<std::string> {
    if (c.message_size > ring::max_message_for(c.ring_capacity)) {
      return "larger than the ring's largest message (capacity/2 - 32 B)";
    }
    return std::nullopt;
  };
  const WriteBehavior behavior = v.behavior;
  const ReaderWait wait = v.wait;
  const bool reaped = v.reaped;
  info.create = [behavior, wait, reaped](const ChannelConfig& c) {
    return std::make_unique<RingChannel>(c, behavior, wait, reaped);
  };
  return info;
}

// ---- SharedMemory: one value, overwritten by writers, read whole by readers --------------

class BlobWriter final : public WriterEndpoint {
 public:
  explicit BlobWriter(const std::string& name) : shm_(name, SharedMemoryMode::Open) {}
  void send(ConstBytes message) override { shm_.write_bytes(message); }

 private:
  SharedMemory shm_;
};

class BlobReader final : public ReaderEndpoint {
 public:
  explicit BlobReader(const std::string& name) : shm_(name, SharedMemoryMode::Open) {}
  // One copy out of the segment into the reader's buffer, as read_bytes does.
  std::optional<ConstBytes> receive() override {
    if (!shm_.try_read_bytes_into(value_)) return std::nullopt;
    return ConstBytes{value_.data(), value_.size()};
  }

 private:
  SharedMemory shm_;
  std::vector<std::byte> value_;
};

class BlobChannel final : public Channel {
 public:
  explicit BlobChannel(const ChannelConfig& config)
      : name_(config.unique_name + "-blob"), owner_(name_, SharedMemoryMode::Create, config.message_size) {}
  ~BlobChannel() override { SharedMemory::remove(name_); }
  BlobChannel(const BlobChannel&) = delete;
  BlobChannel& operator=(const BlobChannel&) = delete;
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<BlobWriter>(name_); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override { return std::make_unique<BlobReader>(name_); }

 private:
  std::string name_;
  SharedMemory owner_;
};

TransportInfo shared_memory_transport() {
  TransportInfo info;
  info.name = "stella-shared-memory";
  info.kind = TransportKind::stella;
  info.description = "stella::SharedMemory: write_bytes (writer lock + seqlock publish), try_read_bytes_into";
  info.blob = true;
  info.multi_writer = true;
  info.multi_reader = true;
  info.reader_wait = ReaderWait::spin;
  info.unsupported = [](const ChannelConfig&) -> std::optional<std::string> { return std::nullopt; };
  info.create = [](const ChannelConfig& c) { return std::make_unique<BlobChannel>(c); };
  return info;
}

}  // namespace

std::vector<TransportInfo> stella_transports() {
  static constexpr RingVariant kVariants[] = {
      {"stella-block", WriteBehavior::Block, ReaderWait::sleep,
       "Stella ring, Block mode; reader read_bytes(timeout): spins briefly, then sleeps on a futex"},
      {"stella-overwrite", WriteBehavior::Overwrite, ReaderWait::sleep,
       "Stella ring, Overwrite mode (the default); reader read_bytes(timeout)"},
      {"stella-block-spin", WriteBehavior::Block, ReaderWait::spin,
       "Stella ring, Block mode; reader spins on try_read_bytes (never sleeps)"},
      {"stella-block-reaped", WriteBehavior::Block, ReaderWait::sleep,
       "stella-block while a process runs stellad's reaper pass (recover + status) on the ring every 10 ms",
       true},
  };
  std::vector<TransportInfo> list;
  for (const auto& v : kVariants) list.push_back(ring_transport(v));
  list.push_back(shared_memory_transport());
  return list;
}

}  // namespace stella::bench
