#include "platform/limits.hpp"

namespace stella::daemon::sys {

// Named pipe instances are not file descriptors: no per-process limit to raise.
std::string raise_open_file_limit() { return {}; }
std::optional<std::uint64_t> open_file_limit() noexcept { return std::nullopt; }

}  // namespace stella::daemon::sys
