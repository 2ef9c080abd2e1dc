// The status protocol across versions (daemon/src/protocol_fields.hpp): a client decodes what
// a newer daemon sends (unknown fields, a higher version) and what an older one sends
// (fields appended since it was built are absent).
#include <doctest/doctest.h>

#include <array>
#include <nlohmann/json.hpp>

#include "protocol_fields.hpp"
#include "stella/daemon/protocol.hpp"

namespace proto = stella::daemon::protocol;
using nlohmann::json;

namespace {

proto::StatusReport sample() {
  proto::StatusReport r;
  r.daemon.version = "9.9";
  r.daemon.pid = 42;
  r.daemon.reloads = 3;
  r.daemon.reload_failures = 1;
  r.daemon.connections = 2;
  proto::SegmentReport s;
  s.name = "telemetry";
  s.kind = "ring";
  s.state = "live";
  s.capacity = 1 << 20;
  s.mode = "overwrite";
  s.readers.push_back({0, 7, 100, 28, 5, 1, false, false});
  s.writers.push_back({1, 8, 6});
  s.counters.readers_reaped = 2;
  r.segments.push_back(s);
  proto::BridgeReport b;
  b.name = "telemetry-out";
  b.forwarded = 11;
  r.bridges.push_back(b);
  return r;
}

json envelope_of(const proto::StatusReport& r) { return json::parse(proto::encode_status(r)); }

}  // namespace

TEST_CASE("protocol_versions: a newer daemon's response, with fields this client does not know, decodes") {
  json j = envelope_of(sample());
  j["protocol"] = proto::kVersion + 1;
  j["result"]["daemon"]["a_field_from_the_future"] = {{"nested", 1}};
  j["result"]["segments"][0]["numa_node"] = 3;
  j["result"]["segments"][0]["readers"][0]["cpu"] = "x";
  j["result"]["bridges"][0]["cluster"] = "c1";
  j["result"]["subscriptions"] = json::array({1, 2});
  j["an_envelope_field_from_the_future"] = true;
  const proto::Response r = proto::decode_response(j.dump());
  CHECK(r.protocol == proto::kVersion + 1);
  REQUIRE(r.status.has_value());
  CHECK(*r.status == sample());
}

TEST_CASE("protocol_versions: an older daemon's response, without the appended fields, decodes to their defaults") {
  json j = envelope_of(sample());
  for (const char* key : {"reload_failures", "reload_failed_unix_ns", "reload_error", "connections", "max_connections",
                          "open_files_limit", "connections_dropped", "connections_evicted", "accept_failures"}) {
    REQUIRE(j["result"]["daemon"].contains(key));
    j["result"]["daemon"].erase(key);
  }
  j["result"].erase("bridges");
  const proto::Response r = proto::decode_response(j.dump());
  REQUIRE(r.status.has_value());
  proto::StatusReport expected = sample();
  expected.daemon.reload_failures = 0;
  expected.daemon.connections = 0;
  expected.bridges.clear();
  CHECK(*r.status == expected);
  // A field of the first release is still required.
  j["result"]["daemon"].erase("pid");
  CHECK_THROWS_AS((void)proto::decode_response(j.dump()), proto::ProtocolError);
}

namespace {
// A report with a field added in version 2, to show the rule for fields newer than the peer.
struct Toy {
  std::uint64_t old_figure = 0;
  std::uint64_t new_figure = 0;
};
namespace wire = proto::wire;
constexpr std::array<wire::Field<Toy>, 2> kToyFields{{
    wire::member<&Toy::old_figure>("old_figure"),
    wire::member<&Toy::new_figure>("new_figure", 2),
}};
}  // namespace

TEST_CASE("protocol_versions: a field newer than the peer's version is neither sent to it nor read from it") {
  const Toy toy{1, 2};
  const json v1 = wire::encode_object<Toy>(kToyFields, toy, 1);
  CHECK(v1.contains("old_figure"));
  CHECK_FALSE(v1.contains("new_figure"));
  const json v2 = wire::encode_object<Toy>(kToyFields, toy, 2);
  CHECK(v2.at("new_figure") == 2);
  // A version-1 peer cannot have meant a version-2 field, whatever it sent under that name.
  const Toy from_v1 = wire::decode_object<Toy>(kToyFields, v2, 1, "toy");
  CHECK(from_v1.old_figure == 1);
  CHECK(from_v1.new_figure == 0);
  CHECK(wire::decode_object<Toy>(kToyFields, v2, 2, "toy").new_figure == 2);
  // A version-2 peer must send it.
  CHECK_THROWS_AS((void)wire::decode_object<Toy>(kToyFields, v1, 2, "toy"), proto::ProtocolError);
}
