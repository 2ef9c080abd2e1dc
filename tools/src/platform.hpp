// The little OS-specific the tool needs (platform/<os>/ has one file per concern, same
// names on every OS, as in common/).
#pragma once

#include <cstdint>
#include <string>

namespace stella::tools {

/// User and group names ("uid 1234" when there is none).
[[nodiscard]] std::string user_name(std::uint32_t uid);
[[nodiscard]] std::string group_name(std::uint32_t gid);

/// SIGINT and SIGTERM set a flag instead of killing the process (so a reader gives its
/// slot back on the way out); a closed stdout is an error on write, not SIGPIPE.
void install_stop_signals();
[[nodiscard]] bool stop_requested() noexcept;

}  // namespace stella::tools
