// Bridges between rings and NATS: the [[bridge]] tables of the config, run by stellad.
//
// An out-bridge is an ordinary LockFreeBufferReader on its ring that publishes each
// message's bytes to a subject (core NATS, or JetStream with a msg-id per message so that
// retries are de-duplicated by the stream). An in-bridge subscribes to a subject (core
// NATS, or a durable JetStream pull consumer, acknowledged after the write) and writes each
// message into its ring as an ordinary writer. Each bridge runs on a thread of its own:
// nothing it does (NATS down, a full Block ring) touches the reaper or the status socket.
//
// The NATS side (bridge_nats.cpp) is built only when libnats is found; without it
// (bridge_none.cpp) configured bridges are reported "unavailable" and status is degraded.
// README "Bridges to NATS" and docs/configuration.md "[[bridge]]" describe the behaviour.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stella/config/config.hpp"
#include "stella/daemon/protocol.hpp"

namespace stella::daemon {

/// One running bridge: its thread starts in the constructor and stops in the destructor.
class Bridge {
 public:
  virtual ~Bridge() = default;
  /// A snapshot of its counters and state (thread-safe).
  [[nodiscard]] virtual protocol::BridgeReport report() const = 0;
};

/// Starts a bridge for `config` (never throws for NATS being unreachable: the bridge
/// retries with backoff and reports its state).
[[nodiscard]] std::unique_ptr<Bridge> start_bridge(const config::BridgeConfig& config);
/// False when stellad was built without libnats.
[[nodiscard]] bool bridges_supported() noexcept;
/// Releases the NATS library's global resources once every bridge has stopped.
void shutdown_bridges() noexcept;

/// The set of running bridges, kept in line with the config (start, SIGHUP reload, stop).
class BridgeManager {
 public:
  BridgeManager() = default;
  ~BridgeManager();
  BridgeManager(const BridgeManager&) = delete;
  BridgeManager& operator=(const BridgeManager&) = delete;

  /// Starts the bridges that are new or changed and stops those that are gone or changed;
  /// unchanged bridges keep running (and their counters).
  void apply(const std::vector<config::BridgeConfig>& bridges);
  /// Stops every bridge (in reverse order of start).
  void stop_all();
  [[nodiscard]] std::vector<protocol::BridgeReport> report() const;

 private:
  struct Running {
    config::BridgeConfig config;
    std::unique_ptr<Bridge> bridge;
  };
  mutable std::mutex mutex_;
  std::vector<Running> running_;
};

/// Adds the bridges to a status report: a bridge that is not connected (or failed, or
/// unavailable) makes the report degraded, with one problem line each.
void add_bridge_reports(protocol::StatusReport& report, std::vector<protocol::BridgeReport> bridges);

}  // namespace stella::daemon
