// Internals of stella::config shared by its translation units.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace stella::config::detail {

/// The candidate closest to `word` when it is close enough to be a likely typo, else "".
[[nodiscard]] std::string closest(std::string_view word, std::span<const std::string_view> candidates);

/// Result of looking up a user or group name on this host.
struct AccountLookup {
  std::optional<std::uint32_t> id;  // set when found
  std::string error;                // set when the lookup itself failed (not "no such name")
};
[[nodiscard]] AccountLookup lookup_group(const std::string& name);
[[nodiscard]] AccountLookup lookup_user(const std::string& name);

}  // namespace stella::config::detail
