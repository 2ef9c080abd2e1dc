#pragma once

#include <string_view>

namespace stella {
/// The library version, "MAJOR.MINOR.PATCH".
[[nodiscard]] std::string_view version() noexcept;
}  // namespace stella
