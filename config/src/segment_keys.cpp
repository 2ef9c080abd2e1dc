// [[segment]]: its keys, declared once, and its reader.
#include <bit>

#include "checker.hpp"
#include "stella/common/error.hpp"
#include "stella/common/names.hpp"
#include "stella/common/segment.hpp"

namespace stella::config::detail {

struct SegmentReader : SectionReader {
  SegmentConfig s;
  std::optional<SegmentKind> kind;  // as read (nullopt: missing or bad)
  bool allow_world_writable = false;
};

namespace {

using R = SegmentReader;

void read_name(R& r, std::string_view key) {
  if (!r.present(key)) return r.missing(key, "e.g. name = \"telemetry\"");
  if (auto name = r.c.string(r.t, r.prefix, key)) {
    if (std::string why = segment_name_problem(*name); !why.empty()) {
      r.c.add(r.at(key), r.path(key), "invalid segment name " + in_quotes(*name) + ": " + why);
    } else {
      r.s.name = *name;
    }
  }
}

void read_kind(R& r, std::string_view key) {
  if (!r.present(key)) return r.missing(key, "ring or blob");
  r.kind = r.c.choice_of<SegmentKind>(r.t, r.prefix, key);
  if (r.kind) r.s.kind = *r.kind;
}

void read_capacity(R& r, std::string_view key) {
  if (!r.present(key)) return r.missing(key, "e.g. capacity = \"64MiB\"");
  const std::string full = r.path(key);
  const Location where = r.at(key);
  auto bytes = r.c.size(*r.t.get(key), full);
  if (!bytes) return;
  if (*bytes == 0) {
    r.c.add(where, full, "capacity must be greater than 0");
  } else if (*bytes > kMaxCapacity) {
    r.c.add(where, full, "capacity " + format_size(*bytes) + " exceeds the maximum of " + format_size(kMaxCapacity));
  } else if (r.kind == SegmentKind::ring && *bytes < kMinRingCapacity) {
    r.c.add(where, full,
            "a ring needs a capacity of at least " + format_size(kMinRingCapacity) + ", got " + format_size(*bytes));
  } else if (r.kind == SegmentKind::ring && !std::has_single_bit(*bytes)) {
    // The ring maps positions to offsets by masking; say which sizes would do.
    const std::uint64_t below = std::bit_floor(*bytes);
    r.c.add(where, full,
            "a ring's capacity must be a power of two (the ring indexes by masking), got " + format_size(*bytes) +
                "; the nearest are " + format_size(below) + " and " + format_size(below * 2));
  } else {
    r.s.capacity = *bytes;
  }
}

void read_mode(R& r, std::string_view key) {
  if (auto v = r.c.choice_of<RingMode>(r.t, r.prefix, key)) r.s.mode = *v;
}

template <std::uint32_t SegmentConfig::*Member, std::uint32_t Max>
void read_slots(R& r, std::string_view key) {
  if (auto v = r.c.integer(r.t, r.prefix, key, 1, Max)) r.s.*Member = static_cast<std::uint32_t>(*v);
}

void read_permissions(R& r, std::string_view key) {
  if (auto v = r.c.mode(r.t, r.prefix, key)) {
    r.s.permissions = *v;
    check_world_writable(r.c, r.t, r.prefix, key, *v, r.allow_world_writable, "the segment");
  }
}

void read_allow_world_writable(R& r, std::string_view key) {
  r.s.allow_world_writable = r.c.boolean(r.t, r.prefix, key).value_or(false);
}

template <std::optional<Account> SegmentConfig::*Member, bool IsGroup>
void read_account(R& r, std::string_view key) {
  r.s.*Member = r.c.account(r.t, r.prefix, key, IsGroup);
}

void read_remove(R& r, std::string_view key) {
  if (auto v = r.c.choice_of<RemovePolicy>(r.t, r.prefix, key)) r.s.remove = *v;
}

void read_lag_warning(R& r, std::string_view key) {
  if (auto v = r.c.lag(r.t, r.prefix, key)) r.s.lag_warning = *v;
}

void read_schema(R& r, std::string_view key) {
  if (!r.present(key)) return;
  auto v = r.c.string(r.t, r.prefix, key);
  if (!v) return;
  try {
    ::stella::check_schema_tag(r.s.name, *v);
    r.s.schema = *v;
  } catch (const ::stella::Error&) {
    r.c.add(r.at(key), r.path(key),
            "a type tag is up to " + std::to_string(::stella::kMaxSchemaLength) +
                " characters of [A-Za-z0-9._:@/+-], e.g. \"market.Quote@2\"; got \"" + *v + "\"");
  }
}
std::string schema_text(const SegmentConfig& s) { return s.schema.empty() ? std::string("none") : in_quotes(s.schema); }

template <auto Member>
std::string enum_text(const SegmentConfig& s) {
  return std::string(to_string(s.*Member));
}
template <auto Member>
std::string number_text(const SegmentConfig& s) {
  return std::to_string(s.*Member);
}
std::string capacity_text(const SegmentConfig& s) { return format_size(s.capacity); }

using S = SegmentConfig;
using enum ReloadRule;
// The order is the docs' and the order of "did you mean" candidates.
const std::array<SegmentKey, 15> kKeys{{
    {{"name", "string", "**required**", kAppliesAlways, recreate}, read_name, same_member<&S::name>},
    {{"kind", "string", "**required**", kAppliesAlways, recreate}, read_kind, same_member<&S::kind>,
     enum_text<&S::kind>},
    {{"capacity", "size", "**required**", kAppliesAlways, recreate}, read_capacity, same_member<&S::capacity>,
     capacity_text},
    {{"mode", "string", "`\"overwrite\"`", kAppliesRings, recreate}, read_mode, same_member<&S::mode>,
     enum_text<&S::mode>},
    {{"max_readers", "integer", "`32`", kAppliesRings, recreate}, read_slots<&S::max_readers, kMaxReaders>,
     same_member<&S::max_readers>, number_text<&S::max_readers>},
    {{"max_writers", "integer", "`64`", kAppliesRings, recreate}, read_slots<&S::max_writers, kMaxWriters>,
     same_member<&S::max_writers>, number_text<&S::max_writers>},
    {{"permissions", "mode", "`\"0660\"`"}, read_permissions, same_member<&S::permissions>},
    {{"allow_world_writable", "boolean", "`false`"}, read_allow_world_writable, same_member<&S::allow_world_writable>},
    {{"owner", "user", "the daemon's user"}, read_account<&S::owner, false>, same_member<&S::owner>},
    {{"group", "group", "the daemon's group"}, read_account<&S::group, true>, same_member<&S::group>},
    {{"reader_group", "group", "none"}, read_account<&S::reader_group, true>, same_member<&S::reader_group>},
    {{"writer_group", "group", "none"}, read_account<&S::writer_group, true>, same_member<&S::writer_group>},
    {{"schema", "string", "none", kAppliesAlways, recreate}, read_schema, same_member<&S::schema>, schema_text},
    {{"remove", "string", "`\"when-unused\"`"}, read_remove, same_member<&S::remove>},
    {{"lag_warning", "float or size", "`daemon.lag_warning`", kAppliesRings}, read_lag_warning,
     same_member<&S::lag_warning>},
}};

}  // namespace

std::span<const SegmentKey> segment_keys() { return kKeys; }

std::optional<SegmentConfig> read_segment(Checker& c, const toml::table& t, std::size_t index) {
  SegmentReader r{{c, t, "segment[" + std::to_string(index) + "]", "[[segment]]"}, {}, {}, false};
  c.unknown_keys(t, r.prefix, key_names(Section::segment), "[[segment]]");
  const std::size_t before = c.count();
  r.s.location = location_of(t.source());
  // Read first, quietly (its own entry reports a wrong type): permissions depends on it.
  if (const auto* allow = t.get_as<bool>("allow_world_writable")) r.allow_world_writable = allow->get();
  for (const SegmentKey& key : kKeys) {
    const std::string_view name = key.info.name;
    if ((key.info.applies & kAppliesRings) != 0) {
      if (!r.present(name)) continue;
      if (r.kind == SegmentKind::blob) {
        c.add(r.at(name), r.path(name),
              in_quotes(name) + " applies to rings only; segment " +
                  (r.s.name.empty() ? "" : in_quotes(r.s.name) + " ") + "is a blob");
        continue;
      }
    }
    key.read(r, name);
  }
  if (c.count() != before) return std::nullopt;
  return std::move(r.s);
}

}  // namespace stella::config::detail
