// Boost.Interprocess message_queue: a mutex- and condition-based queue in shared memory,
// the usual "portable shared-memory queue" a C++ user reaches for first.
#include <boost/interprocess/ipc/message_queue.hpp>

#include <algorithm>
#include <vector>

#include "baselines.hpp"

namespace stella::bench {
namespace {

namespace bip = boost::interprocess;

class BoostWriter final : public WriterEndpoint {
 public:
  explicit BoostWriter(const std::string& name) : queue_(bip::open_only, name.c_str()) {}
  void send(ConstBytes message) override { queue_.send(message.data(), message.size(), 0); }

 private:
  bip::message_queue queue_;
};

class BoostReader final : public ReaderEndpoint {
 public:
  explicit BoostReader(const std::string& name)
      : queue_(bip::open_only, name.c_str()), message_(queue_.get_max_msg_size()) {}
  std::optional<ConstBytes> receive() override {
    bip::message_queue::size_type received = 0;
    unsigned int priority = 0;
    queue_.receive(message_.data(), message_.size(), received, priority);
    return ConstBytes{message_.data(), static_cast<std::size_t>(received)};
  }

 private:
  bip::message_queue queue_;
  std::vector<std::byte> message_;
};

class BoostChannel final : public Channel {
 public:
  explicit BoostChannel(const ChannelConfig& config) : name_(config.unique_name + "-boost") {
    // About ring_capacity bytes of buffering, like the shared-memory rings, within sane depths.
    const std::size_t depth = std::clamp<std::size_t>(config.ring_capacity / config.message_size, 16, 4096);
    bip::message_queue::remove(name_.c_str());
    bip::message_queue(bip::create_only, name_.c_str(), depth, config.message_size);
  }
  ~BoostChannel() override { bip::message_queue::remove(name_.c_str()); }
  BoostChannel(const BoostChannel&) = delete;
  BoostChannel& operator=(const BoostChannel&) = delete;
  std::unique_ptr<WriterEndpoint> open_writer(int) override { return std::make_unique<BoostWriter>(name_); }
  std::unique_ptr<ReaderEndpoint> open_reader(int) override { return std::make_unique<BoostReader>(name_); }

 private:
  std::string name_;
};

}  // namespace

TransportInfo boost_mq_transport() {
  TransportInfo info;
  info.name = "boost-mq";
  info.kind = TransportKind::baseline_lib;
  info.description = "boost::interprocess::message_queue (process-shared mutex + condition), depth ~ring capacity";
  info.multi_writer = true;
  info.unsupported = [](const ChannelConfig&) -> std::optional<std::string> { return std::nullopt; };
  info.create = [](const ChannelConfig& c) { return std::make_unique<BoostChannel>(c); };
  return info;
}

}  // namespace stella::bench
