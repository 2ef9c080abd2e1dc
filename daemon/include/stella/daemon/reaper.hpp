// Reaper: every reap interval, ring::recover() on every ring the manager holds — the crash
// recovery of DESIGN.md's guarantees 7 and 8, done proactively — then unlinks draining
// segments that are no longer used.
//
// recover() makes dead writers' unfinished reservations skippable (and fills them once
// their space is free) and frees dead readers' and writers' slots on its own (it checks pid
// + start time). Writers reserve wait-free, so there is no writers' turn to watch.
//
// The reaper runs on its own thread, so a slow or hostile status client never delays it.
// run_once() is the whole pass, for tests that drive the reaper without a thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "stella/common/ring.hpp"
#include "stella/daemon/segment_manager.hpp"

namespace stella::daemon {

struct ReaperSettings {
  std::chrono::nanoseconds interval = std::chrono::milliseconds(100);
  std::chrono::nanoseconds recovery_timeout = std::chrono::seconds(1);
  std::optional<std::chrono::nanoseconds> stall_eviction;  // nullopt: never evict
};

/// What one pass did, summed over every ring.
struct ReapTotals {
  ring::RecoveryReport repairs;
  std::uint32_t rings = 0;
  std::uint32_t unlinked = 0;
};

class Reaper {
 public:
  /// `after_pass` runs on the reaper thread after every pass (stellad sends WATCHDOG=1 from it).
  Reaper(SegmentManager& manager, ReaperSettings settings, std::function<void()> after_pass = {});
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  /// One pass over every ring, at time `now` (steady clock).
  ReapTotals run_once(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  /// Starts the thread: a pass at once, then one every interval.
  void start();
  /// Stops and joins the thread (idempotent).
  void stop();
  /// Takes effect from the next pass (a reload).
  void set_settings(const ReaperSettings& settings);
  [[nodiscard]] ReaperSettings settings() const;

  [[nodiscard]] std::uint64_t passes() const noexcept { return passes_.load(std::memory_order_relaxed); }
  /// Steady-clock time of the end of the last pass (epoch when none yet).
  [[nodiscard]] std::chrono::steady_clock::time_point last_pass() const noexcept;

 private:
  void loop();
  void reap_ring(ManagedSegment& m, const ReaperSettings& s, ReapTotals& totals);

  SegmentManager& manager_;
  std::function<void()> after_pass_;
  mutable std::mutex mutex_;  // guards settings_ and stop_
  std::condition_variable wake_;
  ReaperSettings settings_;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> passes_{0};
  std::atomic<std::int64_t> last_pass_ns_{0};
};

}  // namespace stella::daemon
