// NATS bridges end to end: real nats-server processes on loopback (ports of their own), two
// real stellad instances (each with its own runtime directory, socket and segments), one
// bridging a ring out and one bridging a subject into a ring. Checksummed messages; every
// one must arrive with its exact bytes.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <set>
#include <thread>

#include "daemon_test_util.hpp"
#include "nats_fixture.hpp"
#include "stella/ring.hpp"
#include "test_support.hpp"

using namespace stella;
using namespace std::chrono_literals;
namespace proto = stella::daemon::protocol;

namespace {

std::uint64_t fnv1a(const std::byte* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<std::uint64_t>(p[i]);
    h *= 1099511628211ULL;
  }
  return h;
}

// [index u64][checksum u64][payload: 8..263 bytes derived from the index]
std::vector<std::byte> make_message(std::uint64_t index) {
  const std::size_t payload = 8 + static_cast<std::size_t>((index * 7919) % 256);
  std::vector<std::byte> out(16 + payload);
  for (std::size_t i = 0; i < payload; ++i) out[16 + i] = static_cast<std::byte>((index * 31 + i * 17) & 0xFF);
  const std::uint64_t sum = fnv1a(out.data() + 16, payload);
  std::memcpy(out.data(), &index, 8);
  std::memcpy(out.data() + 8, &sum, 8);
  return out;
}

// The message's index if its bytes are exactly what make_message wrote.
std::optional<std::uint64_t> check_message(const std::vector<std::byte>& m) {
  if (m.size() < 16) return std::nullopt;
  std::uint64_t index = 0;
  std::memcpy(&index, m.data(), 8);
  if (m != make_message(index)) return std::nullopt;
  return index;
}

std::optional<proto::BridgeReport> bridge(const test::Stellad& d, const std::string& name) {
  for (const proto::BridgeReport& b : d.status().bridges) {
    if (b.name == name) return b;
  }
  return std::nullopt;
}

bool bridge_connected(const test::Stellad& d, const std::string& name) {
  const auto b = bridge(d, name);
  return b && b->state == "connected";
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Reads from `ring` until `want` distinct valid messages arrived or `timeout` passed.
struct Received {
  std::set<std::uint64_t> distinct;
  std::uint64_t total = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t out_of_order = 0;
};
Received receive(LockFreeBufferReader& reader, std::uint64_t want, std::chrono::seconds timeout) {
  Received r;
  std::vector<std::byte> buf;
  std::optional<std::uint64_t> last;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (r.distinct.size() < want && std::chrono::steady_clock::now() < deadline) {
    if (reader.read_bytes(buf, 200ms) != ReadResult::Ok) continue;
    ++r.total;
    const auto index = check_message(buf);
    if (!index) {
      ++r.corrupt;
      continue;
    }
    if (last && *index < *last) ++r.out_of_order;
    last = index;
    r.distinct.insert(*index);
  }
  return r;
}

}  // namespace

TEST_CASE("bridge: core NATS, ring -> stellad A -> nats-server -> stellad B -> ring, exact bytes") {
  test::NatsCluster nats("stella-bridge-core", 1);
  nats.start();
  const std::string a = test::unique_name("bra");
  const std::string b = test::unique_name("brb");
  test::SegmentCleanup cleanup({a, b});
  const std::string subject = "stella.test." + a;
  const std::string url = quoted(nats.node(0).url());

  test::Stellad da("stella-bridge-a", "",
                   test::ring_segment(a, "1MiB", "block") + "[[bridge]]\nsegment = " + quoted(a) +
                       "\ndirection = \"out\"\nsubject = " + quoted(subject) + "\nurl = " + url +
                       "\nreconnect_wait = \"50ms\"\n");
  test::Stellad db("stella-bridge-b", "",
                   test::ring_segment(b, "1MiB", "block") + "[[bridge]]\nsegment = " + quoted(b) +
                       "\ndirection = \"in\"\nsubject = " + quoted(subject) + "\nurl = " + url +
                       "\nreconnect_wait = \"50ms\"\n");
  db.start();
  da.start();
  INFO("stellad A:\n" << da.log() << "\nstellad B:\n" << db.log());
  REQUIRE(test::eventually([&] { return bridge_connected(da, a + "-out") && bridge_connected(db, b + "-in"); }, 30s));
  // Core NATS delivers only to subscriptions the server already has: wait for B's.
  REQUIRE(test::eventually(
      [&] {
        const auto body = test::http_get(nats.node(0).http_port, "/connz?subs=1");
        return body && body->find(subject) != std::string::npos;
      },
      30s));

  LockFreeBufferReader reader(b);  // registered before anything flows: B's Block ring keeps it all
  constexpr std::uint64_t kCount = 20000;
  std::thread writer([&] {
    MultiWriterCircularBuffer ring(a, SharedMemoryMode::Open);
    for (std::uint64_t i = 0; i < kCount; ++i) REQUIRE(ring.write_bytes(make_message(i)) == WriteResult::Ok);
  });
  const Received got = receive(reader, kCount, 60s);
  writer.join();

  CHECK(got.corrupt == 0);
  CHECK(got.distinct.size() == kCount);
  CHECK(got.total == kCount);       // core NATS on one connection: no duplicates...
  CHECK(got.out_of_order == 0);     // ...and in order
  const auto out = bridge(da, a + "-out");
  const auto in = bridge(db, b + "-in");
  REQUIRE(out);
  REQUIRE(in);
  CHECK(out->forwarded == kCount);
  CHECK(out->received == kCount);
  CHECK(out->lost == 0);
  CHECK(in->received == kCount);
  CHECK(in->forwarded == kCount);
  CHECK(in->lost == 0);
  CHECK(da.status().health == proto::Health::healthy);

  // The JSON carries the counters too (what tools read).
  const auto json = test::run_command(STELLAD, {"status", "--json", "--socket", da.socket()});
  CHECK(json.out.find("\"bridges\"") != std::string::npos);
  CHECK(json.out.find("\"forwarded\": " + std::to_string(kCount)) != std::string::npos);
  const auto table = test::run_command(STELLAD, {"status", "--socket", db.socket()});
  CHECK(table.out.find("BRIDGE") != std::string::npos);
  CHECK(table.out.find(b + "-in") != std::string::npos);
}

TEST_CASE("bridge: NATS unreachable, the out-bridge buffers in the ring and delivers after reconnecting") {
  test::NatsCluster nats("stella-bridge-down", 1);
  const std::string a = test::unique_name("brd");
  test::SegmentCleanup cleanup(a);
  const std::string subject = "stella.down." + a;
  test::Stellad da("stella-bridge-down-a", "",
                   test::ring_segment(a, "256KiB", "block") + "[[bridge]]\nsegment = " + quoted(a) +
                       "\ndirection = \"out\"\nsubject = " + quoted(subject) + "\nurl = " +
                       quoted(nats.node(0).url()) + "\nreconnect_wait = \"50ms\"\nmax_reconnect_wait = \"200ms\"\n");
  da.start();  // NATS is not running yet
  INFO("stellad:\n" << da.log());
  CHECK(bridge(da, a + "-out")->state == "connecting");
  CHECK(da.status().health == proto::Health::degraded);
  {
    MultiWriterCircularBuffer ring(a, SharedMemoryMode::Open);
    for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(ring.write_bytes(make_message(i), 5s) == WriteResult::Ok);
  }
  CHECK(bridge(da, a + "-out")->received == 0);  // not read: the ring holds them
  nats.start();
  REQUIRE(test::eventually([&] { return bridge_connected(da, a + "-out"); }, 30s));
  REQUIRE(test::eventually([&] { return bridge(da, a + "-out")->forwarded == 100; }, 30s));
  CHECK(bridge(da, a + "-out")->lost == 0);
}

TEST_CASE("bridge: JetStream on a 3-node cluster, the stream leader killed mid-flow, nothing lost") {
  test::NatsCluster nats("stella-bridge-js", 3);
  nats.start();
  const std::string a = test::unique_name("bja");
  const std::string b = test::unique_name("bjb");
  test::SegmentCleanup cleanup({a, b});
  // Fresh stream and consumer names for every run (see DESIGN.md "NATS notes").
  const std::string stream = "STELLA_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand() % 100000);
  const std::string subject = "stella.js." + a;
  const std::string common = "\nurl = " + nats.urls_toml() + "\njetstream = true\nstream = " + quoted(stream) +
                             "\nreplicas = 3\nreconnect_wait = \"100ms\"\nmax_reconnect_wait = \"1s\"\n";
  test::Stellad da("stella-bridge-js-a", "",
                   test::ring_segment(a, "4MiB", "block") + "[[bridge]]\nsegment = " + quoted(a) +
                       "\ndirection = \"out\"\nsubject = " + quoted(subject) + "\nack_timeout = \"2s\"" + common);
  test::Stellad db("stella-bridge-js-b", "",
                   test::ring_segment(b, "4MiB", "block") + "[[bridge]]\nsegment = " + quoted(b) +
                       "\ndirection = \"in\"\nsubject = " + quoted(subject) + "\ndurable = \"D" + stream + "\"" +
                       common);
  da.start();
  db.start();
  INFO("stellad A:\n" << da.log() << "\nstellad B:\n" << db.log() << "\nnats:\n" << nats.logs());
  REQUIRE(test::eventually([&] { return bridge_connected(da, a + "-out") && bridge_connected(db, b + "-in"); }, 60s));

  LockFreeBufferReader reader(b);
  constexpr std::uint64_t kCount = 20000;
  std::atomic<std::uint64_t> written{0};
  std::thread writer([&] {
    MultiWriterCircularBuffer ring(a, SharedMemoryMode::Open);
    for (std::uint64_t i = 0; i < kCount; ++i) {
      REQUIRE(ring.write_bytes(make_message(i)) == WriteResult::Ok);
      written.store(i + 1, std::memory_order_relaxed);
      if (i % 50 == 49) std::this_thread::sleep_for(10ms);  // ~5000 msgs/s: the kill lands mid-flow
    }
  });
  Received got;
  std::thread killer([&] {
    (void)test::eventually([&] { return written.load() >= kCount / 4; }, 60s);
    const auto leader = nats.stream_leader(stream);
    const std::size_t victim = leader.value_or(0);
    const std::string why = leader ? " (the stream leader)" : " (leader unknown)";
    std::printf("bridge_test: killing nats node n%zu%s after %llu messages\n", victim, why.c_str(),
                static_cast<unsigned long long>(written.load()));
    nats.kill(victim);
  });
  got = receive(reader, kCount, 180s);
  killer.join();
  writer.join();

  const auto out = bridge(da, a + "-out");
  const auto in = bridge(db, b + "-in");
  REQUIRE(out);
  REQUIRE(in);
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("bridge_test: out-bridge: forwarded %llu, publish errors %llu (resent), reconnects %llu, "
              "duplicates suppressed by msg-id %llu\n",
              u(out->forwarded), u(out->publish_errors), u(out->reconnects), u(out->duplicates));
  std::printf("bridge_test: in-bridge: written %llu, redeliveries skipped %llu, errors %llu, reconnects %llu\n",
              u(in->forwarded), u(in->duplicates), u(in->publish_errors), u(in->reconnects));
  std::printf("bridge_test: ring B: %llu messages, %zu distinct, %llu duplicates, %llu out of order\n", u(got.total),
              got.distinct.size(), u(got.total - got.distinct.size()), u(got.out_of_order));
  CHECK(got.corrupt == 0);
  CHECK(got.distinct.size() == kCount);  // nothing lost
  // Duplicates are suppressed twice over (the stream by msg-id, the in-bridge by stream
  // sequence) and counted in the bridges' "duplicates"; any that got through would be
  // tolerated (at-least-once) and are reported above, not failed on.
  CHECK(out->lost == 0);
  CHECK(in->lost == 0);
}

TEST_CASE("bridge: an in-bridge on a full Block ring waits (backpressure) and drops nothing") {
  test::NatsCluster nats("stella-bridge-bp", 1);
  nats.start();
  const std::string a = test::unique_name("bpa");
  const std::string b = test::unique_name("bpb");
  test::SegmentCleanup cleanup({a, b});
  const std::string stream = "STELLA_BP_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand() % 100000);
  const std::string subject = "stella.bp." + a;
  const std::string common = "\nurl = " + quoted(nats.node(0).url()) + "\njetstream = true\nstream = " + quoted(stream) +
                             "\nreconnect_wait = \"50ms\"\n";
  test::Stellad da("stella-bridge-bp-a", "",
                   test::ring_segment(a, "1MiB", "block") + "[[bridge]]\nsegment = " + quoted(a) +
                       "\ndirection = \"out\"\nsubject = " + quoted(subject) + common);
  // B's ring holds only a few dozen messages, and its reader does not read at first.
  test::Stellad db("stella-bridge-bp-b", "",
                   test::ring_segment(b, "4KiB", "block") + "[[bridge]]\nsegment = " + quoted(b) +
                       "\ndirection = \"in\"\nsubject = " + quoted(subject) + "\ndurable = \"D" + stream +
                       "\"\nwrite_timeout = \"50ms\"" + common);
  da.start();
  db.start();
  INFO("stellad A:\n" << da.log() << "\nstellad B:\n" << db.log());
  REQUIRE(test::eventually([&] { return bridge_connected(da, a + "-out") && bridge_connected(db, b + "-in"); }, 60s));
  LockFreeBufferReader reader(b);  // registered: B's Block ring keeps everything for it
  constexpr std::uint64_t kCount = 500;
  {
    MultiWriterCircularBuffer ring(a, SharedMemoryMode::Open);
    for (std::uint64_t i = 0; i < kCount; ++i) REQUIRE(ring.write_bytes(make_message(i), 10s) == WriteResult::Ok);
  }
  // The in-bridge fills B's ring, then has to wait for our reader: backpressure, no loss.
  REQUIRE(test::eventually([&] { return bridge(db, b + "-in")->backpressure_waits > 0; }, 60s));
  CHECK(bridge(db, b + "-in")->forwarded < kCount);
  const Received got = receive(reader, kCount, 120s);  // now read: everything arrives
  CHECK(got.corrupt == 0);
  CHECK(got.distinct.size() == kCount);
  CHECK(got.out_of_order == 0);
  const auto in = bridge(db, b + "-in");
  REQUIRE(in);
  CHECK(in->lost == 0);
  CHECK(in->forwarded == kCount);
}
