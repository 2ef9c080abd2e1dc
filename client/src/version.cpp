#include "stella/version.hpp"

namespace stella {
std::string_view version() noexcept { return STELLA_VERSION_STRING; }
}  // namespace stella
