// Segment names: 1-64 characters of [A-Za-z0-9._-], never a path, never "..".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stella {

inline constexpr std::size_t kMaxSegmentNameLength = 64;

/// Empty when `name` is a valid segment name, otherwise why it is not.
[[nodiscard]] std::string segment_name_problem(std::string_view name);

/// Throws Error(Errc::invalid_name) naming the problem.
void validate_segment_name(std::string_view name);

}  // namespace stella
