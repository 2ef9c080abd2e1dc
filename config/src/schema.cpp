// The schema's tables as a whole: the top level's keys, each section's list of names, the
// public view (schema.hpp), and the guard that every member of a section's struct is
// declared as a key (so that a new member cannot be left out of equality and reloads).
#include "schema.hpp"

#include <array>
#include <vector>

#include "checker.hpp"

namespace stella::config {

namespace detail {

namespace {

const std::array<KeyInfo, 4> kTopKeys{{
    {"version", "integer", "**required**"},
    {"daemon", "table", "all defaults"},
    {"segment", "array of tables", "none"},
    {"bridge", "array of tables", "none"},
}};

template <class Table>
std::vector<KeyInfo> infos(const Table& keys) {
  std::vector<KeyInfo> out;
  for (const auto& k : keys) out.push_back(k.info);
  return out;
}

const std::vector<KeyInfo>& infos_of(Section section) {
  static const std::vector<KeyInfo> top(kTopKeys.begin(), kTopKeys.end());
  static const std::vector<KeyInfo> daemon = infos(daemon_keys());
  static const std::vector<KeyInfo> segment = infos(segment_keys());
  static const std::vector<KeyInfo> bridge = infos(bridge_keys());
  switch (section) {
    case Section::top: return top;
    case Section::daemon: return daemon;
    case Section::segment: return segment;
    case Section::bridge: return bridge;
  }
  return top;
}

// Every member of a section's struct is a key, except those named here. A member added
// without a key breaks the build here ("N names provided for structured binding"): declare
// it in its section's table (and in docs/configuration.md), then count it here.
[[maybe_unused]] void every_member_is_a_key(const DaemonConfig& d, const SegmentConfig& s, const BridgeConfig& b) {
  // 16 keys; allow_world_writable is only read, never stored.
  [[maybe_unused]] const auto& [d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15] = d;
  // 15 keys + location.
  [[maybe_unused]] const auto& [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16] = s;
  // 16 keys + location.
  [[maybe_unused]] const auto& [b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17] = b;
}

}  // namespace

std::span<const std::string_view> key_names(Section section) {
  static const auto names = [] {
    std::array<std::vector<std::string_view>, 4> out;
    for (Section s : {Section::top, Section::daemon, Section::segment, Section::bridge}) {
      for (const KeyInfo& k : infos_of(s)) out[static_cast<std::size_t>(s)].push_back(k.name);
    }
    return out;
  }();
  return names[static_cast<std::size_t>(section)];
}

bool SectionReader::present(std::string_view key) const { return t.contains(key); }

Location SectionReader::at(std::string_view key) const { return location_of(t.get(key)->source()); }

std::string SectionReader::path(std::string_view key) const { return Checker::path(prefix, key); }

void SectionReader::missing(std::string_view key, std::string_view hint) {
  c.add(location_of(t.source()), path(key),
        "missing required key " + in_quotes(key) + " in this " + std::string(heading) + " (" + std::string(hint) + ")");
}

}  // namespace detail

std::span<const KeyInfo> schema_keys(Section section) { return detail::infos_of(section); }

std::string applies_text(unsigned applies) {
  std::string out;
  if ((applies & kAppliesRings) != 0) out = "ring";
  if ((applies & kAppliesOut) != 0) out = "out";
  if ((applies & kAppliesIn) != 0) out = "in";
  if ((applies & kAppliesJetStream) != 0) out += out.empty() ? "JetStream" : ", JetStream";
  return out.empty() ? "both" : out;
}

}  // namespace stella::config
