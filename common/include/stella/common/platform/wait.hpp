// Cross-process wait/wake on a 32-bit word in shared memory: a futex on Linux (never
// FUTEX_PRIVATE, the word is shared between processes). Callers spin briefly first and
// wake only when someone sleeps: a FUTEX_WAKE with no sleeper still costs a syscall.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace stella::platform {

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

enum class WaitResult {
  woken,          // woken, or spurious: the caller re-checks its condition
  value_changed,  // the word no longer held `expected` when the call started
  timed_out,
};

inline constexpr std::uint32_t kAllChannels = 0xFFFFFFFFu;

/// Sleeps while `word == expected`, at most `timeout` (forever if nullopt). `channels` is
/// a bit mask: a wake with a disjoint mask does not wake this sleeper (FUTEX_WAIT_BITSET on
/// Linux; a platform without it may wake every sleeper, callers re-check anyway).
WaitResult wait_on_address(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout, std::uint32_t channels = kAllChannels);

/// Wakes up to `count` sleepers on `word` (all when count <= 0) whose channel mask
/// intersects `channels`. Returns how many woke.
int wake_on_address(std::atomic<std::uint32_t>& word, int count = 0, std::uint32_t channels = kAllChannels);

/// Number of wake calls made by this process (benchmarks check that writers never wake
/// when nobody sleeps).
[[nodiscard]] std::uint64_t wake_calls() noexcept;

}  // namespace stella::platform
