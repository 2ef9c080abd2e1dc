// MetricsServer: stellad's counters for Prometheus, over HTTP on `[daemon] metrics`
// (off by default; "127.0.0.1:9464" is the usual address). Served with Asio on the daemon's
// io_context like the status socket, and bounded the same way: one request per connection
// (HTTP/1.0 or 1.1, answered with "Connection: close"), at most kMaxRequestBytes of request
// head, the config's client_timeout for the request and again for the response, at most
// kMaxConnections open at once (more are closed at once). A slow or hostile client never
// delays the reaper, which has a thread of its own.
//
// GET (or HEAD) /metrics answers the Prometheus text exposition format 0.0.4, built from the
// same StatusReport as `stellad status --json` (prometheus_text() below); any other path is
// 404, any other method 405, a malformed request 400, an oversized one 431.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "stella/config/config.hpp"
#include "stella/daemon/protocol.hpp"

namespace asio {
class io_context;
}

namespace stella::daemon {

// ---- The exposition: status report -> Prometheus text ----

/// Where in `status --json` a field lives, and the metric it becomes.
enum class MetricScope { daemon, segment, reader, writer, bridge };
struct MetricField {
  MetricScope scope;
  std::string_view json_key;  // the key in that scope's JSON object
  std::string_view metric;    // full metric name
  bool counter;               // counter (only grows) or gauge
  double scale;               // multiplies the JSON value (1e-9: nanoseconds to seconds)
  std::string_view help;
};
/// Every numeric or boolean field of `status --json`, mapped; tests/tools/test_metrics.cpp
/// fails when status gains a field that is not here (or not exempted there as a label).
[[nodiscard]] std::span<const MetricField> metric_fields() noexcept;

/// The Prometheus text format of a status report: stella_up, stella_healthy,
/// stella_problems, stella_build_info, stella_segment_info and stella_bridge_info, then one
/// family per metric_fields() entry. Labels: segment; segment, slot and pid for readers and
/// writers; bridge, segment and direction for bridges.
[[nodiscard]] std::string prometheus_text(const protocol::StatusReport& report);

// ---- HTTP ----

struct HttpRequest {
  enum class Outcome { incomplete, ok, bad };
  Outcome outcome = Outcome::incomplete;
  std::string method, path;
  int status = 0;  // for bad: the HTTP status to answer (400, 431)
};
/// Parses the request head received so far (total: any bytes give a result).
[[nodiscard]] HttpRequest parse_http_request(std::string_view bytes, std::size_t max_bytes);

class MetricsServer {
 public:
  static constexpr std::size_t kMaxConnections = 64;
  static constexpr std::size_t kMaxRequestBytes = 8192;
  /// Computes the metrics body; runs on the io thread.
  using Handler = std::function<std::string()>;

  MetricsServer(asio::io_context& io, config::MetricsAddress address, std::chrono::nanoseconds client_timeout,
                Handler handler);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// Binds, listens and starts accepting. Throws std::runtime_error naming the address.
  void start();
  /// Stops accepting and drops every connection.
  void stop();
  void set_client_timeout(std::chrono::nanoseconds timeout);

  /// The bound port (the configured one; useful when it was 0 in tests).
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::uint64_t served() const noexcept;
  [[nodiscard]] std::uint64_t dropped() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stella::daemon
