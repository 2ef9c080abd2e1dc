// [[bridge]]: its keys, declared once, and its reader. Which keys apply depends on the
// direction and on jetstream (KeyInfo::applies); a key that does not apply is an error,
// not a silently ignored setting.
#include "checker.hpp"
#include "stella/common/names.hpp"

namespace stella::config::detail {

struct BridgeReader : SectionReader {
  BridgeConfig b;
  std::optional<BridgeDirection> direction;  // as read (nullopt: missing or bad)
};

namespace {

using R = BridgeReader;

// A string that must satisfy `rule`; "bad <what> "x": why" otherwise.
template <class Rule>
std::optional<std::string> checked_string(R& r, std::string_view key, std::string_view what, Rule rule) {
  auto v = r.c.string(r.t, r.prefix, key);
  if (!v) return std::nullopt;
  if (std::string why = rule(*v); !why.empty()) {
    r.c.add(r.at(key), r.path(key), std::string(what) + " " + in_quotes(*v) + ": " + why);
    return std::nullopt;
  }
  return v;
}

void read_name(R& r, std::string_view key) {
  if (!r.present(key)) return;  // the default follows from segment and direction (read_bridge)
  if (auto v = checked_string(r, key, "invalid bridge name", segment_name_problem)) r.b.name = *v;
}

void read_segment(R& r, std::string_view key) {
  if (!r.present(key)) return r.missing(key, "the ring to bridge, e.g. segment = \"telemetry\"");
  if (auto v = checked_string(r, key, "invalid segment name", segment_name_problem)) r.b.segment = *v;
}

void read_direction(R& r, std::string_view key) {
  if (!r.present(key)) {
    return r.missing(key, "\"out\" forwards the ring to NATS, \"in\" writes NATS messages into the ring");
  }
  r.direction = r.c.choice_of<BridgeDirection>(r.t, r.prefix, key);
  if (r.direction) r.b.direction = *r.direction;
}

void read_subject(R& r, std::string_view key) {
  if (!r.present(key)) return r.missing(key, "the NATS subject, e.g. subject = \"stella.telemetry\"");
  const bool wildcards = r.direction == BridgeDirection::in;
  if (auto v = checked_string(r, key, "bad subject", [&](std::string_view s) { return subject_problem(s, wildcards); })) {
    r.b.subject = *v;
  }
}

void read_url(R& r, std::string_view key) {
  const toml::node* node = r.t.get(key);
  if (node == nullptr) return;
  const std::string full = r.path(key);
  std::vector<std::string> urls;
  auto take = [&](const toml::node& n) {
    if (const auto* str = n.as_string()) {
      if (std::string why = url_problem(str->get()); !why.empty()) {
        r.c.add(location_of(n.source()), full, "bad server URL " + in_quotes(str->get()) + ": " + why);
      } else {
        urls.push_back(str->get());
      }
    } else {
      r.c.wrong_type(n, full, "a server URL string such as \"nats://127.0.0.1:4222\"");
    }
  };
  if (const auto* array = node->as_array()) {
    if (array->empty()) r.c.add(location_of(node->source()), full, "the list of servers must not be empty");
    for (const toml::node& n : *array) take(n);
  } else if (node->is_string()) {
    take(*node);
  } else {
    r.c.wrong_type(*node, full, "a server URL string, or an array of them");
  }
  if (!urls.empty()) r.b.urls = std::move(urls);
}

void read_jetstream(R& r, std::string_view key) {
  if (auto v = r.c.boolean(r.t, r.prefix, key)) r.b.jetstream = *v;
}

void read_stream(R& r, std::string_view key) {
  if (!r.present(key)) return r.missing(key, "jetstream = true needs the stream's name, e.g. stream = \"TELEMETRY\"");
  if (auto v = checked_string(r, key, "bad stream name", jetstream_name_problem)) r.b.stream = *v;
}

void read_durable(R& r, std::string_view key) {
  if (!r.present(key)) return;  // the default follows from the name (read_bridge)
  if (auto v = checked_string(r, key, "bad durable consumer name", jetstream_name_problem)) r.b.durable = *v;
}

template <std::uint32_t BridgeConfig::*Member, std::int64_t Max>
void read_count(R& r, std::string_view key) {
  if (auto v = r.c.integer(r.t, r.prefix, key, 1, Max)) r.b.*Member = static_cast<std::uint32_t>(*v);
}

void read_start(R& r, std::string_view key) {
  // With JetStream, starting at the oldest message is safe: what an earlier run already
  // published carries the same msg-id and the stream drops it as a duplicate.
  r.b.start = r.b.jetstream ? BridgeStart::oldest : BridgeStart::latest;
  if (auto v = r.c.choice_of<BridgeStart>(r.t, r.prefix, key)) r.b.start = *v;
}

template <Duration BridgeConfig::*Member>
void read_duration(R& r, std::string_view key) {
  if (auto v = r.c.duration(r.t, r.prefix, key)) r.b.*Member = *v;
}

void read_max_reconnect_wait(R& r, std::string_view key) {
  auto v = r.c.duration(r.t, r.prefix, key);
  if (!v) return;
  r.b.max_reconnect_wait = *v;
  if (r.b.max_reconnect_wait < r.b.reconnect_wait) {
    r.c.add(r.at(key), r.path(key),
            "must not be shorter than reconnect_wait (" + format_duration(r.b.reconnect_wait) + ")");
  }
}

using B = BridgeConfig;
using enum ReloadRule;
constexpr unsigned kOutJs = kAppliesOut | kAppliesJetStream;
constexpr unsigned kInJs = kAppliesIn | kAppliesJetStream;
// The order is the order of "did you mean" candidates.
const std::array<BridgeKey, 16> kKeys{{
    {{"name", "string", "`\"<segment>-<direction>\"`", kAppliesAlways, restart_bridge}, read_name, same_member<&B::name>},
    {{"segment", "string", "**required**", kAppliesAlways, restart_bridge}, read_segment, same_member<&B::segment>},
    {{"direction", "string", "**required**", kAppliesAlways, restart_bridge}, read_direction,
     same_member<&B::direction>},
    {{"subject", "string", "**required**", kAppliesAlways, restart_bridge}, read_subject, same_member<&B::subject>},
    {{"url", "string or array", "`\"nats://127.0.0.1:4222\"`", kAppliesAlways, restart_bridge}, read_url,
     same_member<&B::urls>},
    {{"jetstream", "boolean", "`false`", kAppliesAlways, restart_bridge}, read_jetstream, same_member<&B::jetstream>},
    {{"stream", "string", "**required with JetStream**", kAppliesJetStream, restart_bridge}, read_stream,
     same_member<&B::stream>},
    {{"replicas", "integer", "`1`", kAppliesJetStream, restart_bridge}, read_count<&B::replicas, 5>,
     same_member<&B::replicas>},
    {{"durable", "string", "`\"stella-<name>\"` (dots as `_`)", kInJs, restart_bridge}, read_durable,
     same_member<&B::durable>},
    {{"start", "string", "`\"oldest\"` with JetStream, else `\"latest\"`", kAppliesOut, restart_bridge}, read_start,
     same_member<&B::start>},
    {{"ack_timeout", "duration", "`\"5s\"`", kOutJs, restart_bridge}, read_duration<&B::ack_timeout>,
     same_member<&B::ack_timeout>},
    {{"max_in_flight", "integer", "`1024`", kAppliesOut, restart_bridge}, read_count<&B::max_in_flight, 1 << 20>,
     same_member<&B::max_in_flight>},
    {{"batch", "integer", "`256`", kInJs, restart_bridge}, read_count<&B::batch, 65536>, same_member<&B::batch>},
    {{"write_timeout", "duration", "`\"1s\"`", kAppliesIn, restart_bridge}, read_duration<&B::write_timeout>,
     same_member<&B::write_timeout>},
    {{"reconnect_wait", "duration", "`\"250ms\"`", kAppliesAlways, restart_bridge}, read_duration<&B::reconnect_wait>,
     same_member<&B::reconnect_wait>},
    {{"max_reconnect_wait", "duration", "`\"5s\"`", kAppliesAlways, restart_bridge}, read_max_reconnect_wait,
     same_member<&B::max_reconnect_wait>},
}};

// Whether `key` applies to this bridge; reports it when it is given but does not.
bool applies(R& r, const KeyInfo& key) {
  const unsigned directions = key.applies & (kAppliesOut | kAppliesIn);
  if (directions != 0 && r.direction) {
    const bool out = *r.direction == BridgeDirection::out;
    if ((directions & (out ? kAppliesOut : kAppliesIn)) == 0) {
      if (r.present(key.name)) {
        r.c.add(r.at(key.name), r.path(key.name),
                in_quotes(key.name) + " applies to " + (out ? "in" : "out") + "-bridges only; this one has direction = \"" +
                    std::string(to_string(*r.direction)) + "\"");
      }
      return false;
    }
  }
  if ((key.applies & kAppliesJetStream) != 0 && !r.b.jetstream) {
    if (r.present(key.name)) r.c.add(r.at(key.name), r.path(key.name), in_quotes(key.name) + " applies with jetstream = true only");
    return false;
  }
  // A direction-specific key of a bridge whose direction is unknown (already reported).
  return directions == 0 || r.direction.has_value();
}

}  // namespace

std::span<const BridgeKey> bridge_keys() { return kKeys; }

std::optional<BridgeConfig> read_bridge(Checker& c, const toml::table& t, std::size_t index) {
  BridgeReader r{{c, t, "bridge[" + std::to_string(index) + "]", "[[bridge]]"}, {}, {}};
  c.unknown_keys(t, r.prefix, key_names(Section::bridge), "[[bridge]]");
  const std::size_t before = c.count();
  r.b.location = location_of(t.source());
  for (const BridgeKey& key : kKeys) {
    if (applies(r, key.info)) key.read(r, key.info.name);
  }
  // Defaults that follow from other keys.
  if (!r.present("name") && !r.b.segment.empty() && r.direction) {
    r.b.name = r.b.segment + "-" + std::string(to_string(*r.direction));
  }
  if (r.direction == BridgeDirection::in && r.b.jetstream && !r.present("durable")) {
    // Consumer names may not contain '.', which segment names may.
    r.b.durable = "stella-" + r.b.name;
    std::replace(r.b.durable.begin(), r.b.durable.end(), '.', '_');
  }
  if (c.count() != before) return std::nullopt;
  return std::move(r.b);
}

}  // namespace stella::config::detail
