// BridgeManager: which bridges run, across start, reloads and stop. Independent of NATS.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "stella/daemon/bridge.hpp"

namespace stella::daemon {

BridgeManager::~BridgeManager() { stop_all(); }

void BridgeManager::apply(const std::vector<config::BridgeConfig>& bridges) {
  std::vector<Running> stopping;
  {
    std::lock_guard lock(mutex_);
    // Gone or changed: stop (outside the lock, so a status request is never held up by a
    // bridge thread finishing its last publish).
    for (auto it = running_.begin(); it != running_.end();) {
      const auto same = std::find(bridges.begin(), bridges.end(), it->config);
      if (same == bridges.end()) {
        stopping.push_back(std::move(*it));
        it = running_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto it = stopping.rbegin(); it != stopping.rend(); ++it) {
    spdlog::info("bridge '{}': stopping (removed or changed in the config)", it->config.name);
    it->bridge.reset();
  }
  std::vector<Running> next;
  {
    std::lock_guard lock(mutex_);
    for (const config::BridgeConfig& b : bridges) {
      auto it = std::find_if(running_.begin(), running_.end(), [&](const Running& r) { return r.config == b; });
      if (it != running_.end()) {
        next.push_back(std::move(*it));
        running_.erase(it);
        continue;
      }
      spdlog::info("bridge '{}': starting: ring '{}' {} {} ({})", b.name, b.segment,
                   b.direction == config::BridgeDirection::out ? "->" : "<-", b.subject,
                   b.jetstream ? "JetStream stream " + b.stream : std::string("core NATS"));
      next.push_back({b, start_bridge(b)});
    }
    running_ = std::move(next);
  }
}

void BridgeManager::stop_all() {
  std::vector<Running> stopping;
  {
    std::lock_guard lock(mutex_);
    stopping = std::move(running_);
    running_.clear();
  }
  for (auto it = stopping.rbegin(); it != stopping.rend(); ++it) it->bridge.reset();
}

std::vector<protocol::BridgeReport> BridgeManager::report() const {
  std::lock_guard lock(mutex_);
  std::vector<protocol::BridgeReport> out;
  out.reserve(running_.size());
  for (const Running& r : running_) out.push_back(r.bridge->report());
  return out;
}

void add_bridge_reports(protocol::StatusReport& report, std::vector<protocol::BridgeReport> bridges) {
  for (const protocol::BridgeReport& b : bridges) {
    if (b.state == "connected") continue;
    std::string line = "bridge '" + b.name + "': " + b.state;
    if (!b.detail.empty()) line += ": " + b.detail;
    report.problems.push_back(std::move(line));
  }
  report.bridges = std::move(bridges);
  report.health = report.problems.empty() ? protocol::Health::healthy : protocol::Health::degraded;
}

}  // namespace stella::daemon
