// stellad's Prometheus endpoint: the exposition in-process (every status field mapped, names
// by Prometheus conventions), the HTTP parsing, and the real stellad scraped by a real
// Prometheus server (Debian's `prometheus`, started on loopback) whose query API must
// return the ring's message count.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <cerrno>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "daemon_test_util.hpp"
#include "stella/daemon/metrics_server.hpp"
#include "stella/stella.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace stella::daemon;

namespace {

protocol::StatusReport sample_report() {
  protocol::StatusReport r;
  // Assigned by name: the report structs gain fields (the protocol is append-only).
  r.daemon.version = "0.1.0";
  r.daemon.pid = 4242;
  r.daemon.uptime_ns = 3'500'000'000ull;
  r.daemon.config = "/etc/stella.toml";
  r.daemon.socket = "/run/s.sock";
  r.daemon.reap_interval_ns = 100'000'000ull;
  r.daemon.reap_passes = 35;
  r.daemon.last_reap_age_ns = 20'000'000ull;
  r.daemon.reloads = 2;
  protocol::SegmentReport ring;
  ring.name = "telemetry";
  ring.kind = "ring";
  ring.state = "live";
  ring.capacity = 65536;
  ring.mode = "overwrite";
  ring.permissions = 0660;
  ring.max_readers = 32;
  ring.max_writers = 64;
  ring.write_position = 18'446'744'073'709'551'000ull;  // beyond 2^53: printed exactly
  ring.next_sequence = 7;
  protocol::WriterReport writer;
  writer.slot = 0;
  writer.pid = 100;
  writer.messages_written = 7;
  ring.writers = {writer};
  protocol::ReaderReport reader;
  reader.slot = 1;
  reader.pid = 200;
  reader.cursor = 64;
  reader.lag_bytes = 96;
  reader.messages_read = 5;
  reader.messages_lost = 2;
  reader.lagging = true;
  ring.readers = {reader};
  ring.counters.records_repaired = 1;
  ring.counters.readers_reaped = 3;
  ring.counters.writers_reaped = 4;
  ring.last_recovery_unix_ns = 1'796'190'718'000'000'000ull;
  protocol::SegmentReport blob;
  blob.name = "settings";
  blob.kind = "blob";
  blob.state = "live";
  blob.capacity = 4096;
  blob.generation = 9;
  r.segments = {ring, blob};
  protocol::BridgeReport b;
  b.name = "telemetry-out";
  b.segment = "telemetry";
  b.direction = "out";
  b.subject = "odd\"subject\\";
  b.state = "connected";
  b.connected = true;
  b.forwarded = 11;
  r.bridges = {b};
  r.health = protocol::Health::degraded;
  r.problems = {"segment 'telemetry': reader pid 200 lags 96 B"};
  return r;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// One HTTP/1.0 exchange on loopback: the raw response ("" if it could not connect).
std::string http(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

std::string get(int port, const std::string& path) { return http(port, "GET " + path + " HTTP/1.0\r\n\r\n"); }

std::string body_of(const std::string& response) {
  const std::size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("prometheus_text: the status figures as Prometheus metrics, with labels and exact integers") {
  const std::string t = prometheus_text(sample_report());
  CHECK(has_line(t, "stella_up 1"));
  CHECK(has_line(t, "stella_healthy 0"));
  CHECK(has_line(t, "stella_problems 1"));
  CHECK(has_line(t, "stella_build_info{version=\"0.1.0\",protocol=\"1\"} 1"));
  CHECK(has_line(t, "# TYPE stella_ring_messages_total counter"));
  CHECK(has_line(t, "stella_ring_messages_total{segment=\"telemetry\"} 7"));
  CHECK(has_line(t, "stella_ring_written_bytes_total{segment=\"telemetry\"} 18446744073709551000"));
  CHECK(has_line(t, "stella_segment_info{segment=\"telemetry\",kind=\"ring\",mode=\"overwrite\",state=\"live\"} 1"));
  CHECK(has_line(t, "stella_ring_reader_lag_bytes{segment=\"telemetry\",slot=\"1\",pid=\"200\"} 96"));
  CHECK(has_line(t, "stella_ring_reader_messages_lost_total{segment=\"telemetry\",slot=\"1\",pid=\"200\"} 2"));
  CHECK(has_line(t, "stella_ring_reader_lagging{segment=\"telemetry\",slot=\"1\",pid=\"200\"} 1"));
  CHECK(has_line(t, "stella_ring_writer_messages_total{segment=\"telemetry\",slot=\"0\",pid=\"100\"} 7"));
  CHECK(has_line(t, "stella_ring_readers_reaped_total{segment=\"telemetry\"} 3"));
  CHECK(has_line(t, "stella_ring_readers{segment=\"telemetry\"} 1"));
  CHECK(has_line(t, "stella_blob_writes_total{segment=\"settings\"} 9"));
  CHECK(t.find("stella_ring_messages_total{segment=\"settings\"}") == std::string::npos);  // ring metrics only for rings
  CHECK(has_line(t, "stella_daemon_uptime_seconds 3.5"));
  CHECK(has_line(t, "stella_segment_last_recovery_timestamp_seconds{segment=\"telemetry\"} 1796190718"));
  CHECK(has_line(t, "stella_bridge_connected{bridge=\"telemetry-out\",segment=\"telemetry\",direction=\"out\"} 1"));
  CHECK(t.find("subject=\"odd\\\"subject\\\\\"") != std::string::npos);  // label values escaped
}

TEST_CASE("every numeric field of status --json has a metric, named by Prometheus conventions") {
  const nlohmann::json j = nlohmann::json::parse(protocol::status_json(sample_report(), false));
  std::map<MetricScope, std::set<std::string>> mapped;
  for (const MetricField& f : metric_fields()) mapped[f.scope].insert(std::string(f.json_key));
  // Identity of a slot: labels, not metrics.
  const std::set<std::string> labels{"slot", "pid"};
  auto check_object = [&](const nlohmann::json& obj, MetricScope scope, const char* where, const std::set<std::string>& exempt) {
    for (const auto& [key, value] : obj.items()) {
      if (!value.is_number() && !value.is_boolean()) continue;
      INFO(where << "." << key << " is in status --json: give it a line in kFields (daemon/src/metrics_server.cpp)");
      CHECK((mapped[scope].count(key) > 0 || exempt.count(key) > 0));
    }
  };
  check_object(j["daemon"], MetricScope::daemon, "daemon", {});
  for (const auto& s : j["segments"]) {
    check_object(s, MetricScope::segment, "segments[]", {});
    for (const auto& r : s["readers"]) check_object(r, MetricScope::reader, "segments[].readers[]", labels);
    for (const auto& w : s["writers"]) check_object(w, MetricScope::writer, "segments[].writers[]", labels);
  }
  for (const auto& b : j["bridges"]) check_object(b, MetricScope::bridge, "bridges[]", {});

  const std::string text = prometheus_text(sample_report());
  const std::regex name_rule("stella_[a-z][a-z0-9_]*");
  std::set<std::string> names;
  auto in_json = [&](const MetricField& f) {  // a field this build's status reports
    switch (f.scope) {
      case MetricScope::daemon: return j["daemon"].contains(std::string(f.json_key));
      case MetricScope::segment: return j["segments"][0].contains(std::string(f.json_key));
      case MetricScope::reader: return j["segments"][0]["readers"][0].contains(std::string(f.json_key));
      case MetricScope::writer: return j["segments"][0]["writers"][0].contains(std::string(f.json_key));
      case MetricScope::bridge: return j["bridges"][0].contains(std::string(f.json_key));
    }
    return false;
  };
  for (const MetricField& f : metric_fields()) {
    const std::string name(f.metric);
    INFO(name);
    CHECK(names.insert(name).second);  // one name per thing
    CHECK(std::regex_match(name, name_rule));
    CHECK(f.counter == (name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0));
    CHECK(name.find("_ns") == std::string::npos);  // base units: seconds, bytes
    if (in_json(f)) CHECK(text.find("# TYPE " + name + (f.counter ? " counter" : " gauge")) != std::string::npos);
  }
}

TEST_CASE("parse_http_request: request line, limits, garbage") {
  using O = HttpRequest::Outcome;
  const HttpRequest ok = parse_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 8192);
  CHECK(ok.outcome == O::ok);
  CHECK(ok.method == "GET");
  CHECK(ok.path == "/metrics");
  CHECK(parse_http_request("GET /metrics HTTP/1.1\r\nHost", 8192).outcome == O::incomplete);
  CHECK(parse_http_request(std::string(8192, 'x'), 8192).status == 431);
  CHECK(parse_http_request("GARBAGE\r\n\r\n", 8192).status == 400);
  CHECK(parse_http_request("GET metrics HTTP/1.1\r\n\r\n", 8192).status == 400);
  CHECK(parse_http_request("GET /metrics SPDY/3\r\n\r\n", 8192).status == 400);
  CHECK(parse_http_request(std::string("\0\0\0\n\n", 5), 8192).status == 400);
}

TEST_CASE("stellad serves /metrics on its configured loopback address, bounded like the status socket") {
  const std::string ring = test::unique_name("metrics");
  test::SegmentCleanup cleanup(ring);
  const int port = free_port();
  test::Stellad d("metrics", "metrics = \"127.0.0.1:" + std::to_string(port) + "\"\nclient_timeout = \"300ms\"\n",
                  test::ring_segment(ring, "64KiB", "overwrite"));
  d.start();
  {
    MultiWriterCircularBuffer w(ring, SharedMemoryMode::Open);
    for (int i = 0; i < 5; ++i) w.write_bytes(std::as_bytes(std::span("hello", 5)));
  }
  const std::string r = get(port, "/metrics");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(has_line(body_of(r), "stella_ring_messages_total{segment=\"" + ring + "\"} 5"));
  CHECK(get(port, "/").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(http(port, "POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 405", 0) == 0);
  CHECK(http(port, std::string(9000, 'A')).rfind("HTTP/1.1 431", 0) == 0);
  CHECK(http(port, "HEAD /metrics HTTP/1.0\r\n\r\n").find("stella_up") == std::string::npos);

  // A client that sends nothing is dropped after client_timeout; others are served meanwhile.
  const int idle = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(idle, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  CHECK(get(port, "/metrics").rfind("HTTP/1.1 200", 0) == 0);
  char byte;
  timeval tv{10, 0};
  ::setsockopt(idle, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(::read(idle, &byte, 1) == 0);  // EOF: stellad closed it (well before our 10 s)
  ::close(idle);
  CHECK(d.stop() == std::optional<int>(0));
}

TEST_CASE("stellad's metrics endpoint closes connections beyond its cap at once, and serves again below it") {
  const int port = free_port();
  test::Stellad d("metrics-cap", "metrics = \"127.0.0.1:" + std::to_string(port) + "\"\nclient_timeout = \"20s\"\n", "");
  d.start();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto open_idle = [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
  };
  std::vector<int> idle;
  for (std::size_t i = 0; i < MetricsServer::kMaxConnections; ++i) idle.push_back(open_idle());
  // The cap is reached once stellad has accepted them all: a scrape is then refused at once
  // (EOF long before the 20 s client_timeout; our own 5 s receive timeout would fail it).
  const int extra = open_idle();
  timeval tv{5, 0};
  ::setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req = "GET /metrics HTTP/1.0\r\n\r\n";
  (void)!::write(extra, req.data(), req.size());
  char byte;
  const ssize_t n = ::read(extra, &byte, 1);
  const int err = errno;
  // Closed unread: EOF, or a reset because our request was still unread when it closed.
  CHECK((n == 0 || (n < 0 && err == ECONNRESET)));
  CHECK_FALSE((n < 0 && (err == EAGAIN || err == EWOULDBLOCK)));  // not left waiting
  ::close(extra);
  for (const int fd : idle) ::close(fd);
  CHECK(test::eventually([&] { return get(port, "/metrics").rfind("HTTP/1.1 200", 0) == 0; }));
  d.stop();
}

TEST_CASE("stellad refuses to start when its metrics address is taken, naming it") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  test::Stellad d("metrics-taken", "metrics = \"" + where + "\"\n", "");
  d.launch();
  CHECK(d.proc().wait() == std::optional<int>(1));
  CHECK(d.log().find("cannot serve metrics on " + where) != std::string::npos);
  ::close(fd);
}

TEST_CASE("a real Prometheus scrapes stellad and its query API returns the ring's message count") {
  if (::access(PROMETHEUS, X_OK) != 0) {
    FAIL("Prometheus is not installed at " PROMETHEUS " (scripts/install-deps.sh installs Debian's prometheus)");
  }
  const std::string ring = test::unique_name("prom");
  test::SegmentCleanup cleanup(ring);
  const int port = free_port();
  test::Stellad d("prom", "metrics = \"127.0.0.1:" + std::to_string(port) + "\"\n",
                  test::ring_segment(ring, "64KiB", "overwrite"));
  d.start();
  {
    MultiWriterCircularBuffer w(ring, SharedMemoryMode::Open);
    for (int i = 0; i < 42; ++i) w.write_bytes(std::as_bytes(std::span("x", 1)));
  }
  test::TempDir dir("prometheus");
  const int prom_port = free_port();
  test::write_file(dir.file("prometheus.yml"), "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                               "scrape_configs:\n  - job_name: stella\n    static_configs:\n"
                                               "      - targets: ['127.0.0.1:" + std::to_string(port) + "']\n");
  test::Proc prom(PROMETHEUS,
                  {"--config.file=" + dir.file("prometheus.yml"), "--storage.tsdb.path=" + dir.file("data"),
                   "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
                  dir.file("prom.out"), dir.file("prom.err"));
  const std::string query = "stella_ring_messages_total{segment=\"" + ring + "\"}";
  std::string last;
  const bool answered = test::eventually(
      [&] {
        last = body_of(get(prom_port, "/api/v1/query?query=" + url_encode(query)));
        if (last.empty()) return false;
        const nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
        if (j.is_discarded() || j.value("status", "") != "success") return false;
        const auto& result = j["data"]["result"];
        return result.size() == 1 && result[0]["value"][1] == "42";
      },
      std::chrono::seconds(60));
  INFO("last answer: " << last << "\nprometheus stderr: " << test::read_file(dir.file("prom.err")));
  CHECK(answered);
  const nlohmann::json up = nlohmann::json::parse(body_of(get(prom_port, "/api/v1/query?query=stella_up")));
  CHECK(up["data"]["result"][0]["value"][1] == "1");
  prom.kill(SIGTERM);
  CHECK(prom.wait(std::chrono::seconds(30)).has_value());
  d.stop();
}
