#include "stella/daemon/metrics_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "stella/version.hpp"

namespace stella::daemon {

// ---- the exposition ---------------------------------------------------------------------

namespace {

using S = MetricScope;
constexpr double kNs = 1e-9;

// One line per status field: the single place a status figure gets its metric name.
constexpr MetricField kFields[] = {
    {S::daemon, "uptime_ns", "stella_daemon_uptime_seconds", false, kNs, "Time since stellad started."},
    {S::daemon, "pid", "stella_daemon_pid", false, 1, "Process id of stellad."},
    {S::daemon, "reap_interval_ns", "stella_reaper_interval_seconds", false, kNs, "Configured reaper interval."},
    {S::daemon, "reap_passes", "stella_reaper_passes_total", true, 1, "Reaper passes since stellad started."},
    {S::daemon, "last_reap_age_ns", "stella_reaper_last_pass_age_seconds", false, kNs, "Time since the last reaper pass."},
    {S::daemon, "reloads", "stella_reloads_total", true, 1, "Config reloads (SIGHUP) since stellad started."},
    // Fields of the daemon-pressure branch (issue 14); absent from older status reports, so
    // their metrics appear once a stellad reports them.
    {S::daemon, "reload_failures", "stella_reload_failures_total", true, 1, "Reloads refused (invalid config) or failed in part."},
    {S::daemon, "reload_failed_unix_ns", "stella_reload_failed_timestamp_seconds", false, kNs, "Unix time of a failed reload not yet followed by a good one (0: none)."},
    {S::daemon, "connections", "stella_status_connections", false, 1, "Status socket connections open now."},
    {S::daemon, "max_connections", "stella_status_max_connections", false, 1, "Cap on status socket connections."},
    {S::daemon, "open_files_limit", "stella_daemon_open_files_limit", false, 1, "Soft RLIMIT_NOFILE of stellad (0: none)."},
    {S::daemon, "connections_dropped", "stella_status_connections_dropped_total", true, 1, "Status connections closed unanswered."},
    {S::daemon, "connections_evicted", "stella_status_connections_evicted_total", true, 1, "Status connections dropped for a newer one."},
    {S::daemon, "accept_failures", "stella_status_accept_failures_total", true, 1, "Failed accepts on the status socket."},

    {S::segment, "capacity", "stella_segment_capacity_bytes", false, 1, "Ring data bytes, or a blob's largest value."},
    {S::segment, "permissions", "stella_segment_permissions", false, 1, "File mode bits of the segment (e.g. 432 = 0660)."},
    {S::segment, "uid", "stella_segment_uid", false, 1, "Owner uid of the segment."},
    {S::segment, "gid", "stella_segment_gid", false, 1, "Group gid of the segment."},
    {S::segment, "max_readers", "stella_ring_reader_slots", false, 1, "Reader slots of the ring."},
    {S::segment, "max_writers", "stella_ring_writer_slots", false, 1, "Writer slots of the ring."},
    {S::segment, "write_position", "stella_ring_written_bytes_total", true, 1, "Write position (tail): bytes of records ever written."},
    {S::segment, "oldest_position", "stella_ring_oldest_position_bytes", false, 1, "Position of the oldest record still in the ring (head)."},
    {S::segment, "next_sequence", "stella_ring_messages_total", true, 1, "Records ever written to the ring (messages and aborted records)."},
    {S::segment, "generation", "stella_blob_writes_total", true, 1, "Values ever written to the blob."},
    {S::segment, "lag_warning_bytes", "stella_ring_lag_warning_bytes", false, 1, "Reader lag above which status is degraded."},
    {S::segment, "records_repaired", "stella_ring_records_repaired_total", true, 1, "Records of crashed writers made skippable."},
    {S::segment, "turns_recovered", "stella_ring_turns_recovered_total", true, 1, "Writer turns taken back from dead holders (always 0 since ring layout 2: writers take no turn)."},
    {S::segment, "readers_reaped", "stella_ring_readers_reaped_total", true, 1, "Dead readers' slots freed."},
    {S::segment, "writers_reaped", "stella_ring_writers_reaped_total", true, 1, "Dead writers' slots freed."},
    {S::segment, "readers_evicted", "stella_ring_readers_evicted_total", true, 1, "Stalled live readers evicted."},
    {S::segment, "recoveries", "stella_ring_recoveries_total", true, 1, "Repairs: records repaired plus turns recovered."},
    {S::segment, "reaps", "stella_ring_reaps_total", true, 1, "Reaps: dead readers plus dead writers."},
    {S::segment, "daemon_recoveries", "stella_segment_daemon_recoveries_total", true, 1, "Reaper passes of this stellad that repaired something here."},
    {S::segment, "last_recovery_unix_ns", "stella_segment_last_recovery_timestamp_seconds", false, kNs, "Unix time of the last recovery (0: never)."},

    {S::reader, "cursor", "stella_ring_reader_position_bytes", false, 1, "Position of the reader's cursor."},
    {S::reader, "lag_bytes", "stella_ring_reader_lag_bytes", false, 1, "Bytes written but not yet read by this reader."},
    {S::reader, "read", "stella_ring_reader_messages_read_total", true, 1, "Messages this reader read."},
    {S::reader, "lost", "stella_ring_reader_messages_lost_total", true, 1, "Messages overwritten before this reader read them."},
    {S::reader, "evicted", "stella_ring_reader_evicted", false, 1, "1 while the reader is evicted for stalling."},
    {S::reader, "lagging", "stella_ring_reader_lagging", false, 1, "1 while the reader lags past the lag warning."},

    {S::writer, "written", "stella_ring_writer_messages_total", true, 1, "Messages this writer wrote."},

    {S::bridge, "connected", "stella_bridge_connected", false, 1, "1 while the bridge is connected to NATS."},
    {S::bridge, "forwarded", "stella_bridge_forwarded_messages_total", true, 1, "Out: acknowledged by NATS; in: written into the ring."},
    {S::bridge, "received", "stella_bridge_received_messages_total", true, 1, "Out: read from the ring; in: received from NATS."},
    {S::bridge, "lost", "stella_bridge_lost_messages_total", true, 1, "Messages lost (lapped, slow consumer, too large)."},
    {S::bridge, "publish_errors", "stella_bridge_errors_total", true, 1, "Failed publishes, fetches or acks (retried)."},
    {S::bridge, "reconnects", "stella_bridge_reconnects_total", true, 1, "Reconnections to NATS."},
    {S::bridge, "duplicates", "stella_bridge_duplicates_total", true, 1, "Duplicates suppressed."},
    {S::bridge, "backpressure_waits", "stella_bridge_backpressure_waits_total", true, 1, "In: writes that waited on a full Block ring."},
    {S::bridge, "in_flight", "stella_bridge_in_flight_messages", false, 1, "Out: read from the ring, not yet acknowledged."},
};

// Prometheus label values escape backslash, double quote and newline.
std::string label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

using Labels = std::vector<std::pair<std::string_view, std::string>>;

std::string labels_text(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += label_value(labels[i].second);
    out += '"';
  }
  return out + "}";
}

std::string number_text(const nlohmann::json& v, double scale) {
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (scale == 1 && v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());  // exact, beyond 2^53 too
  if (scale == 1 && v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v.get<double>() * scale);
  return std::string(buf, r.ptr);
}

struct Family {
  std::string text;
  void head(std::string_view name, std::string_view type, std::string_view help) {
    text += "# HELP ";
    text += name;
    text += ' ';
    text += help;
    text += "\n# TYPE ";
    text += name;
    text += ' ';
    text += type;
    text += '\n';
  }
  void sample(std::string_view name, const Labels& labels, const std::string& value) {
    text += name;
    text += labels_text(labels);
    text += ' ';
    text += value;
    text += '\n';
  }
};

bool applies(std::string_view metric, const nlohmann::json& segment) {
  const std::string kind = segment.value("kind", "");
  if (metric.rfind("stella_ring_", 0) == 0) return kind == "ring";
  if (metric.rfind("stella_blob_", 0) == 0) return kind == "blob";
  return true;
}

}  // namespace

std::span<const MetricField> metric_fields() noexcept { return kFields; }

std::string prometheus_text(const protocol::StatusReport& report) {
  const nlohmann::json j = nlohmann::json::parse(protocol::status_json(report, false));
  Family out;
  out.head("stella_up", "gauge", "1: stellad is running and answered this scrape.");
  out.sample("stella_up", {}, "1");
  out.head("stella_healthy", "gauge", "1 healthy, 0 degraded (as `stellad status` exits 0 or 1).");
  out.sample("stella_healthy", {}, report.health == protocol::Health::healthy ? "1" : "0");
  out.head("stella_problems", "gauge", "Problems that make the status degraded.");
  out.sample("stella_problems", {}, std::to_string(report.problems.size()));
  out.head("stella_build_info", "gauge", "stellad's version and status protocol.");
  out.sample("stella_build_info", {{"version", report.daemon.version}, {"protocol", std::to_string(protocol::kVersion)}}, "1");

  const nlohmann::json& segments = j.at("segments");
  const nlohmann::json bridges = j.value("bridges", nlohmann::json::array());
  out.head("stella_segment_info", "gauge", "One per configured segment: kind, ring mode and state (live, draining, refused).");
  for (const auto& s : segments) {
    out.sample("stella_segment_info",
               {{"segment", s.value("name", "")}, {"kind", s.value("kind", "")}, {"mode", s.value("mode", "")},
                {"state", s.value("state", "")}},
               "1");
  }
  out.head("stella_ring_writers", "gauge", "Writer slots in use.");
  for (const auto& s : segments) {
    if (applies("stella_ring_", s)) out.sample("stella_ring_writers", {{"segment", s.value("name", "")}}, std::to_string(s.at("writers").size()));
  }
  out.head("stella_ring_readers", "gauge", "Reader slots in use.");
  for (const auto& s : segments) {
    if (applies("stella_ring_", s)) out.sample("stella_ring_readers", {{"segment", s.value("name", "")}}, std::to_string(s.at("readers").size()));
  }
  out.head("stella_ring_stalls", "gauge", "Things live processes hold up in the ring now (a writer stopped inside a record, a ring that does not move); see status.");
  for (const auto& s : segments) {
    if (applies("stella_ring_", s)) {
      out.sample("stella_ring_stalls", {{"segment", s.value("name", "")}},
                 std::to_string(s.value("stalls", nlohmann::json::array()).size()));
    }
  }
  if (!bridges.empty()) {
    out.head("stella_bridge_info", "gauge", "One per bridge: segment, direction, subject, stream and state.");
    for (const auto& b : bridges) {
      out.sample("stella_bridge_info",
                 {{"bridge", b.value("name", "")}, {"segment", b.value("segment", "")},
                  {"direction", b.value("direction", "")}, {"subject", b.value("subject", "")},
                  {"stream", b.value("stream", "")}, {"state", b.value("state", "")}},
                 "1");
    }
  }

  for (const MetricField& f : kFields) {
    Family family;
    auto emit = [&](const nlohmann::json& obj, const Labels& labels) {
      const auto it = obj.find(std::string(f.json_key));
      if (it != obj.end() && (it->is_number() || it->is_boolean())) family.sample(f.metric, labels, number_text(*it, f.scale));
    };
    switch (f.scope) {
      case S::daemon: emit(j.at("daemon"), {}); break;
      case S::segment:
        for (const auto& s : segments) {
          if (applies(f.metric, s)) emit(s, {{"segment", s.value("name", "")}});
        }
        break;
      case S::reader:
      case S::writer:
        for (const auto& s : segments) {
          for (const auto& x : s.value(f.scope == S::reader ? "readers" : "writers", nlohmann::json::array())) {
            emit(x, {{"segment", s.value("name", "")}, {"slot", std::to_string(x.value("slot", 0))},
                     {"pid", std::to_string(x.value("pid", 0ull))}});
          }
        }
        break;
      case S::bridge:
        for (const auto& b : bridges) {
          emit(b, {{"bridge", b.value("name", "")}, {"segment", b.value("segment", "")}, {"direction", b.value("direction", "")}});
        }
        break;
    }
    if (family.text.empty()) continue;
    out.head(f.metric, f.counter ? "counter" : "gauge", f.help);
    out.text += family.text;
  }
  return std::move(out.text);
}

// ---- HTTP -------------------------------------------------------------------------------

HttpRequest parse_http_request(std::string_view bytes, std::size_t max_bytes) {
  HttpRequest r;
  std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) end = bytes.find("\n\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= max_bytes) {
      r.outcome = HttpRequest::Outcome::bad;
      r.status = 431;
    }
    return r;
  }
  r.outcome = HttpRequest::Outcome::bad;
  r.status = 400;
  const std::string_view line = bytes.substr(0, bytes.find_first_of("\r\n"));
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0) return r;
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.0" && version != "HTTP/1.1") return r;
  r.method = std::string(line.substr(0, sp1));
  r.path = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (r.path.empty() || r.path.front() != '/') return r;
  r.outcome = HttpRequest::Outcome::ok;
  r.status = 0;
  return r;
}

namespace {

using tcp = asio::ip::tcp;

struct Shared {
  MetricsServer::Handler handler;
  std::atomic<std::int64_t> timeout_ns{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::uint64_t> served{0};
  std::atomic<std::uint64_t> dropped{0};
};

std::string http_response(int status, std::string_view reason, std::string_view content_type, const std::string& body,
                          bool head_only) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\nContent-Type: " +
                  std::string(content_type) + "\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nConnection: close\r\n\r\n";
  if (!head_only) r += body;
  return r;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), shared_(std::move(shared)) {
    shared_->open.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count, no ordering
  }
  ~Session() { shared_->open.fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    arm_deadline();
    read();
  }
  void close() {
    std::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void arm_deadline() {
    timer_.expires_after(std::chrono::nanoseconds(shared_->timeout_ns.load(std::memory_order_relaxed)));
    timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (ec) return;  // cancelled: the exchange finished
      self->shared_->dropped.fetch_add(1, std::memory_order_relaxed);
      self->close();
    });
  }

  void read() {
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
      if (ec) {
        self->close();
        return;
      }
      self->received_.append(self->chunk_.data(), n);
      self->on_bytes();
    });
  }

  void on_bytes() {
    const HttpRequest req = parse_http_request(received_, MetricsServer::kMaxRequestBytes);
    if (req.outcome == HttpRequest::Outcome::incomplete) {
      read();
      return;
    }
    const bool head = req.method == "HEAD";
    std::string response;
    if (req.outcome == HttpRequest::Outcome::bad) {
      shared_->dropped.fetch_add(1, std::memory_order_relaxed);
      response = req.status == 431 ? http_response(431, "Request Header Fields Too Large", "text/plain", "request too large\n", false)
                                   : http_response(400, "Bad Request", "text/plain", "bad request\n", false);
    } else if (req.method != "GET" && !head) {
      response = http_response(405, "Method Not Allowed", "text/plain", "only GET and HEAD\n", false);
    } else if (req.path != "/metrics" && req.path.rfind("/metrics?", 0) != 0) {
      response = http_response(404, "Not Found", "text/plain", "stellad serves /metrics\n", head);
    } else {
      try {
        response = http_response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", shared_->handler(), head);
        shared_->served.fetch_add(1, std::memory_order_relaxed);
      } catch (const std::exception& e) {
        spdlog::error("metrics: building the metrics failed: {}", e.what());
        response = http_response(500, "Internal Server Error", "text/plain", std::string(e.what()) + "\n", head);
      }
    }
    respond(std::move(response));
  }

  void respond(std::string response) {
    response_ = std::move(response);
    timer_.cancel();
    arm_deadline();  // the response gets a deadline of its own
    asio::async_write(socket_, asio::buffer(response_), [self = shared_from_this()](const std::error_code&, std::size_t) {
      std::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);  // the client reads all, then EOF
      self->close();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<Shared> shared_;
  std::array<char, 1024> chunk_{};
  std::string received_;
  std::string response_;
};

}  // namespace

struct MetricsServer::Impl {
  asio::io_context& io;
  config::MetricsAddress address;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  tcp::acceptor acceptor{io};
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool started = false;
  std::uint16_t port = 0;

  Impl(asio::io_context& context, config::MetricsAddress a) : io(context), address(std::move(a)) {}

  void accept() {
    acceptor.async_accept([this](const std::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (shared->open.load(std::memory_order_relaxed) >= kMaxConnections) {
          shared->dropped.fetch_add(1, std::memory_order_relaxed);
          std::error_code ignored;
          socket.close(ignored);  // over the limit: refuse at once rather than queue
        } else {
          auto session = std::make_shared<Session>(std::move(socket), shared);
          for (auto it = sessions.begin(); it != sessions.end();) it = it->expired() ? sessions.erase(it) : std::next(it);
          sessions.insert(session);
          session->start();
        }
      } else {
        spdlog::warn("metrics: accept failed: {}", ec.message());
      }
      accept();
    });
  }
};

MetricsServer::MetricsServer(asio::io_context& io, config::MetricsAddress address, std::chrono::nanoseconds client_timeout,
                             Handler handler)
    : impl_(std::make_unique<Impl>(io, std::move(address))) {
  impl_->shared->handler = std::move(handler);
  set_client_timeout(client_timeout);
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
  const std::string where = impl_->address.to_string();
  std::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(impl_->address.host, ec);
  if (ec) throw std::runtime_error("cannot serve metrics on " + where + ": " + ec.message());
  const tcp::endpoint endpoint(ip, impl_->address.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::error_code ignored;
    impl_->acceptor.close(ignored);
    throw std::runtime_error("cannot serve metrics on " + where + ": " + ec.message());
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->started = true;
  if (!impl_->address.loopback()) {
    spdlog::warn("metrics: served on {}, not a loopback address: whoever reaches it sees segment names and pids", where);
  }
  impl_->accept();
}

void MetricsServer::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  std::error_code ignored;
  impl_->acceptor.close(ignored);
  for (const auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->close();
  }
  impl_->sessions.clear();
}

void MetricsServer::set_client_timeout(std::chrono::nanoseconds timeout) {
  impl_->shared->timeout_ns.store(timeout.count(), std::memory_order_relaxed);
}

std::uint16_t MetricsServer::port() const { return impl_->port; }
std::uint64_t MetricsServer::served() const noexcept { return impl_->shared->served.load(std::memory_order_relaxed); }
std::uint64_t MetricsServer::dropped() const noexcept { return impl_->shared->dropped.load(std::memory_order_relaxed); }

}  // namespace stella::daemon
