// Linux futex wait/wake on shared (not private) words.
#include "stella/common/platform/wait.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace stella::platform {

namespace {
std::atomic<std::uint64_t> g_wake_calls{0};

long futex(const void* addr, int op, std::uint32_t val, const timespec* timeout, std::uint32_t bitset) {
  return ::syscall(SYS_futex, addr, op, val, timeout, nullptr, bitset);
}

timespec absolute_monotonic(std::chrono::nanoseconds relative) {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto ns = relative.count() < 0 ? 0 : relative.count();
  long long sec = now.tv_sec + ns / 1'000'000'000;
  long long nsec = now.tv_nsec + ns % 1'000'000'000;
  if (nsec >= 1'000'000'000) {
    ++sec;
    nsec -= 1'000'000'000;
  }
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(nsec);
  return ts;
}
}  // namespace

WaitResult wait_on_address(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout, std::uint32_t channels) {
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline.
  timespec ts{};
  const timespec* tsp = nullptr;
  if (timeout) {
    ts = absolute_monotonic(*timeout);
    tsp = &ts;
  }
  if (futex(&word, FUTEX_WAIT_BITSET, expected, tsp, channels == 0 ? kAllChannels : channels) == 0) {
    return WaitResult::woken;
  }
  switch (errno) {
    case EAGAIN: return WaitResult::value_changed;
    case ETIMEDOUT: return WaitResult::timed_out;
    default: return WaitResult::woken;  // EINTR and friends: the caller re-checks
  }
}

int wake_on_address(std::atomic<std::uint32_t>& word, int count, std::uint32_t channels) {
  g_wake_calls.fetch_add(1, std::memory_order_relaxed);  // statistics only
  const long woke = futex(&word, FUTEX_WAKE_BITSET, static_cast<std::uint32_t>(count <= 0 ? INT_MAX : count), nullptr,
                          channels == 0 ? kAllChannels : channels);
  return woke < 0 ? 0 : static_cast<int>(woke);
}

std::uint64_t wake_calls() noexcept { return g_wake_calls.load(std::memory_order_relaxed); }

}  // namespace stella::platform
