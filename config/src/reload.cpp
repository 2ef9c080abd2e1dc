// Reload planning and equality, both from the key tables: a key whose ReloadRule is
// `recreate` makes a change incompatible; every stored key takes part in equality.
#include "schema.hpp"

namespace stella::config {

namespace {

template <class Settings, class Table>
bool all_same(const Table& keys, const Settings& a, const Settings& b) {
  for (const auto& key : keys) {
    if (key.same != nullptr && !key.same(a, b)) return false;
  }
  return true;
}

}  // namespace

bool operator==(const BridgeConfig& a, const BridgeConfig& b) { return all_same(detail::bridge_keys(), a, b); }

std::optional<std::string> incompatible_change(const SegmentConfig& live, const SegmentConfig& proposed) {
  const std::string fixed = "; a live segment's layout is fixed at creation (remove the segment, reload, then add it back)";
  if (live.name != proposed.name) {
    return "different segments (\"" + live.name + "\" and \"" + proposed.name + "\")";
  }
  for (const detail::SegmentKey& key : detail::segment_keys()) {
    if (key.info.reload != ReloadRule::recreate || key.text == nullptr) continue;
    if ((key.info.applies & kAppliesRings) != 0 && live.kind != SegmentKind::ring) continue;
    if (!key.same(live, proposed)) {
      return std::string(key.info.name) + " changes from " + key.text(live) + " to " + key.text(proposed) + fixed;
    }
  }
  return std::nullopt;
}

bool same_settings(const SegmentConfig& a, const SegmentConfig& b) { return all_same(detail::segment_keys(), a, b); }

ReloadPlan plan_reload(const Config& live, const Config& proposed) {
  ReloadPlan plan;
  for (const SegmentConfig& p : proposed.segments) {
    const SegmentConfig* l = live.find(p.name);
    if (l == nullptr) {
      plan.added.push_back(p.name);
    } else if (auto why = incompatible_change(*l, p)) {
      plan.refused.push_back({p.name, *why});
    } else if (same_settings(*l, p)) {
      plan.unchanged.push_back(p.name);
    } else {
      plan.updated.push_back(p.name);
    }
  }
  for (const SegmentConfig& l : live.segments) {
    if (proposed.find(l.name) == nullptr) plan.removed.push_back(l.name);
  }
  return plan;
}

}  // namespace stella::config
