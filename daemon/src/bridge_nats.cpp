// Bridges between rings and NATS through cnats (libnats). See bridge.hpp for the contract.
// This file is the bridge object (its thread, its report); the modes are
// bridge_nats_out.cpp and bridge_nats_in.cpp, what they share bridge_nats_link.hpp.
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "bridge_nats_link.hpp"
#include "stella/daemon/bridge.hpp"

namespace stella::daemon {

namespace {

using namespace nats_bridge;

class NatsBridge final : public Bridge {
 public:
  explicit NatsBridge(config::BridgeConfig c) : config_(std::move(c)), shared_(std::make_shared<Shared>()) {
    shared_->name = config_.name;
    // An out-bridge's reader is registered here, before stellad says it is ready, so that
    // every message written after READY is the bridge's to forward (its thread could start
    // late). If the ring cannot be opened now, run_out() retries and reports it.
    if (config_.direction == config::BridgeDirection::out) {
      try {
        first_reader_ = std::make_unique<LockFreeBufferReader>(config_.segment, out_reader_options(config_));
      } catch (const std::exception&) {
        first_reader_.reset();
      }
    }
    thread_ = std::thread([this] { run(); });
  }

  ~NatsBridge() override {
    stop_.store(true, std::memory_order_relaxed);
    shared_->closing.store(true, std::memory_order_relaxed);
    {
      std::lock_guard lock(shared_->mutex);  // pairs with the waits on `wake`: no lost wake-up
    }
    shared_->wake.notify_all();
    thread_.join();
    std::lock_guard lock(graveyard_mutex());
    graveyard().push_back(std::move(shared_));
  }

  [[nodiscard]] protocol::BridgeReport report() const override {
    const Shared& s = *shared_;
    protocol::BridgeReport r;
    r.name = config_.name;
    r.segment = config_.segment;
    r.direction = std::string(config::to_string(config_.direction));
    r.subject = config_.subject;
    r.stream = config_.jetstream ? config_.stream : std::string();
    r.connected = s.connected.load(std::memory_order_relaxed);
    r.forwarded = s.forwarded.load(std::memory_order_relaxed);
    r.received = s.received.load(std::memory_order_relaxed);
    r.lost = s.lost.load(std::memory_order_relaxed);
    r.publish_errors = s.publish_errors.load(std::memory_order_relaxed);
    r.reconnects = s.reconnects.load(std::memory_order_relaxed);
    r.duplicates = s.duplicates.load(std::memory_order_relaxed);
    r.backpressure_waits = s.backpressure_waits.load(std::memory_order_relaxed);
    r.in_flight = s.in_flight.load(std::memory_order_relaxed);
    bool failed = false;
    {
      std::lock_guard lock(shared_->mutex);
      r.detail = s.detail;
      failed = s.failed;
    }
    if (failed) {
      r.state = "failed";
    } else if (r.connected) {
      r.state = "connected";
    } else {
      r.state = s.ever_connected.load(std::memory_order_relaxed) ? "disconnected" : "connecting";
    }
    return r;
  }

 private:
  void fail(const std::string& what) {
    spdlog::error("bridge '{}': {}", config_.name, what);
    shared_->set_detail(what, true);
  }
  // Sleeps up to `d`, or until stopping.
  void pause(nanoseconds d) {
    std::unique_lock lock(shared_->mutex);
    shared_->wake.wait_for(lock, d, [this] { return stop_.load(std::memory_order_relaxed); });
  }

  void run() {
    Backoff backoff(config_.reconnect_wait, config_.max_reconnect_wait);
    while (!stop_.load(std::memory_order_relaxed)) {
      try {
        if (config_.direction == config::BridgeDirection::out) {
          OutLink(config_, shared_, stop_).run(std::move(first_reader_));
        } else {
          InLink(config_, shared_, stop_).run();
        }
        return;
      } catch (const std::exception& e) {
        fail(e.what());
      }
      shared_->connected.store(false, std::memory_order_relaxed);
      pause(backoff.next());
    }
  }

  config::BridgeConfig config_;
  std::shared_ptr<Shared> shared_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<LockFreeBufferReader> first_reader_;  // taken by the out-link
  std::thread thread_;
};

std::atomic<bool> g_nats_used{false};

}  // namespace

std::unique_ptr<Bridge> start_bridge(const config::BridgeConfig& config) {
  g_nats_used.store(true, std::memory_order_relaxed);
  return std::make_unique<NatsBridge>(config);
}

bool bridges_supported() noexcept { return true; }

void shutdown_bridges() noexcept {
  // Every bridge has stopped: wait for cnats's own threads, then drop what callbacks held.
  if (!g_nats_used.exchange(false, std::memory_order_relaxed)) return;
  (void)nats_CloseAndWait(2000);
  std::lock_guard lock(graveyard_mutex());
  graveyard().clear();
}

}  // namespace stella::daemon
