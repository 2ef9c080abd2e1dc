#include "stella/daemon/reaper.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

#include "stella/config/config.hpp"

namespace stella::daemon {

using Clock = std::chrono::steady_clock;

Reaper::Reaper(SegmentManager& manager, ReaperSettings settings, std::function<void()> after_pass)
    : manager_(manager), after_pass_(std::move(after_pass)), settings_(settings) {}

Reaper::~Reaper() { stop(); }

void Reaper::set_settings(const ReaperSettings& settings) {
  {
    std::lock_guard lock(mutex_);
    settings_ = settings;
  }
  wake_.notify_all();
}

ReaperSettings Reaper::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

Clock::time_point Reaper::last_pass() const noexcept {
  // relaxed: a status figure only.
  return Clock::time_point(Clock::duration(last_pass_ns_.load(std::memory_order_relaxed)));
}

namespace {

// pids of the live (or, for readers, evicted) slots, to name who was reaped.
std::vector<std::uint64_t> reader_pids(const ring::RingStatus& s) {
  std::vector<std::uint64_t> out;
  for (const auto& r : s.readers) out.push_back(r.pid);
  return out;
}
std::vector<std::uint64_t> writer_pids(const ring::RingStatus& s) {
  std::vector<std::uint64_t> out;
  for (const auto& w : s.writers) out.push_back(w.pid);
  return out;
}
std::string gone(const std::vector<std::uint64_t>& before, const std::vector<std::uint64_t>& after) {
  std::string out;
  for (std::uint64_t pid : before) {
    if (std::find(after.begin(), after.end(), pid) != after.end()) continue;
    out += out.empty() ? "pid " : ", ";
    out += std::to_string(pid);
  }
  return out.empty() ? std::string("a process") : out;
}

}  // namespace

void Reaper::reap_ring(ManagedSegment& m, const ReaperSettings& s, ReapTotals& totals) {
  ring::RecoveryOptions options;
  options.evict_stalled_after = s.stall_eviction;

  const ring::RingStatus before = ring::status(m.view);
  const ring::RecoveryReport rep = ring::recover(m.view, options);
  ++totals.rings;
  // What a live process holds up: reported once it has lasted the recovery timeout (the
  // time after which a dead one would have been repaired), so status names it within
  // recovery_timeout + 2 x reap interval.
  std::vector<std::string> stalls;
  for (const ring::Stall& st : m.stall_watch.observe(m.view, Clock::now(), s.recovery_timeout)) {
    stalls.push_back(st.describe());
  }
  if (!stalls.empty() && m.stalls.empty()) spdlog::warn("segment '{}': {}", m.config.name, stalls.front());
  if (stalls.empty() && !m.stalls.empty()) spdlog::info("segment '{}': no longer stalled or stuck", m.config.name);
  m.stalls = std::move(stalls);
  if (!rep.changed()) return;
  ++m.daemon_recoveries;
  totals.repairs.records_repaired += rep.records_repaired;
  totals.repairs.readers_reaped += rep.readers_reaped;
  totals.repairs.writers_reaped += rep.writers_reaped;
  totals.repairs.readers_evicted += rep.readers_evicted;

  const ring::RingStatus after = ring::status(m.view);
  const std::string& name = m.config.name;
  if (rep.records_repaired > 0) {
    spdlog::warn("segment '{}': recovery: repaired {} reservation(s) left unfinished by a dead writer ({}); readers skip "
                 "them",
                 name, rep.records_repaired, gone(writer_pids(before), writer_pids(after)));
  }
  if (rep.writers_reaped > 0) {
    spdlog::info("segment '{}': reaped {} dead writer(s) ({})", name, rep.writers_reaped,
                 gone(writer_pids(before), writer_pids(after)));
  }
  if (rep.readers_reaped > 0) {
    spdlog::info("segment '{}': reaped {} dead reader(s) ({}); their slots are free", name, rep.readers_reaped,
                 gone(reader_pids(before), reader_pids(after)));
  }
  if (rep.readers_evicted > 0) {
    spdlog::warn("segment '{}': evicted {} live reader(s) stalled longer than {}", name, rep.readers_evicted,
                 config::format_duration(s.stall_eviction.value_or(std::chrono::nanoseconds(0))));
  }
}

ReapTotals Reaper::run_once(Clock::time_point /*now: the passes need no clock of their own*/) {
  const ReaperSettings s = settings();
  ReapTotals totals;
  manager_.for_each_ring([&](ManagedSegment& m) {
    try {
      reap_ring(m, s, totals);
    } catch (const std::exception& e) {
      spdlog::error("segment '{}': reaper: {}", m.config.name, e.what());
    }
  });
  try {
    totals.unlinked = static_cast<std::uint32_t>(manager_.drain_unused().size());
  } catch (const std::exception& e) {
    spdlog::error("reaper: draining removed segments: {}", e.what());
  }
  passes_.fetch_add(1, std::memory_order_relaxed);
  last_pass_ns_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  return totals;
}

void Reaper::start() {
  {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stop_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void Reaper::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Reaper::loop() {
  auto next = Clock::now();
  for (;;) {
    run_once(Clock::now());
    if (after_pass_) after_pass_();
    std::unique_lock lock(mutex_);
    next += settings_.interval;
    const auto now = Clock::now();
    if (next < now) next = now;  // a pass overran: no burst of catch-up passes
    if (wake_.wait_until(lock, next, [this] { return stop_; })) return;
  }
}

}  // namespace stella::daemon
