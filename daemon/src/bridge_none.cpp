// Bridges in a stellad built without libnats: each configured bridge is reported
// "unavailable" (status degraded), so a config that asks for one never passes silently.
#include <spdlog/spdlog.h>

#include "stella/daemon/bridge.hpp"

namespace stella::daemon {

namespace {

class UnavailableBridge final : public Bridge {
 public:
  explicit UnavailableBridge(const config::BridgeConfig& c) {
    r_.name = c.name;
    r_.segment = c.segment;
    r_.direction = std::string(config::to_string(c.direction));
    r_.subject = c.subject;
    r_.stream = c.jetstream ? c.stream : std::string();
    r_.state = "unavailable";
    r_.detail = "this stellad was built without libnats (install libnats-dev and rebuild)";
    spdlog::error("bridge '{}': {}", c.name, r_.detail);
  }
  [[nodiscard]] protocol::BridgeReport report() const override { return r_; }

 private:
  protocol::BridgeReport r_;
};

}  // namespace

std::unique_ptr<Bridge> start_bridge(const config::BridgeConfig& config) {
  return std::make_unique<UnavailableBridge>(config);
}
bool bridges_supported() noexcept { return false; }
void shutdown_bridges() noexcept {}

}  // namespace stella::daemon
