// The open-file limit, per platform (posix/limits.cpp: RLIMIT_NOFILE; windows/limits.cpp:
// none applies to named pipes). The health server sizes its connection cap from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace stella::daemon::sys {

/// Raises the soft open-file limit to the hard limit (a no-op where there is none).
/// Returns a line for the log saying what the limit is now (and what it was), or "" where
/// no such limit applies.
std::string raise_open_file_limit();
/// The soft open-file limit now; nullopt where none applies (or it is unlimited).
[[nodiscard]] std::optional<std::uint64_t> open_file_limit() noexcept;

}  // namespace stella::daemon::sys
