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

long futex(const void* addr, int op, std::uint32_t val, const timespec* timeout) {
  return ::syscall(SYS_futex, addr, op, val, timeout, nullptr, 0);
}
}  // namespace

WaitResult wait_on_address(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::optional<std::chrono::nanoseconds> timeout) {
  timespec ts{};
  const timespec* tsp = nullptr;
  if (timeout) {
    const auto ns = timeout->count() < 0 ? 0 : timeout->count();
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  if (futex(&word, FUTEX_WAIT, expected, tsp) == 0) return WaitResult::woken;
  switch (errno) {
    case EAGAIN: return WaitResult::value_changed;
    case ETIMEDOUT: return WaitResult::timed_out;
    default: return WaitResult::woken;  // EINTR and friends: the caller re-checks
  }
}

int wake_on_address(std::atomic<std::uint32_t>& word, int count) {
  g_wake_calls.fetch_add(1, std::memory_order_relaxed);  // statistics only
  const long woke = futex(&word, FUTEX_WAKE, static_cast<std::uint32_t>(count <= 0 ? INT_MAX : count), nullptr);
  return woke < 0 ? 0 : static_cast<int>(woke);
}

std::uint64_t wake_calls() noexcept { return g_wake_calls.load(std::memory_order_relaxed); }

}  // namespace stella::platform
