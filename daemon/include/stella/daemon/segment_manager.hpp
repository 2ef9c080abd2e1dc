// SegmentManager: owns the segments a config declares.
//
// ensure() creates a segment with the configured owner, group and mode, or ADOPTS one that
// already exists when it is compatible (same kind, capacity, ring mode, reader and writer
// slots): a restarted stellad maps the live segment again and nothing is lost. An existing
// segment that is incompatible, corrupt or of another layout version is never recreated:
// it is refused, logged, reported by status, and left as it is for an operator to decide.
//
// Thread safety: every public member locks the manager's mutex. The reaper thread, the
// health server and a SIGHUP reload may call it concurrently; each holds the lock only for
// in-memory work and recovery passes, never for socket I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "stella/common/ring.hpp"
#include "stella/common/segment.hpp"
#include "stella/config/config.hpp"
#include "stella/daemon/protocol.hpp"

namespace stella::daemon {

enum class SegmentState {
  live,      // in the config, mapped, reaped
  draining,  // removed from the config: reaped, unlinked once no process uses it
  refused,   // an existing segment incompatible with the config: left alone
  missing,   // in the config, but creating it failed (a reload): not mapped, retried on reload
};
[[nodiscard]] std::string_view to_string(SegmentState state) noexcept;

/// One segment as the daemon holds it.
struct ManagedSegment {
  config::SegmentConfig config;
  SegmentState state = SegmentState::live;
  std::string detail;  // why refused; what happened
  Segment segment;     // mapped read-write while live or draining
  ring::RingView view; // rings only
  bool adopted = false;
  // Reaper bookkeeping (touched by the reaper only, under the manager's lock).
  std::uint64_t daemon_recoveries = 0;
  ring::StallWatch stall_watch;     // what live processes hold up, observed pass by pass
  std::vector<std::string> stalls;  // as of the last pass, for status

  [[nodiscard]] bool is_ring() const noexcept { return config.kind == config::SegmentKind::ring; }
  [[nodiscard]] bool mapped() const noexcept { return segment.valid(); }
};

/// What ensure() did.
enum class EnsureOutcome { created, adopted, refused, already_managed };

struct ReloadSummary {
  std::vector<std::string> added, removed, updated, refused;
  std::vector<std::string> failed;  // "name: why" of each segment that could not be created (now missing)
};

class SegmentManager {
 public:
  SegmentManager() = default;
  SegmentManager(const SegmentManager&) = delete;
  SegmentManager& operator=(const SegmentManager&) = delete;
  ~SegmentManager();

  /// Creates or adopts `config`. Throws stella::Error when it can be neither created nor
  /// opened for a reason other than incompatibility (no space, permission denied, ...);
  /// then nothing is left behind (an object it created before failing is unlinked).
  EnsureOutcome ensure(const config::SegmentConfig& config);

  /// Applies a reload from the segments held now to `proposed` (config::plan_reload): new
  /// segments are created, removed ones are unlinked at once (remove = "immediately") or
  /// drained, compatible changes (permissions, owner, group, lag warning, remove policy)
  /// are applied in place and incompatible ones refused and logged, the old segment kept.
  ReloadSummary reload(const std::vector<config::SegmentConfig>& proposed);

  /// Unlinks every draining segment that no process uses any more (rings: no live reader
  /// or writer slot; blobs: no other process maps it). Returns their names.
  std::vector<std::string> drain_unused();

  /// Unlinks every segment the daemon holds (remove_on_exit), refused and missing ones excepted.
  void remove_all();
  /// Unlinks those of `names` that this manager created (never adopted ones): what a
  /// failed start takes back.
  void remove_created(const std::vector<std::string>& names);

  /// Runs `fn` on every mapped ring (live or draining), under the lock.
  void for_each_ring(const std::function<void(ManagedSegment&)>& fn);

  /// Status of every segment, in name order. `daemon` gives the default lag warning.
  [[nodiscard]] std::vector<protocol::SegmentReport> report(const config::DaemonConfig& daemon) const;

  /// The configs of the segments held live (what a reload is planned against).
  [[nodiscard]] std::vector<config::SegmentConfig> live_configs() const;
  [[nodiscard]] std::optional<SegmentState> state_of(const std::string& name) const;
  [[nodiscard]] std::size_t size() const;

 private:
  EnsureOutcome ensure_locked(const config::SegmentConfig& config);
  void unlink_locked(const std::string& name, const char* why);
  [[nodiscard]] bool in_use_locked(ManagedSegment& m) const;

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<ManagedSegment>> segments_;
};

/// The ring parameters a segment config asks for.
[[nodiscard]] ring::RingParams ring_params(const config::SegmentConfig& config);

}  // namespace stella::daemon
