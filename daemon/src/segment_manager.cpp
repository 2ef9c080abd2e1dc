#include "stella/daemon/segment_manager.hpp"

#include <spdlog/spdlog.h>

#include "platform/mappers.hpp"
#include "stella/common/blob.hpp"
#include "stella/common/error.hpp"
#include "stella/common/platform/shm.hpp"

namespace stella::daemon {

std::string_view to_string(SegmentState state) noexcept {
  switch (state) {
    case SegmentState::live: return "live";
    case SegmentState::draining: return "draining";
    case SegmentState::refused: return "refused";
    case SegmentState::missing: return "missing";
  }
  return "?";
}

ring::RingParams ring_params(const config::SegmentConfig& c) {
  ring::RingParams p;
  p.capacity = c.capacity;
  p.max_readers = c.max_readers;
  p.max_writers = c.max_writers;
  p.behavior = c.mode == config::RingMode::block ? ring::WriteBehavior::block : ring::WriteBehavior::overwrite;
  p.schema = c.schema;
  return p;
}

namespace {

std::string mode_text(std::uint32_t mode) { return config::format_mode(mode); }

// Why the segment `seg` (just opened) cannot serve as `c`, or "" when it can.
std::string incompatibility_of_params(const Segment& seg, const config::SegmentConfig& c);

std::string incompatibility(const Segment& seg, const config::SegmentConfig& c) {
  if (seg.schema() != c.schema) {
    const auto tag = [](std::string_view t) { return t.empty() ? std::string("none") : "\"" + std::string(t) + "\""; };
    const std::string why = "schema is " + tag(seg.schema()) + ", the config says " + tag(c.schema);
    const std::string rest = incompatibility_of_params(seg, c);
    return rest.empty() ? why : why + "; " + rest;
  }
  return incompatibility_of_params(seg, c);
}

std::string incompatibility_of_params(const Segment& seg, const config::SegmentConfig& c) {
  const SegmentHeader& h = seg.header();
  if (c.kind == config::SegmentKind::ring) {
    const ring::RingParams want = ring_params(c);
    std::string why;
    auto differs = [&](const char* what, std::uint64_t found, std::uint64_t wanted, const std::string& f,
                       const std::string& w) {
      if (found == wanted) return;
      if (!why.empty()) why += "; ";
      why += std::string(what) + " is " + f + ", the config says " + w;
    };
    differs("capacity", h.params[0], want.capacity, config::format_size(h.params[0]), config::format_size(want.capacity));
    differs("max_readers", h.params[1], want.max_readers, std::to_string(h.params[1]), std::to_string(want.max_readers));
    differs("max_writers", h.params[2], want.max_writers, std::to_string(h.params[2]), std::to_string(want.max_writers));
    const auto behavior_name = [](std::uint64_t b) { return std::string(b == 1 ? "block" : "overwrite"); };
    differs("mode", h.params[3], static_cast<std::uint64_t>(want.behavior), behavior_name(h.params[3]),
            behavior_name(static_cast<std::uint64_t>(want.behavior)));
    return why;
  }
  if (h.params[kBlobParamCapacity] != c.capacity) {
    return "capacity is " + config::format_size(h.params[kBlobParamCapacity]) + ", the config says " +
           config::format_size(c.capacity);
  }
  return {};
}

// Why the existing object named like `c` belongs to someone stellad must not trust, or ""
// when it is ours (owned by stellad's uid or the configured owner).
// `opened`: the object as opened (fstat), so the check holds for exactly what is mapped;
// without it, by name (lstat), before anything is opened.
std::string foreign_owner(const config::SegmentConfig& c, const platform::MappedObject* opened = nullptr) {
  const std::optional<platform::ObjectAttributes> found =
      opened != nullptr ? std::optional(opened->attributes()) : platform::MappedObject::stat(c.name);
  if (!found) return {};
  const std::uint32_t me = platform::effective_user_id();
  if (found->uid == me || (c.owner && found->uid == c.owner->id)) return {};
  return "is owned by " + platform::describe_user(found->uid) + ", not by stellad's " + platform::describe_user(me) +
         (c.owner ? " or the configured owner " + c.owner->name : std::string()) +
         ": refusing to adopt it (whoever created it keeps write access to it)";
}

// Applies owner/group/mode to an adopted segment when they differ; logs what changed.
void apply_permissions(ManagedSegment& m, const char* when) {
  platform::MappedObject& obj = m.segment.object();
  const platform::Permissions want = m.config.platform_permissions();
  const platform::ObjectAttributes have = obj.attributes();
  const bool mode_differs = have.mode != want.mode;
  const bool uid_differs = want.uid && *want.uid != have.uid;
  const bool gid_differs = want.gid && *want.gid != have.gid;
  // The reader/writer group ACL entries are not in the attributes: applied every time.
  const bool groups = want.reader_gid || want.writer_gid;
  if (!mode_differs && !uid_differs && !gid_differs && !groups) return;
  obj.apply_permissions(want);
  spdlog::info("segment '{}': {}: permissions {} uid {} gid {} -> {} uid {} gid {}", m.config.name, when,
               mode_text(have.mode), have.uid, have.gid, mode_text(want.mode), want.uid.value_or(have.uid),
               want.gid.value_or(have.gid));
}

}  // namespace

SegmentManager::~SegmentManager() = default;

EnsureOutcome SegmentManager::ensure(const config::SegmentConfig& config) {
  std::lock_guard lock(mutex_);
  return ensure_locked(config);
}

EnsureOutcome SegmentManager::ensure_locked(const config::SegmentConfig& c) {
  if (auto it = segments_.find(c.name); it != segments_.end()) {
    ManagedSegment& m = *it->second;
    if (m.state == SegmentState::draining) {
      // Back in the config before it was unlinked: keep it if it still fits.
      if (const std::string why = incompatibility(m.segment, c); why.empty()) {
        m.config = c;
        m.state = SegmentState::live;
        m.detail.clear();
        apply_permissions(m, "back in the config");
        spdlog::info("segment '{}': back in the config, no longer draining", c.name);
        return EnsureOutcome::adopted;
      }
    }
    if (m.state != SegmentState::refused && m.state != SegmentState::missing) return EnsureOutcome::already_managed;
    segments_.erase(it);  // a refused or missing one is looked at afresh
  }

  auto m = std::make_unique<ManagedSegment>();
  m->config = c;
  const bool ring = c.kind == config::SegmentKind::ring;
  const SegmentKind kind = ring ? SegmentKind::ring : SegmentKind::blob;
  bool created = false;
  bool made = false;  // the object exists because we just created it
  try {
    if (ring) {
      m->segment = ring::create_segment(c.name, ring_params(c), c.platform_permissions());
      made = true;
      m->view = ring::attach(m->segment);
    } else {
      // Create it the way SharedMemory does, then hold our own read-write mapping. The
      // creator stays open until ours is: a Windows mapping dies with its last handle.
      const auto creator = BlobSegment::create(c.name, c.capacity, c.platform_permissions(), c.schema);
      made = true;
      m->segment = Segment::open(c.name, SegmentKind::blob, platform::Access::read_write);
    }
    created = true;
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    if (made) {
      // Created, then failed: take back what we made, so that a failure leaves nothing.
      m->view = {};
      m->segment = Segment{};
      try {
        platform::MappedObject::unlink(c.name);
      } catch (const std::exception& unlink_error) {
        spdlog::error("segment '{}': cannot remove it after a failed creation: {}", c.name, unlink_error.what());
      }
      throw;
    }
    if (error == nullptr || error->code() != Errc::already_exists) throw;
  }

  if (!created) {
    // Adopt: open and validate what exists; never recreate it (that would lose its data).
    auto refuse = [&](const std::string& why) {
      m->state = SegmentState::refused;
      m->detail = why;
      m->segment = Segment{};
      m->view = {};
      spdlog::error("segment '{}': refused: an existing segment of this name {}; it is left as it is (remove it, "
                    "or change the config to match, then reload)",
                    c.name, why);
      segments_[c.name] = std::move(m);
      return EnsureOutcome::refused;
    };
    // Never adopt another user's object: whoever created it keeps its mapping and can
    // write or truncate it at will (a squatted name). Checked before opening it.
    if (const std::string why = foreign_owner(c); !why.empty()) return refuse(why);
    try {
      m->segment = Segment::open(c.name, kind, platform::Access::read_write);
    } catch (const Error& e) {
      switch (e.code()) {
        case Errc::permission_denied:
          return refuse(std::string("cannot be opened: ") + e.what());
        case Errc::wrong_kind:
          return refuse(std::string("is not a ") + (ring ? "ring" : "blob") + " (" + e.what() + ")");
        case Errc::truncated:
        case Errc::bad_magic:
        case Errc::version_mismatch:
        case Errc::corrupt:
          return refuse(std::string("cannot be adopted: ") + e.what());
        default:
          throw;
      }
    }
    if (const std::string why = foreign_owner(c, &m->segment.object()); !why.empty()) return refuse(why);
    if (const std::string why = incompatibility(m->segment, c); !why.empty()) {
      return refuse("is incompatible with the config: " + why);
    }
    if (ring) {
      try {
        m->view = ring::attach(m->segment);
      } catch (const Error& e) {
        return refuse(std::string("cannot be adopted: ") + e.what());
      }
    }
    m->adopted = true;
    try {
      apply_permissions(*m, "adopted");
    } catch (const Error& e) {
      return refuse(std::string("cannot be given the configured owner, group and mode: ") + e.what());
    }
    spdlog::info("segment '{}': adopted the existing {} ({}, {})", c.name, config::to_string(c.kind),
                 config::format_size(c.capacity), mode_text(m->segment.object().attributes().mode));
  } else {
    spdlog::info("segment '{}': created {} ({}{}, mode {})", c.name, config::to_string(c.kind),
                 config::format_size(c.capacity), ring ? std::string(", ") + std::string(config::to_string(c.mode)) : "",
                 mode_text(c.permissions));
  }
  segments_[c.name] = std::move(m);
  return created ? EnsureOutcome::created : EnsureOutcome::adopted;
}

ReloadSummary SegmentManager::reload(const std::vector<config::SegmentConfig>& proposed_segments) {
  std::lock_guard lock(mutex_);
  ReloadSummary out;
  config::Config live;
  for (const auto& [name, m] : segments_) {
    if (m->state == SegmentState::live) live.segments.push_back(m->config);
  }
  config::Config proposed;
  proposed.segments = proposed_segments;
  const config::ReloadPlan plan = config::plan_reload(live, proposed);

  // Segments refused earlier and now gone from the config: forget them (they were never ours).
  for (auto it = segments_.begin(); it != segments_.end();) {
    const SegmentState state = it->second->state;
    if ((state == SegmentState::refused || state == SegmentState::missing) && proposed.find(it->first) == nullptr) {
      spdlog::info("segment '{}': no longer in the config; it was {} and is left as it is", it->first,
                   to_string(state));
      it = segments_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& name : plan.added) {
    const config::SegmentConfig& c = *proposed.find(name);
    try {
      const EnsureOutcome o = ensure_locked(c);
      if (o == EnsureOutcome::refused) {
        out.refused.push_back(name);
      } else {
        out.added.push_back(name);
      }
    } catch (const std::exception& e) {
      spdlog::error("segment '{}': reload: cannot create it: {}", name, e.what());
      // Configured but absent: status lists it as missing, with the reason; a later reload
      // tries again.
      auto missing = std::make_unique<ManagedSegment>();
      missing->config = c;
      missing->state = SegmentState::missing;
      missing->detail = std::string("cannot create it: ") + e.what();
      segments_[name] = std::move(missing);
      out.failed.push_back(name + ": " + e.what());
    }
  }
  for (const std::string& name : plan.removed) {
    ManagedSegment& m = *segments_.at(name);
    out.removed.push_back(name);
    if (m.config.remove == config::RemovePolicy::immediately) {
      unlink_locked(name, "removed from the config (remove = \"immediately\")");
    } else {
      m.state = SegmentState::draining;
      m.detail = "removed from the config; unlinked once no process uses it";
      spdlog::info("segment '{}': removed from the config; it will be unlinked once no process uses it", name);
    }
  }
  for (const std::string& name : plan.updated) {
    ManagedSegment& m = *segments_.at(name);
    m.config = *proposed.find(name);
    try {
      apply_permissions(m, "reload");
    } catch (const std::exception& e) {
      spdlog::error("segment '{}': reload: cannot apply the new permissions: {}", name, e.what());
    }
    spdlog::info("segment '{}': reload: settings updated in place", name);
    out.updated.push_back(name);
  }
  for (const config::ReloadPlan::Refused& r : plan.refused) {
    spdlog::error("segment '{}': reload: change refused, the live segment is kept as it is: {}", r.name, r.reason);
    ManagedSegment& m = *segments_.at(r.name);
    m.detail = "reload refused: " + r.reason;
    out.refused.push_back(r.name);
  }
  for (const std::string& name : plan.unchanged) {
    // A segment refused earlier with the same config: clear its note only if now fine.
    ManagedSegment& m = *segments_.at(name);
    if (m.state == SegmentState::live && m.detail.rfind("reload refused", 0) == 0) m.detail.clear();
  }
  return out;
}

void SegmentManager::unlink_locked(const std::string& name, const char* why) {
  auto it = segments_.find(name);
  if (it == segments_.end()) return;
  try {
    platform::MappedObject::unlink(name);
    spdlog::info("segment '{}': unlinked: {}", name, why);
  } catch (const std::exception& e) {
    spdlog::error("segment '{}': cannot unlink it: {}", name, e.what());
  }
  segments_.erase(it);
}

bool SegmentManager::in_use_locked(ManagedSegment& m) const {
  if (m.is_ring()) {
    const ring::RingStatus s = ring::status(m.view);
    return !s.readers.empty() || !s.writers.empty();
  }
  return sys::processes_mapping(m.config.name) > 0;
}

std::vector<std::string> SegmentManager::drain_unused() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, m] : segments_) {
    if (m->state == SegmentState::draining && !in_use_locked(*m)) names.push_back(name);
  }
  for (const std::string& name : names) unlink_locked(name, "removed from the config and no longer used");
  return names;
}

void SegmentManager::remove_all() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, m] : segments_) {
    if (m->state == SegmentState::live || m->state == SegmentState::draining) names.push_back(name);
  }
  for (const std::string& name : names) unlink_locked(name, "remove_on_exit");
  segments_.clear();
}

void SegmentManager::remove_created(const std::vector<std::string>& names) {
  std::lock_guard lock(mutex_);
  for (const std::string& name : names) {
    auto it = segments_.find(name);
    if (it == segments_.end() || it->second->adopted || !it->second->mapped()) continue;
    unlink_locked(name, "stellad failed to start; it created this segment during that run");
  }
}

void SegmentManager::for_each_ring(const std::function<void(ManagedSegment&)>& fn) {
  std::lock_guard lock(mutex_);
  for (auto& [name, m] : segments_) {
    if (m->is_ring() && m->mapped() && m->state != SegmentState::refused) fn(*m);
  }
}

std::vector<protocol::SegmentReport> SegmentManager::report(const config::DaemonConfig& daemon) const {
  std::lock_guard lock(mutex_);
  std::vector<protocol::SegmentReport> out;
  for (const auto& [name, mp] : segments_) {
    ManagedSegment& m = *mp;  // attributes() needs the non-const object; nothing is changed
    protocol::SegmentReport r;
    r.name = name;
    r.kind = std::string(config::to_string(m.config.kind));
    r.state = std::string(to_string(m.state));
    r.detail = m.detail;
    r.capacity = m.config.capacity;
    r.daemon_recoveries = m.daemon_recoveries;
    if (!m.mapped()) {
      out.push_back(std::move(r));
      continue;
    }
    if (m.state == SegmentState::live && !platform::MappedObject::exists(name)) {
      // Unlinked behind our back: processes that map it go on, but no new one can open it.
      r.state = std::string(to_string(SegmentState::missing));
      r.detail = "it no longer exists (unlinked by another process while stellad held it): processes that map it "
                 "go on, new ones cannot open it; restart stellad to create it again";
    }
    try {
      const platform::ObjectAttributes a = m.segment.object().attributes();
      r.permissions = a.mode;
      r.uid = a.uid;
      r.gid = a.gid;
    } catch (const std::exception&) {
      // fstat on an fd we hold does not fail in practice; report zeros if it does.
    }
    if (m.is_ring()) {
      const ring::RingStatus s = ring::status(m.view);
      r.mode = s.behavior == ring::WriteBehavior::block ? "block" : "overwrite";
      r.capacity = s.capacity;
      r.max_readers = m.view.geo.max_readers;  // as read once at attach, never re-read
      r.max_writers = m.view.geo.max_writers;
      r.stalls = m.stalls;
      r.write_position = s.tail;
      r.oldest_position = s.head;
      r.next_sequence = s.next_seq;
      r.lag_warning_bytes = m.config.effective_lag_warning(daemon).bytes_for(s.capacity);
      for (const ring::WriterInfo& w : s.writers) r.writers.push_back({w.slot, w.pid, w.messages_written});
      for (const ring::ReaderInfo& x : s.readers) {
        protocol::ReaderReport rr;
        rr.slot = x.slot;
        rr.pid = x.pid;
        rr.cursor = x.cursor;
        rr.lag_bytes = x.lag_bytes;
        rr.messages_read = x.messages_read;
        rr.messages_lost = x.messages_lost;
        rr.evicted = x.evicted;
        rr.lagging = x.lag_bytes > r.lag_warning_bytes;
        r.readers.push_back(rr);
      }
      r.counters = {s.records_repaired, 0, s.readers_reaped, s.writers_reaped, s.readers_evicted};
      // relaxed: a status figure, no ordering with anything else.
      r.last_recovery_unix_ns = m.view.control->last_recovery_unix_ns.load(std::memory_order_relaxed);
    } else {
      const auto* area = reinterpret_cast<const BlobArea*>(m.segment.area());
      // acquire: pairs with the writer's release store of `published` (see blob.hpp).
      r.generation = area->control.published.load(std::memory_order_acquire);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<config::SegmentConfig> SegmentManager::live_configs() const {
  std::lock_guard lock(mutex_);
  std::vector<config::SegmentConfig> out;
  for (const auto& [name, m] : segments_) {
    if (m->state == SegmentState::live) out.push_back(m->config);
  }
  return out;
}

std::optional<SegmentState> SegmentManager::state_of(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = segments_.find(name);
  if (it == segments_.end()) return std::nullopt;
  return it->second->state;
}

std::size_t SegmentManager::size() const {
  std::lock_guard lock(mutex_);
  return segments_.size();
}

}  // namespace stella::daemon
