// Which processes map a segment: how stellad tells that a blob segment removed from the
// config is no longer used (rings know their users from their reader and writer slots).
#pragma once

#include <cstddef>
#include <string_view>

namespace stella::daemon::sys {

/// The number of processes other than this one that map the segment `name`, as far as this
/// process may see (Linux: /proc/<pid>/maps of the processes it may read).
[[nodiscard]] std::size_t processes_mapping(std::string_view name);

}  // namespace stella::daemon::sys
