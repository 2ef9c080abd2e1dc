// stella-bridge-bench: a ring bridged to NATS by stellad's bridge code, against an
// application that publishes to NATS directly. Starts its own nats-server (-js) on a free
// loopback port. Reports, for core NATS and JetStream (R1):
//   throughput  N messages as fast as they go (direct: natsConnection_Publish / js_PublishAsync;
//               bridged: MultiWriterCircularBuffer::write_bytes into a ring with an out-bridge),
//               until a subscriber has them all (core) or the stream acknowledged them all (JS);
//   latency     paced messages carrying their send time; one-way latency at the subscriber.
//
//   stella-bridge-bench [--count N] [--size BYTES] [--rate MSGS_PER_S]
#include <arpa/inet.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "stella/daemon/bridge.hpp"
#include "stella/ring.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

void must(natsStatus s, const char* what) {
  if (s != NATS_OK) {
    std::fprintf(stderr, "%s: %s\n", what, natsStatus_GetText(s));
    std::exit(1);
  }
}

struct Server {
  pid_t pid = -1;
  std::string url;
  std::string dir;
  Server() {
    const int port = free_port();
    url = "nats://127.0.0.1:" + std::to_string(port);
    char tmpl[] = "/tmp/stella-bridge-bench-XXXXXX";
    dir = ::mkdtemp(tmpl);
    pid = ::fork();
    if (pid == 0) {
      const std::string p = std::to_string(port);
      const std::string log = dir + "/nats.log";
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", p.c_str(), "-js", "-sd", dir.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready when a client can connect.
    for (int i = 0; i < 200; ++i) {
      natsConnection* nc = nullptr;
      if (natsConnection_ConnectTo(&nc, url.c_str()) == NATS_OK) {
        natsConnection_Destroy(nc);
        return;
      }
      std::this_thread::sleep_for(25ms);
    }
    std::fprintf(stderr, "nats-server did not start (is it installed?)\n");
    std::exit(1);
  }
  ~Server() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    std::filesystem::remove_all(dir);
  }
};

// A core-NATS subscriber that counts messages and records one-way latencies.
struct Subscriber {
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  std::atomic<std::uint64_t> count{0};
  std::vector<double> latencies_us;
  bool record = false;

  static void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
    auto* s = static_cast<Subscriber*>(closure);
    if (s->record && natsMsg_GetDataLength(m) >= 8) {
      std::int64_t sent = 0;
      std::memcpy(&sent, natsMsg_GetData(m), 8);
      s->latencies_us.push_back(static_cast<double>(now_ns() - sent) / 1000.0);
    }
    natsMsg_Destroy(m);
    s->count.fetch_add(1, std::memory_order_release);
  }
  Subscriber(const std::string& url, const std::string& subject, bool rec) : record(rec) {
    must(natsConnection_ConnectTo(&nc, url.c_str()), "connect");
    must(natsConnection_Subscribe(&sub, nc, subject.c_str(), on_msg, this), "subscribe");
    must(natsSubscription_SetPendingLimits(sub, -1, -1), "pending limits");
    must(natsConnection_Flush(nc), "flush");
  }
  ~Subscriber() {
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
  }
  bool wait_for(std::uint64_t n, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (count.load(std::memory_order_acquire) < n) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(100us);
    }
    return true;
  }
};

struct Percentiles {
  double p50 = 0, p99 = 0;
};
Percentiles percentiles(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

std::vector<std::byte> payload(std::size_t size) { return std::vector<std::byte>(std::max<std::size_t>(size, 8)); }

// Paces `n` sends at `rate` per second, stamping the send time into the first 8 bytes.
template <class Send>
void paced(std::uint64_t n, double rate, std::vector<std::byte>& buf, Send send) {
  const auto start = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate));
    while (Clock::now() < due) {
    }
    const std::int64_t t = now_ns();
    std::memcpy(buf.data(), &t, 8);
    send();
  }
}

std::unique_ptr<stella::daemon::Bridge> out_bridge(const std::string& ring, const std::string& url,
                                                   const std::string& subject, const std::string& stream) {
  stella::config::BridgeConfig c;
  c.name = ring + "-out";
  c.segment = ring;
  c.direction = stella::config::BridgeDirection::out;
  c.subject = subject;
  c.urls = {url};
  c.jetstream = !stream.empty();
  c.stream = stream;
  c.start = stella::config::BridgeStart::latest;
  c.max_in_flight = 4096;
  auto b = stella::daemon::start_bridge(c);
  while (b->report().state != "connected") std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(200ms);  // (JetStream: the stream created, the reader placed)
  return b;
}

void report(const char* name, std::uint64_t n, std::size_t size, std::chrono::nanoseconds elapsed) {
  const double s = std::chrono::duration<double>(elapsed).count();
  std::printf("%-34s %8llu msgs x %4zu B  %10.0f msgs/s  %8.1f MB/s\n", name, static_cast<unsigned long long>(n), size,
              static_cast<double>(n) / s, static_cast<double>(n * size) / s / 1e6);
}
void report_latency(const char* name, const std::vector<double>& v, double rate) {
  const Percentiles p = percentiles(v);
  std::printf("%-34s %8zu msgs at %6.0f/s   p50 %8.1f us   p99 %8.1f us\n", name, v.size(), rate, p.p50, p.p99);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t count = 200000;
  std::size_t size = 64;
  double rate = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--count") count = std::strtoull(argv[i + 1], nullptr, 10);
    if (k == "--size") size = std::strtoull(argv[i + 1], nullptr, 10);
    if (k == "--rate") rate = std::strtod(argv[i + 1], nullptr);
  }
  const std::uint64_t lat_count = std::max<std::uint64_t>(1000, static_cast<std::uint64_t>(rate * 2));
  const std::uint64_t js_count = std::max<std::uint64_t>(1000, count / 4);
  Server server;
  const std::string ring = "bench-bridge-" + std::to_string(::getpid());
  stella::MultiWriterCircularBuffer::remove(ring);
  stella::MultiWriterCircularBuffer writer(ring, stella::SharedMemoryMode::Create, 16 << 20,
                                           stella::WriteBehavior::Block);
  auto buf = payload(size);
  std::printf("nats-server %s; %zu-byte messages\n\n", server.url.c_str(), buf.size());

  // ---- core NATS ----
  {
    Subscriber sub(server.url, "bench.direct", false);
    natsConnection* nc = nullptr;
    must(natsConnection_ConnectTo(&nc, server.url.c_str()), "connect");
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
      must(natsConnection_Publish(nc, "bench.direct", buf.data(), static_cast<int>(buf.size())), "publish");
    }
    must(natsConnection_Flush(nc), "flush");
    if (!sub.wait_for(count, 60s)) std::printf("(direct: only %llu arrived)\n", static_cast<unsigned long long>(sub.count.load()));
    report("core, app publishes directly", count, buf.size(), Clock::now() - t0);
    natsConnection_Destroy(nc);
  }
  {
    Subscriber sub(server.url, "bench.bridged", false);
    auto bridge = out_bridge(ring, server.url, "bench.bridged", "");
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i) (void)writer.write_bytes(buf);
    if (!sub.wait_for(count, 60s)) std::printf("(bridged: only %llu arrived)\n", static_cast<unsigned long long>(sub.count.load()));
    report("core, app -> ring -> out-bridge", count, buf.size(), Clock::now() - t0);
  }
  {
    Subscriber sub(server.url, "bench.lat.direct", true);
    natsConnection* nc = nullptr;
    must(natsConnection_ConnectTo(&nc, server.url.c_str()), "connect");
    paced(lat_count, rate, buf, [&] {
      must(natsConnection_Publish(nc, "bench.lat.direct", buf.data(), static_cast<int>(buf.size())), "publish");
      must(natsConnection_FlushTimeout(nc, 1000), "flush");  // per message, like a latency-minded app
    });
    sub.wait_for(lat_count, 30s);
    report_latency("core latency, direct (flush each)", sub.latencies_us, rate);
    natsConnection_Destroy(nc);
  }
  {
    Subscriber sub(server.url, "bench.lat.bridged", true);
    auto bridge = out_bridge(ring, server.url, "bench.lat.bridged", "");
    paced(lat_count, rate, buf, [&] { (void)writer.write_bytes(buf); });
    sub.wait_for(lat_count, 30s);
    report_latency("core latency, bridged", sub.latencies_us, rate);
  }

  // ---- JetStream (R1, file storage) ----
  {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    must(natsConnection_ConnectTo(&nc, server.url.c_str()), "connect");
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 4096;
    must(natsConnection_JetStream(&js, nc, &jo), "jetstream");
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[] = {"bench.js.direct"};
    cfg.Name = "BENCH_DIRECT";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    must(js_AddStream(nullptr, js, &cfg, nullptr, nullptr), "add stream");
    const auto t0 = Clock::now();
    std::string id;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    for (std::uint64_t i = 0; i < js_count; ++i) {
      id = "d-" + std::to_string(i);  // a msg-id, as the bridge sends
      po.MsgId = id.c_str();
      must(js_PublishAsync(js, "bench.js.direct", buf.data(), static_cast<int>(buf.size()), &po), "publish async");
    }
    jsPubOptions done;
    jsPubOptions_Init(&done);
    done.MaxWait = 60000;
    must(js_PublishAsyncComplete(js, &done), "complete");
    report("JetStream, app publishes async", js_count, buf.size(), Clock::now() - t0);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  {
    auto bridge = out_bridge(ring, server.url, "bench.js.bridged", "BENCH_BRIDGED");
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < js_count; ++i) (void)writer.write_bytes(buf);
    const auto deadline = Clock::now() + 120s;
    while (bridge->report().forwarded < js_count && Clock::now() < deadline) std::this_thread::sleep_for(200us);
    report("JetStream, app -> ring -> out-bridge", js_count, buf.size(), Clock::now() - t0);
  }
  {
    Subscriber sub(server.url, "bench.js.lat", true);
    auto bridge = out_bridge(ring, server.url, "bench.js.lat", "BENCH_LAT");
    paced(lat_count, rate, buf, [&] { (void)writer.write_bytes(buf); });
    sub.wait_for(lat_count, 30s);
    report_latency("JetStream latency, bridged", sub.latencies_us, rate);
  }
  stella::daemon::shutdown_bridges();
  stella::MultiWriterCircularBuffer::remove(ring);
  return 0;
}
