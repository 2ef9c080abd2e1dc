// The one name <-> value table of each config enum: the parser, to_string() and stellad's
// command line (`--log-level`) all read these, so no code relies on the order of a list of
// strings matching the order of an enum.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stella/config/config.hpp"

namespace stella::config {

template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

inline constexpr std::array<EnumName<LogLevel>, 7> kLogLevelNames{{{LogLevel::trace, "trace"},
                                                                   {LogLevel::debug, "debug"},
                                                                   {LogLevel::info, "info"},
                                                                   {LogLevel::warn, "warn"},
                                                                   {LogLevel::error, "error"},
                                                                   {LogLevel::critical, "critical"},
                                                                   {LogLevel::off, "off"}}};
inline constexpr std::array<EnumName<SegmentKind>, 2> kSegmentKindNames{
    {{SegmentKind::ring, "ring"}, {SegmentKind::blob, "blob"}}};
inline constexpr std::array<EnumName<RingMode>, 2> kRingModeNames{
    {{RingMode::overwrite, "overwrite"}, {RingMode::block, "block"}}};
inline constexpr std::array<EnumName<RemovePolicy>, 2> kRemovePolicyNames{
    {{RemovePolicy::when_unused, "when-unused"}, {RemovePolicy::immediately, "immediately"}}};
inline constexpr std::array<EnumName<BridgeDirection>, 2> kBridgeDirectionNames{
    {{BridgeDirection::out, "out"}, {BridgeDirection::in, "in"}}};
inline constexpr std::array<EnumName<BridgeStart>, 2> kBridgeStartNames{
    {{BridgeStart::oldest, "oldest"}, {BridgeStart::latest, "latest"}}};

// The table of an enum, found by overload on a value of it (enum_names(LogLevel{})).
constexpr std::span<const EnumName<LogLevel>> enum_names(LogLevel) { return kLogLevelNames; }
constexpr std::span<const EnumName<SegmentKind>> enum_names(SegmentKind) { return kSegmentKindNames; }
constexpr std::span<const EnumName<RingMode>> enum_names(RingMode) { return kRingModeNames; }
constexpr std::span<const EnumName<RemovePolicy>> enum_names(RemovePolicy) { return kRemovePolicyNames; }
constexpr std::span<const EnumName<BridgeDirection>> enum_names(BridgeDirection) { return kBridgeDirectionNames; }
constexpr std::span<const EnumName<BridgeStart>> enum_names(BridgeStart) { return kBridgeStartNames; }

/// The name of `value` in its table ("?" for a value outside it).
template <class E>
[[nodiscard]] constexpr std::string_view enum_name(E value) noexcept {
  for (const auto& entry : enum_names(E{})) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

/// The value named `name`, or nullopt.
template <class E>
[[nodiscard]] constexpr std::optional<E> enum_from_name(std::string_view name) noexcept {
  for (const auto& entry : enum_names(E{})) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

/// Every name of E, in table order (for "one of ..." messages and CLI11's IsMember).
template <class E>
[[nodiscard]] std::vector<std::string> enum_name_list() {
  std::vector<std::string> out;
  for (const auto& entry : enum_names(E{})) out.emplace_back(entry.name);
  return out;
}

}  // namespace stella::config
