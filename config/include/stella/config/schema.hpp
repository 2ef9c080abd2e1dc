// The schema as data: every key of every table, declared once (config/src/*_keys.cpp),
// with the type and default docs/configuration.md shows, where it applies and what a
// SIGHUP reload does with a change of it. The readers, equality (same_settings,
// BridgeConfig's operator==), reload planning (incompatible_change) and a test of the docs'
// key tables all follow from these declarations.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace stella::config {

enum class Section { top, daemon, segment, bridge };

/// Where a key applies (bits; none: everywhere in its table).
enum Applies : unsigned {
  kAppliesAlways = 0,
  kAppliesRings = 1U << 0,      // [[segment]] with kind = "ring"
  kAppliesOut = 1U << 1,        // [[bridge]] with direction = "out"
  kAppliesIn = 1U << 2,         // [[bridge]] with direction = "in"
  kAppliesJetStream = 1U << 3,  // [[bridge]] with jetstream = true
};

/// What a SIGHUP reload does with a changed value.
enum class ReloadRule {
  applied,   // applied to the running daemon / the live segment in place
  recreate,  // fixed at creation: the change is refused for a live segment (incompatible_change)
  restart,   // takes effect at the next start only
  restart_bridge,  // the bridge is stopped and started again with the new settings
};

struct KeyInfo {
  std::string_view name;
  std::string_view type;          // as docs/configuration.md's "type" column writes it
  std::string_view default_text;  // as its "default" column writes it
  unsigned applies = kAppliesAlways;
  ReloadRule reload = ReloadRule::applied;
};

/// The keys of a table, in declaration order.
[[nodiscard]] std::span<const KeyInfo> schema_keys(Section section);
/// The docs' "applies to" column of a [[segment]] or [[bridge]] key: "both", "ring", "out",
/// "in", "JetStream", "out, JetStream", "in, JetStream".
[[nodiscard]] std::string applies_text(unsigned applies);

}  // namespace stella::config
