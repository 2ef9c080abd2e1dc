// Asymmetric memory barriers: a rare path (a reader about to sleep) pays for a barrier on
// every CPU that runs a registered process, so the hot path (a writer publishing a record,
// then reading the sleeper count) needs no fence of its own (Linux membarrier(2),
// MEMBARRIER_CMD_GLOBAL_EXPEDITED).
#pragma once

namespace stella::platform {

/// Registers this process so that remote_barrier() run by any process orders this process's
/// memory accesses. Returns true if it will; false where the OS offers no such barrier (then
/// the caller must fence itself). Idempotent and thread-safe; the first call does the work.
[[nodiscard]] bool register_for_remote_barriers() noexcept;

/// Runs a full memory barrier on every CPU currently running a registered process (and
/// this one). Returns false if the OS offers no such barrier.
[[nodiscard]] bool remote_barrier() noexcept;

}  // namespace stella::platform
