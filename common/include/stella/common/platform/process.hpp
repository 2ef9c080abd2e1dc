// Process identity and liveness that PID reuse cannot fool.
#pragma once

#include <cstdint>
#include <optional>

namespace stella::platform {

/// A process is its pid plus its start time (Linux: clock ticks since boot from
/// /proc/<pid>/stat; Windows: the creation FILETIME). A recycled pid has another start
/// time, so it never passes for the process that died.
struct ProcessIdentity {
  std::uint64_t pid = 0;
  std::uint64_t start_time = 0;
  friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

/// The identity of the calling process (cached after the first call; refreshed after fork).
[[nodiscard]] ProcessIdentity current_process();

/// The start time of `pid`, or nothing if no such process exists.
[[nodiscard]] std::optional<std::uint64_t> process_start_time(std::uint64_t pid);

/// True while the process that `id` names is running (zombies count as dead).
[[nodiscard]] bool is_alive(const ProcessIdentity& id);

}  // namespace stella::platform
