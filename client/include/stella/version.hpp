#pragma once

#include <string_view>

#include "stella/common/export.h"

namespace stella {
/// The library version, "MAJOR.MINOR.PATCH".
[[nodiscard]] STELLA_API std::string_view version() noexcept;
}  // namespace stella
