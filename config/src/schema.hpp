// Internals of the schema: the declaration of one key (KeyInfo plus how it is read, compared
// and shown), the section readers' common state, and the tables of the three sections
// (daemon_keys.cpp, segment_keys.cpp, bridge_keys.cpp).
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stella/config/config.hpp"
#include "stella/config/schema.hpp"


namespace stella::config::detail {

class Checker;

/// One key of a section whose in-memory form is `Settings`, read by a `Reader`.
template <class Settings, class Reader>
struct Key {
  KeyInfo info;
  /// Reads the key (also when it is absent: a required key reports that).
  void (*read)(Reader& reader, std::string_view key);
  /// True when a and b agree on this key; nullptr for a key that is not stored.
  bool (*same)(const Settings& a, const Settings& b) = nullptr;
  /// The value as messages write it (only for keys a reload refuses to change).
  std::string (*text)(const Settings& s) = nullptr;
};

template <class>
struct MemberOf;
template <class C, class T>
struct MemberOf<T C::*> {
  using Class = C;
};

/// `same` for a key stored in one member.
template <auto M>
bool same_member(const typename MemberOf<decltype(M)>::Class& a, const typename MemberOf<decltype(M)>::Class& b) {
  return a.*M == b.*M;
}

/// The state every section reader shares: where it reads, what it reported.
struct SectionReader {
  Checker& c;
  const toml::table& t;
  std::string prefix;        // "daemon", "segment[2]", "bridge[0]"
  std::string_view heading;  // "[daemon]", "[[segment]]", "[[bridge]]"

  [[nodiscard]] bool present(std::string_view key) const;
  [[nodiscard]] Location at(std::string_view key) const;
  [[nodiscard]] std::string path(std::string_view key) const;
  /// "missing required key "K" in this [[segment]] (hint)", at the table's header.
  void missing(std::string_view key, std::string_view hint);
};

struct DaemonReader;
struct SegmentReader;
struct BridgeReader;
using DaemonKey = Key<DaemonConfig, DaemonReader>;
using SegmentKey = Key<SegmentConfig, SegmentReader>;
using BridgeKey = Key<BridgeConfig, BridgeReader>;

[[nodiscard]] std::span<const DaemonKey> daemon_keys();
[[nodiscard]] std::span<const SegmentKey> segment_keys();
[[nodiscard]] std::span<const BridgeKey> bridge_keys();

/// The names of a section's keys, in declaration order (for unknown-key reports).
[[nodiscard]] std::span<const std::string_view> key_names(Section section);

/// The section readers: every problem goes to `c`.
[[nodiscard]] DaemonConfig read_daemon(Checker& c, const toml::table& t);
[[nodiscard]] std::optional<SegmentConfig> read_segment(Checker& c, const toml::table& t, std::size_t index);
[[nodiscard]] std::optional<BridgeConfig> read_bridge(Checker& c, const toml::table& t, std::size_t index);

/// NATS name rules (nats_names.cpp): why the text is not one ("" when it is).
[[nodiscard]] std::string subject_problem(std::string_view subject, bool wildcards_allowed);
[[nodiscard]] std::string jetstream_name_problem(std::string_view name);
[[nodiscard]] std::string url_problem(std::string_view url);

}  // namespace stella::config::detail
