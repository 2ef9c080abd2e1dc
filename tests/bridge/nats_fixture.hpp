// Real nats-server processes for the bridge tests: on loopback, on ports of their own (never
// 4222, which Debian's packaged nats-server takes), JetStream on, a store dir in a temporary
// directory; ready when the monitoring port's /healthz answers ok.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon_test_util.hpp"

namespace stella::test {

/// A loopback TCP port that was free a moment ago.
int free_port();

/// GET http://127.0.0.1:<port><path>; the body, or nullopt if unreachable.
std::optional<std::string> http_get(int port, const std::string& path,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(2));

struct NatsNode {
  std::string name;
  int client_port = 0;
  int cluster_port = 0;
  int http_port = 0;
  std::string store;
  std::string config;
  std::unique_ptr<Proc> proc;
  [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(client_port); }
};

/// One node, or a cluster of `nodes` nodes (routes between them all), each with JetStream.
class NatsCluster {
 public:
  NatsCluster(const std::string& tag, int nodes);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  /// Starts every node; waits until each /healthz says ok (fails the test if not).
  void start();
  void start_node(std::size_t i);
  /// SIGKILL one node.
  void kill(std::size_t i);
  [[nodiscard]] bool healthy(std::size_t i) const;
  /// The index of the node leading `stream` (from /jsz), if one is known.
  [[nodiscard]] std::optional<std::size_t> stream_leader(const std::string& stream) const;
  /// A TOML value: "nats://..." or ["nats://...", ...].
  [[nodiscard]] std::string urls_toml() const;
  [[nodiscard]] NatsNode& node(std::size_t i) { return nodes_[i]; }
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }
  [[nodiscard]] std::string logs() const;

 private:
  TempDir dir_;
  std::vector<NatsNode> nodes_;
};

}  // namespace stella::test
