// Parsing (toml++) and validation of stellad's config. The validator walks the whole
// document and records every problem instead of stopping at the first one; a Config is
// only produced when there is none.
#include "stella/config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <istream>
#include <iterator>
#include <map>
#include <span>
#include <sstream>

#include "detail.hpp"
#include "stella/common/error.hpp"
#include "stella/common/names.hpp"
#include "stella/common/segment.hpp"

namespace stella::config {

namespace {

using namespace std::string_view_literals;

// The keys of each table. Adding a key means adding it here, in its read_* function,
// in docs/configuration.md and in the tests.
using Keys = std::span<const std::string_view>;
constexpr std::array<std::string_view, 4> kTopKeys = {"version", "daemon", "segment", "bridge"};
constexpr std::array<std::string_view, 16> kDaemonKeys = {
    "socket",           "socket_mode",    "allow_world_writable", "reap_interval",  "log_level",
    "recovery_timeout", "stall_eviction", "lag_warning",          "remove_on_exit", "lock_file",
    "pid_file",         "health_window",  "client_timeout",       "metrics",        "segment_dir",
    "segment_dir_mode"};
constexpr std::array<std::string_view, 15> kSegmentKeys = {
    "name",  "kind",  "capacity",     "mode",         "max_readers", "max_writers", "permissions", "allow_world_writable",
    "owner", "group", "reader_group", "writer_group", "remove",      "lag_warning", "schema"};
constexpr std::array<std::string_view, 16> kBridgeKeys = {
    "name",         "segment",   "direction",     "subject",       "url",   "jetstream",      "stream",
    "replicas",     "durable",   "start",         "ack_timeout",   "max_in_flight", "batch", "write_timeout",
    "reconnect_wait", "max_reconnect_wait"};

bool contains(Keys keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Built with append, not `"\"" + std::string(s)`: GCC 12 reports a false -Wrestrict on the latter.
std::string in_quotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

Location location_of(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

// "a string (\"abc\")", "an integer (100)", ... for "expected X, found Y" messages.
std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string (" + in_quotes(node.as_string()->get()) + ")";
    case toml::node_type::integer: return "an integer (" + std::to_string(node.as_integer()->get()) + ")";
    case toml::node_type::floating_point: {
      std::ostringstream out;
      out << node.as_floating_point()->get();
      std::string text = out.str();
      // Say "64.0", not "64": the point of the message is that it is not an integer.
      if (text.find_first_not_of("-0123456789") == std::string::npos) text += ".0";
      return "a float (" + text + ")";
    }
    case toml::node_type::boolean: return node.as_boolean()->get() ? "a boolean (true)" : "a boolean (false)";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string join_alternatives(Keys values) {
  std::string out;
  std::size_t i = 0;
  for (std::string_view v : values) {
    if (i > 0) out += (i + 1 == values.size()) ? " or " : ", ";
    out += v;
    ++i;
  }
  return out;
}

// Collects problems for one source and reads typed values out of toml++ tables.
class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  void add(Location where, std::string key, std::string message) {
    problems_.push_back({file_, where.line, where.column, std::move(key), std::move(message)});
  }

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] bool clean() const noexcept { return problems_.empty(); }
  std::vector<Problem> take() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    return std::move(problems_);
  }

  // Reports every key of `table` that is not in `known`, at the key itself, with a
  // "did you mean" for typos and a pointer to the right table for misplaced keys.
  void unknown_keys(const toml::table& table, const std::string& prefix, Keys known, std::string_view where_name) {
    for (auto&& [key, node] : table) {
      (void)node;
      const std::string_view k = key.str();
      if (contains(known, k)) continue;
      std::string message = "unknown key " + in_quotes(k) + " in " + std::string(where_name);
      if (std::string guess = detail::closest(k, known); !guess.empty()) {
        message += " (did you mean " + in_quotes(guess) + "?)";
      } else if (std::string elsewhere = misplaced_guess(k, known); !elsewhere.empty()) {
        message += " (" + elsewhere + ")";
      } else if (contains(kDaemonKeys, k) && !contains(kSegmentKeys, k)) {
        // (a daemon key is never unknown in [daemon], so this fires only elsewhere)
        message += " (it belongs in [daemon])";
      } else if (contains(kSegmentKeys, k) && !contains(kDaemonKeys, k)) {
        message += " (it belongs in a [[segment]])";
      }
      add(location_of(key.source()), path(prefix, k), std::move(message));
    }
  }

  // A typo of a key that belongs to another table: "did you mean "socket" in [daemon]?".
  static std::string misplaced_guess(std::string_view k, Keys known) {
    const std::pair<Keys, std::string_view> tables[] = {
        {kDaemonKeys, "[daemon]"}, {kSegmentKeys, "a [[segment]]"}, {kBridgeKeys, "a [[bridge]]"}};
    for (const auto& [keys, name] : tables) {
      if (keys.data() == known.data()) continue;
      if (contains(keys, k)) continue;  // exact matches get "it belongs in ..." below
      if (std::string guess = detail::closest(k, keys); !guess.empty()) {
        return "did you mean " + in_quotes(guess) + " in " + std::string(name) + "?";
      }
    }
    return {};
  }

  static std::string path(const std::string& prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  }

  void wrong_type(const toml::node& node, const std::string& key, std::string_view expected) {
    add(location_of(node.source()), key, "expected " + std::string(expected) + ", found " + describe(node));
  }

  std::optional<bool> boolean(const toml::table& table, const std::string& prefix, std::string_view key) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* b = node->as_boolean()) return b->get();
    wrong_type(*node, path(prefix, key), "a boolean (true or false)");
    return std::nullopt;
  }

  // A string value; nullopt when absent (no problem) or of another type (a problem).
  std::optional<std::string> string(const toml::table& table, const std::string& prefix, std::string_view key,
                                    std::string_view expected = "a string") {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* s = node->as_string()) return s->get();
    wrong_type(*node, path(prefix, key), expected);
    return std::nullopt;
  }

  // One of `values`, returned as its index.
  std::optional<std::size_t> choice(const toml::table& table, const std::string& prefix, std::string_view key,
                                    std::initializer_list<std::string_view> value_list) {
    const Keys values(value_list.begin(), value_list.size());
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const std::string expected = "one of " + join_alternatives(values);
    const auto* s = node->as_string();
    if (s == nullptr) {
      wrong_type(*node, path(prefix, key), "a string, " + expected);
      return std::nullopt;
    }
    const std::string& text = s->get();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] == text) return i;
    }
    std::string message = "bad value " + in_quotes(text) + " (expected " + join_alternatives(values);
    if (std::string guess = detail::closest(text, values); !guess.empty()) {
      message += "; did you mean " + in_quotes(guess) + "?";
    }
    add(location_of(node->source()), path(prefix, key), message + ")");
    return std::nullopt;
  }

  // An integer in [low, high].
  std::optional<std::int64_t> integer(const toml::table& table, const std::string& prefix, std::string_view key,
                                      std::int64_t low, std::int64_t high) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const auto* i = node->as_integer();
    if (i == nullptr) {
      wrong_type(*node, path(prefix, key), "an integer");
      return std::nullopt;
    }
    if (i->get() < low || i->get() > high) {
      add(location_of(node->source()), path(prefix, key),
          "must be between " + std::to_string(low) + " and " + std::to_string(high) + ", got " +
              std::to_string(i->get()));
      return std::nullopt;
    }
    return i->get();
  }

  // A size: a TOML integer (bytes) or a string with a unit ("64MiB").
  std::optional<std::uint64_t> size(const toml::node& node, const std::string& key) {
    if (const auto* i = node.as_integer()) {
      if (i->get() < 0) {
        add(location_of(node.source()), key, "a size cannot be negative, got " + std::to_string(i->get()));
        return std::nullopt;
      }
      return static_cast<std::uint64_t>(i->get());
    }
    if (const auto* s = node.as_string()) {
      std::string why;
      if (auto bytes = parse_size(s->get(), &why)) return bytes;
      add(location_of(node.source()), key, why);
      return std::nullopt;
    }
    wrong_type(node, key, "a size (bytes as an integer, or a string such as \"64MiB\")");
    return std::nullopt;
  }

  // A duration string ("100ms"); "off" is accepted (as nullopt in *off) when allow_off.
  std::optional<Duration> duration(const toml::table& table, const std::string& prefix, std::string_view key,
                                   bool allow_off = false, bool* off = nullptr) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const std::string full = path(prefix, key);
    const std::string example = allow_off ? "a duration such as \"100ms\", or \"off\"" : "a duration such as \"100ms\"";
    if (const auto* i = node->as_integer()) {
      add(location_of(node->source()), full,
          "expected " + example + ", found the bare integer " + std::to_string(i->get()) +
              ": a duration needs a unit (ns, us, ms, s, m, h), since the unit of a bare number would be a guess");
      return std::nullopt;
    }
    const auto* s = node->as_string();
    if (s == nullptr) {
      wrong_type(*node, full, example);
      return std::nullopt;
    }
    if (allow_off && s->get() == "off") {
      if (off != nullptr) *off = true;
      return std::nullopt;
    }
    std::string why;
    auto value = parse_duration(s->get(), &why);
    if (!value) {
      add(location_of(node->source()), full, why);
      return std::nullopt;
    }
    if (value->count() == 0) {
      add(location_of(node->source()), full,
          allow_off ? "must be greater than 0 (write \"off\" to disable)" : "must be greater than 0");
      return std::nullopt;
    }
    return value;
  }

  // File mode bits: an octal string ("0660") or a TOML octal integer (0o660).
  std::optional<std::uint32_t> mode(const toml::table& table, const std::string& prefix, std::string_view key) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const std::string full = path(prefix, key);
    const Location where = location_of(node->source());
    std::uint32_t bits = 0;
    if (const auto* i = node->as_integer()) {
      if (!(i->flags() & toml::value_flags::format_as_octal)) {
        add(where, full,
            "expected an octal string such as \"0660\", found the decimal integer " + std::to_string(i->get()) +
                " (write \"0" + std::to_string(i->get()) + "\" or 0o" + std::to_string(i->get()) + ")");
        return std::nullopt;
      }
      if (i->get() < 0 || i->get() > 07777) {
        add(where, full, "mode " + std::to_string(i->get()) + " is outside 0o0000..0o0777");
        return std::nullopt;
      }
      bits = static_cast<std::uint32_t>(i->get());
    } else if (const auto* s = node->as_string()) {
      const std::string& text = s->get();
      const bool octal = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
      if (!octal || text.size() < 3 || text.size() > 4) {
        add(where, full, "bad permissions " + in_quotes(text) + ": expected 3 or 4 octal digits such as \"0660\"");
        return std::nullopt;
      }
      for (char c : text) bits = bits * 8 + static_cast<std::uint32_t>(c - '0');
    } else {
      wrong_type(*node, full, "an octal string such as \"0660\"");
      return std::nullopt;
    }
    if (bits > 0777) {
      add(where, full,
          "setuid, setgid and sticky bits are not supported (" + format_mode(bits) + "); use 0000..0777");
      return std::nullopt;
    }
    return bits;
  }

  // An absolute path.
  std::optional<std::filesystem::path> absolute_path(const toml::table& table, const std::string& prefix,
                                                     std::string_view key) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    auto text = string(table, prefix, key, "a path string");
    if (!text) return std::nullopt;
    const Location where = location_of(node->source());
    if (text->empty()) {
      add(where, path(prefix, key), "must not be empty");
      return std::nullopt;
    }
    if (text->find('\0') != std::string::npos) {
      add(where, path(prefix, key), "must not contain a NUL character");
      return std::nullopt;
    }
    if (text->front() != '/') {
      add(where, path(prefix, key),
          "must be an absolute path, got " + in_quotes(*text) + " (a relative path would depend on stellad's working directory)");
      return std::nullopt;
    }
    return std::filesystem::path(*text);
  }

  // A user or group: a name resolved on this host, or a numeric id.
  std::optional<Account> account(const toml::table& table, const std::string& prefix, std::string_view key,
                                 bool is_group) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const std::string full = path(prefix, key);
    const Location where = location_of(node->source());
    const char* what = is_group ? "group" : "user";
    if (const auto* i = node->as_integer()) {
      if (i->get() < 0 || i->get() >= 0xFFFFFFFFLL) {  // (uid_t)-1 means "no change" to chown
        add(where, full, std::string("numeric ") + what + " id " + std::to_string(i->get()) + " is out of range");
        return std::nullopt;
      }
      return Account{std::to_string(i->get()), static_cast<std::uint32_t>(i->get())};
    }
    const auto* s = node->as_string();
    if (s == nullptr) {
      wrong_type(*node, full, std::string("a ") + what + " name (or a numeric id)");
      return std::nullopt;
    }
    const std::string& name = s->get();
    if (name.empty()) {
      add(where, full, std::string("a ") + what + " name must not be empty");
      return std::nullopt;
    }
    const detail::AccountLookup found = is_group ? detail::lookup_group(name) : detail::lookup_user(name);
    if (!found.error.empty()) {
      add(where, full, std::string("cannot look up ") + what + " " + in_quotes(name) + ": " + found.error);
      return std::nullopt;
    }
    if (!found.id) {
      add(where, full, std::string("unknown ") + what + " " + in_quotes(name) + " (no such " + what + " on this host)");
      return std::nullopt;
    }
    return Account{name, *found.id};
  }

  // A lag threshold: a float fraction of capacity in (0, 1], or a size in bytes.
  std::optional<LagThreshold> lag(const toml::table& table, const std::string& prefix, std::string_view key) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const std::string full = path(prefix, key);
    if (const auto* f = node->as_floating_point()) {
      const double v = f->get();
      if (!std::isfinite(v) || v <= 0.0 || v > 1.0) {
        std::ostringstream out;
        out << v;
        add(location_of(node->source()), full,
            "a fraction of the capacity must be in (0, 1], got " + out.str());
        return std::nullopt;
      }
      return LagThreshold{LagThreshold::Unit::fraction, v, 0};
    }
    if (node->is_integer() || node->is_string()) {
      auto bytes = size(*node, full);
      if (!bytes) return std::nullopt;
      if (*bytes == 0) {
        add(location_of(node->source()), full, "must be greater than 0");
        return std::nullopt;
      }
      return LagThreshold{LagThreshold::Unit::bytes, 0.0, *bytes};
    }
    wrong_type(*node, full, "a fraction of the capacity (e.g. 0.5) or a size (e.g. \"16MiB\")");
    return std::nullopt;
  }

 private:
  std::string file_;
  std::vector<Problem> problems_;
};

void check_world_writable(Checker& c, const toml::table& table, const std::string& prefix, std::string_view key,
                          std::uint32_t mode, bool allowed, std::string_view what) {
  if ((mode & 0002U) == 0 || allowed) return;
  const toml::node* node = table.get(key);
  c.add(node != nullptr ? location_of(node->source()) : Location{}, Checker::path(prefix, key),
        in_quotes(format_mode(mode)) + " makes " + std::string(what) +
            " world-writable (any local user could " +
            (what == "the socket"sv                ? "connect to it"
             : what == "the segment directory"sv ? "create segments in it"
                                                 : "corrupt it") +
            "); set allow_world_writable = true next to it to accept this");
}

DaemonConfig read_daemon(Checker& c, const toml::table& t) {
  const std::string prefix = "daemon";
  c.unknown_keys(t, prefix, kDaemonKeys, "[daemon]");
  DaemonConfig d;
  if (auto v = c.absolute_path(t, prefix, "socket")) {
    if (v->native().size() > kMaxSocketPathLength) {
      c.add(location_of(t.get("socket")->source()), "daemon.socket",
            "a Unix socket path has at most " + std::to_string(kMaxSocketPathLength) + " bytes, this one has " +
                std::to_string(v->native().size()));
    } else {
      d.socket = *v;
    }
  }
  const bool allow_world_writable = c.boolean(t, prefix, "allow_world_writable").value_or(false);
  if (auto v = c.mode(t, prefix, "socket_mode")) {
    d.socket_mode = *v;
    check_world_writable(c, t, prefix, "socket_mode", *v, allow_world_writable, "the socket");
  }
  if (auto v = c.duration(t, prefix, "reap_interval")) d.reap_interval = *v;
  if (auto v = c.choice(t, prefix, "log_level", {"trace", "debug", "info", "warn", "error", "critical", "off"})) {
    d.log_level = static_cast<LogLevel>(*v);
  }
  if (auto v = c.duration(t, prefix, "recovery_timeout")) d.recovery_timeout = *v;
  bool off = false;
  if (auto v = c.duration(t, prefix, "stall_eviction", true, &off)) d.stall_eviction = *v;
  if (auto v = c.lag(t, prefix, "lag_warning")) d.lag_warning = *v;
  if (auto v = c.duration(t, prefix, "health_window")) d.health_window = *v;
  if (auto v = c.duration(t, prefix, "client_timeout")) d.client_timeout = *v;
  if (auto v = c.boolean(t, prefix, "remove_on_exit")) d.remove_on_exit = *v;
  if (auto v = c.absolute_path(t, prefix, "lock_file")) d.lock_file = *v;
  if (auto v = c.absolute_path(t, prefix, "pid_file")) d.pid_file = *v;
  if (auto v = c.string(t, prefix, "metrics", "an address such as \"127.0.0.1:9464\", or \"off\""); v && *v != "off") {
    std::string why;
    if (auto a = parse_metrics_address(*v, &why)) {
      d.metrics = *a;
    } else {
      c.add(location_of(t.get("metrics")->source()), "daemon.metrics", why);
    }
  }
  if (auto v = c.absolute_path(t, prefix, "segment_dir")) d.segment_dir = *v;
  if (auto v = c.mode(t, prefix, "segment_dir_mode")) {
    d.segment_dir_mode = *v;
    check_world_writable(c, t, prefix, "segment_dir_mode", *v, allow_world_writable, "the segment directory");
  }
  return d;
}

// Keys that only mean something for a ring.
constexpr std::array<std::string_view, 4> kRingOnlyKeys = {"mode", "max_readers", "max_writers", "lag_warning"};

std::optional<SegmentConfig> read_segment(Checker& c, const toml::table& t, std::size_t index) {
  const std::string prefix = "segment[" + std::to_string(index) + "]";
  const Location table_location = location_of(t.source());
  c.unknown_keys(t, prefix, kSegmentKeys, "[[segment]]");
  SegmentConfig s;
  s.location = table_location;
  bool ok = true;
  auto missing = [&](std::string_view key, std::string_view hint) {
    c.add(table_location, Checker::path(prefix, key),
          "missing required key " + in_quotes(key) + " in this [[segment]] (" + std::string(hint) + ")");
    ok = false;
  };

  if (const toml::node* node = t.get("name")) {
    if (auto name = c.string(t, prefix, "name")) {
      if (std::string why = segment_name_problem(*name); !why.empty()) {
        c.add(location_of(node->source()), prefix + ".name", "invalid segment name " + in_quotes(*name) + ": " + why);
        ok = false;
      } else {
        s.name = *name;
      }
    } else {
      ok = false;
    }
  } else {
    missing("name", "e.g. name = \"telemetry\"");
  }

  std::optional<SegmentKind> kind;
  if (t.contains("kind")) {
    if (auto v = c.choice(t, prefix, "kind", {"ring", "blob"})) kind = static_cast<SegmentKind>(*v);
    else ok = false;
  } else {
    missing("kind", "ring or blob");
  }
  if (kind) s.kind = *kind;

  if (const toml::node* node = t.get("capacity")) {
    const std::string key = prefix + ".capacity";
    const Location where = location_of(node->source());
    if (auto bytes = c.size(*node, key)) {
      if (*bytes == 0) {
        c.add(where, key, "capacity must be greater than 0");
        ok = false;
      } else if (*bytes > kMaxCapacity) {
        c.add(where, key, "capacity " + format_size(*bytes) + " exceeds the maximum of " + format_size(kMaxCapacity));
        ok = false;
      } else if (kind == SegmentKind::ring && *bytes < kMinRingCapacity) {
        c.add(where, key,
              "a ring needs a capacity of at least " + format_size(kMinRingCapacity) + ", got " + format_size(*bytes));
        ok = false;
      } else if (kind == SegmentKind::ring && !std::has_single_bit(*bytes)) {
        // The ring maps positions to offsets by masking; say which sizes would do.
        const std::uint64_t below = std::bit_floor(*bytes);
        c.add(where, key,
              "a ring's capacity must be a power of two (the ring indexes by masking), got " + format_size(*bytes) +
                  "; the nearest are " + format_size(below) + " and " + format_size(below * 2));
        ok = false;
      } else {
        s.capacity = *bytes;
      }
    } else {
      ok = false;
    }
  } else {
    missing("capacity", "e.g. capacity = \"64MiB\"");
  }

  if (kind == SegmentKind::blob) {
    for (std::string_view key : kRingOnlyKeys) {
      if (const auto* it = t.get(key)) {
        c.add(location_of(it->source()), Checker::path(prefix, key),
              in_quotes(key) + " applies to rings only; segment " + (s.name.empty() ? "" : in_quotes(s.name) + " ") +
                  "is a blob");
        ok = false;
      }
    }
  } else {
    if (t.contains("mode")) {
      if (auto v = c.choice(t, prefix, "mode", {"overwrite", "block"})) s.mode = static_cast<RingMode>(*v);
      else ok = false;
    }
    if (t.contains("max_readers")) {
      if (auto v = c.integer(t, prefix, "max_readers", 1, kMaxReaders)) s.max_readers = static_cast<std::uint32_t>(*v);
      else ok = false;
    }
    if (t.contains("max_writers")) {
      if (auto v = c.integer(t, prefix, "max_writers", 1, kMaxWriters)) s.max_writers = static_cast<std::uint32_t>(*v);
      else ok = false;
    }
    if (t.contains("lag_warning")) {
      if (auto v = c.lag(t, prefix, "lag_warning")) s.lag_warning = *v;
      else ok = false;
    }
  }

  if (const toml::node* node = t.get("schema")) {
    if (auto v = c.string(t, prefix, "schema")) {
      try {
        ::stella::check_schema_tag(s.name, *v);
        s.schema = *v;
      } catch (const ::stella::Error&) {
        c.add(location_of(node->source()), prefix + ".schema",
              "a type tag is up to " + std::to_string(::stella::kMaxSchemaLength) +
                  " characters of [A-Za-z0-9._:@/+-], e.g. \"market.Quote@2\"; got \"" + *v + "\"");
        ok = false;
      }
    } else {
      ok = false;
    }
  }

  const bool allow_world_writable = c.boolean(t, prefix, "allow_world_writable").value_or(false);
  s.allow_world_writable = allow_world_writable;
  if (t.contains("permissions")) {
    if (auto v = c.mode(t, prefix, "permissions")) {
      s.permissions = *v;
      check_world_writable(c, t, prefix, "permissions", *v, allow_world_writable, "the segment");
    } else {
      ok = false;
    }
  }
  s.owner = c.account(t, prefix, "owner", false);
  s.group = c.account(t, prefix, "group", true);
  s.reader_group = c.account(t, prefix, "reader_group", true);
  s.writer_group = c.account(t, prefix, "writer_group", true);
  if (auto v = c.choice(t, prefix, "remove", {"when-unused", "immediately"})) s.remove = static_cast<RemovePolicy>(*v);

  if (!ok) return std::nullopt;
  return s;
}


// ---- [[bridge]] ----

// Why `subject` is not a NATS subject ("" when it is one). Tokens are separated by '.',
// none empty; `*` matches one token and `>` the rest, and only a subscription (an
// in-bridge) may use them.
std::string subject_problem(std::string_view subject, bool wildcards_allowed) {
  if (subject.empty()) return "a subject must not be empty";
  for (char ch : subject) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7F) return "a subject must not contain spaces or control characters";
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = subject.find('.', start);
    const std::string_view token = subject.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (token.empty()) return "a subject's tokens are separated by single dots, none empty";
    const bool last = dot == std::string_view::npos;
    const bool wild = token.find_first_of("*>") != std::string_view::npos;
    if (wild) {
      if (!wildcards_allowed) {
        return "an out-bridge publishes to one literal subject: the wildcards * and > are for subscriptions (in-bridges)";
      }
      if (token != "*" && token != ">") return "a wildcard (* or >) must be a whole token";
      if (token == ">" && !last) return "the wildcard > must be the last token";
    }
    if (last) break;
    start = dot + 1;
  }
  return {};
}

// Why `name` is not a JetStream stream or consumer name ("" when it is one).
std::string jetstream_name_problem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 255) return "at most 255 characters";
  for (char ch : name) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u >= 0x7F || ch == '.' || ch == '*' || ch == '>' || ch == '/' || ch == '\\') {
      return "JetStream names may not contain spaces, '.', '*', '>', '/', '\\' or non-printable characters";
    }
  }
  return {};
}

std::string url_problem(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("nats://")) rest = url.substr(7);
  else if (url.starts_with("tls://")) rest = url.substr(6);
  else return "a server URL starts with nats:// or tls:// (e.g. \"nats://127.0.0.1:4222\")";
  if (rest.empty() || rest.front() == ':' || rest.front() == '/') return "the URL names no host";
  for (char ch : rest) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7F || ch == ',') return "a URL must not contain spaces, commas or control characters";
  }
  return {};
}

// Keys that apply to one direction, or to JetStream only.
constexpr std::array<std::string_view, 3> kOutOnlyKeys = {"start", "max_in_flight", "ack_timeout"};
constexpr std::array<std::string_view, 3> kInOnlyKeys = {"write_timeout", "batch", "durable"};
constexpr std::array<std::string_view, 5> kJetStreamOnlyKeys = {"stream", "replicas", "ack_timeout", "batch", "durable"};

std::optional<BridgeConfig> read_bridge(Checker& c, const toml::table& t, std::size_t index) {
  const std::string prefix = "bridge[" + std::to_string(index) + "]";
  const Location table_location = location_of(t.source());
  c.unknown_keys(t, prefix, kBridgeKeys, "[[bridge]]");
  BridgeConfig b;
  b.location = table_location;
  bool ok = true;
  auto missing = [&](std::string_view key, std::string_view hint) {
    c.add(table_location, Checker::path(prefix, key),
          "missing required key " + in_quotes(key) + " in this [[bridge]] (" + std::string(hint) + ")");
    ok = false;
  };
  auto at = [&](std::string_view key) { return location_of(t.get(key)->source()); };

  if (t.contains("segment")) {
    if (auto v = c.string(t, prefix, "segment")) {
      if (std::string why = segment_name_problem(*v); !why.empty()) {
        c.add(at("segment"), prefix + ".segment", "invalid segment name " + in_quotes(*v) + ": " + why);
        ok = false;
      } else {
        b.segment = *v;
      }
    } else {
      ok = false;
    }
  } else {
    missing("segment", "the ring to bridge, e.g. segment = \"telemetry\"");
  }

  std::optional<BridgeDirection> direction;
  if (t.contains("direction")) {
    if (auto v = c.choice(t, prefix, "direction", {"out", "in"})) direction = static_cast<BridgeDirection>(*v);
    else ok = false;
  } else {
    missing("direction", "\"out\" forwards the ring to NATS, \"in\" writes NATS messages into the ring");
  }
  if (direction) b.direction = *direction;

  if (t.contains("subject")) {
    if (auto v = c.string(t, prefix, "subject")) {
      if (std::string why = subject_problem(*v, direction == BridgeDirection::in); !why.empty()) {
        c.add(at("subject"), prefix + ".subject", "bad subject " + in_quotes(*v) + ": " + why);
        ok = false;
      } else {
        b.subject = *v;
      }
    } else {
      ok = false;
    }
  } else {
    missing("subject", "the NATS subject, e.g. subject = \"stella.telemetry\"");
  }

  if (const toml::node* node = t.get("name")) {
    if (auto v = c.string(t, prefix, "name")) {
      if (std::string why = segment_name_problem(*v); !why.empty()) {
        c.add(location_of(node->source()), prefix + ".name", "invalid bridge name " + in_quotes(*v) + ": " + why);
        ok = false;
      } else {
        b.name = *v;
      }
    } else {
      ok = false;
    }
  } else if (!b.segment.empty() && direction) {
    b.name = b.segment + "-" + std::string(to_string(*direction));
  }

  if (const toml::node* node = t.get("url")) {
    const std::string key = prefix + ".url";
    std::vector<std::string> urls;
    auto take = [&](const toml::node& n) {
      if (const auto* str = n.as_string()) {
        if (std::string why = url_problem(str->get()); !why.empty()) {
          c.add(location_of(n.source()), key, "bad server URL " + in_quotes(str->get()) + ": " + why);
          ok = false;
        } else {
          urls.push_back(str->get());
        }
      } else {
        c.wrong_type(n, key, "a server URL string such as \"nats://127.0.0.1:4222\"");
        ok = false;
      }
    };
    if (const auto* array = node->as_array()) {
      if (array->empty()) {
        c.add(location_of(node->source()), key, "the list of servers must not be empty");
        ok = false;
      }
      for (const toml::node& n : *array) take(n);
    } else if (node->is_string()) {
      take(*node);
    } else {
      c.wrong_type(*node, key, "a server URL string, or an array of them");
      ok = false;
    }
    if (!urls.empty()) b.urls = std::move(urls);
  }

  if (auto v = c.boolean(t, prefix, "jetstream")) b.jetstream = *v;
  else if (t.contains("jetstream")) ok = false;

  // Keys that do not apply to this bridge are errors, not silently ignored settings.
  if (direction) {
    const bool out = *direction == BridgeDirection::out;
    for (std::string_view key : out ? Keys(kInOnlyKeys) : Keys(kOutOnlyKeys)) {
      if (t.contains(key)) {
        c.add(at(key), Checker::path(prefix, key),
              in_quotes(key) + " applies to " + (out ? "in" : "out") + "-bridges only; this one has direction = \"" +
                  std::string(to_string(*direction)) + "\"");
        ok = false;
      }
    }
  }
  if (!b.jetstream) {
    for (std::string_view key : kJetStreamOnlyKeys) {
      if (t.contains(key) && !(direction && ((*direction == BridgeDirection::out && contains(kInOnlyKeys, key)) ||
                                             (*direction == BridgeDirection::in && contains(kOutOnlyKeys, key))))) {
        c.add(at(key), Checker::path(prefix, key), in_quotes(key) + " applies with jetstream = true only");
        ok = false;
      }
    }
  }

  if (b.jetstream) {
    if (t.contains("stream")) {
      if (auto v = c.string(t, prefix, "stream")) {
        if (std::string why = jetstream_name_problem(*v); !why.empty()) {
          c.add(at("stream"), prefix + ".stream", "bad stream name " + in_quotes(*v) + ": " + why);
          ok = false;
        } else {
          b.stream = *v;
        }
      } else {
        ok = false;
      }
    } else {
      missing("stream", "jetstream = true needs the stream's name, e.g. stream = \"TELEMETRY\"");
    }
    if (t.contains("replicas")) {
      if (auto v = c.integer(t, prefix, "replicas", 1, 5)) b.replicas = static_cast<std::uint32_t>(*v);
      else ok = false;
    }
  }
  if (direction == BridgeDirection::in && b.jetstream) {
    if (t.contains("durable")) {
      if (auto v = c.string(t, prefix, "durable")) {
        if (std::string why = jetstream_name_problem(*v); !why.empty()) {
          c.add(at("durable"), prefix + ".durable", "bad durable consumer name " + in_quotes(*v) + ": " + why);
          ok = false;
        } else {
          b.durable = *v;
        }
      } else {
        ok = false;
      }
    } else {
      // Consumer names may not contain '.', which segment names may.
      b.durable = "stella-" + b.name;
      std::replace(b.durable.begin(), b.durable.end(), '.', '_');
    }
    if (t.contains("batch")) {
      if (auto v = c.integer(t, prefix, "batch", 1, 65536)) b.batch = static_cast<std::uint32_t>(*v);
      else ok = false;
    }
  }
  if (direction == BridgeDirection::out) {
    // With JetStream, starting at the oldest message is safe: what an earlier run already
    // published carries the same msg-id and the stream drops it as a duplicate.
    b.start = b.jetstream ? BridgeStart::oldest : BridgeStart::latest;
    if (t.contains("start")) {
      if (auto v = c.choice(t, prefix, "start", {"oldest", "latest"})) b.start = static_cast<BridgeStart>(*v);
      else ok = false;
    }
    if (t.contains("max_in_flight")) {
      if (auto v = c.integer(t, prefix, "max_in_flight", 1, 1 << 20)) b.max_in_flight = static_cast<std::uint32_t>(*v);
      else ok = false;
    }
    if (b.jetstream && t.contains("ack_timeout")) {
      if (auto v = c.duration(t, prefix, "ack_timeout")) b.ack_timeout = *v;
      else ok = false;
    }
  }
  if (direction == BridgeDirection::in && t.contains("write_timeout")) {
    if (auto v = c.duration(t, prefix, "write_timeout")) b.write_timeout = *v;
    else ok = false;
  }
  if (t.contains("reconnect_wait")) {
    if (auto v = c.duration(t, prefix, "reconnect_wait")) b.reconnect_wait = *v;
    else ok = false;
  }
  if (t.contains("max_reconnect_wait")) {
    if (auto v = c.duration(t, prefix, "max_reconnect_wait")) {
      b.max_reconnect_wait = *v;
      if (b.max_reconnect_wait < b.reconnect_wait) {
        c.add(at("max_reconnect_wait"), prefix + ".max_reconnect_wait",
              "must not be shorter than reconnect_wait (" + format_duration(b.reconnect_wait) + ")");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return b;
}

// Bridges refer to segments: after both are read, each bridge must name a ring of this
// config, and bridge names must be unique.
void check_bridges(Checker& c, const toml::table& root, const toml::array& array, Config& config) {
  // Segment names and kinds as written, so that a segment with a problem of its own (and
  // so absent from config.segments) is not also reported as missing here.
  std::map<std::string, std::string, std::less<>> kinds;
  if (const auto* segments = root.get_as<toml::array>("segment")) {
    for (const toml::node& n : *segments) {
      const auto* t = n.as_table();
      if (t == nullptr) continue;
      const auto* name = t->get_as<std::string>("name");
      const auto* kind = t->get_as<std::string>("kind");
      if (name != nullptr) kinds.try_emplace(name->get(), kind != nullptr ? kind->get() : std::string());
    }
  }
  std::map<std::string, std::pair<std::size_t, Location>, std::less<>> seen;
  std::size_t next = 0;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const auto* t = array.get(i)->as_table();
    if (t == nullptr) continue;
    const std::string prefix = "bridge[" + std::to_string(i) + "]";
    const bool have = next < config.bridges.size() && config.bridges[next].location == location_of(t->source());
    if (const toml::node* seg = t->get("segment"); seg != nullptr && seg->is_string()) {
      const std::string& name = seg->as_string()->get();
      const auto kind = kinds.find(name);
      if (kind == kinds.end()) {
        c.add(location_of(seg->source()), prefix + ".segment",
              "no [[segment]] named " + in_quotes(name) + " in this config (a bridge needs a ring that stellad owns)");
      } else if (kind->second == "blob") {
        c.add(location_of(seg->source()), prefix + ".segment",
              "segment " + in_quotes(name) + " is a blob; only rings can be bridged");
      }
    }
    if (!have) continue;
    BridgeConfig& b = config.bridges[next++];
    const toml::node* name_node = t->get("name");
    const Location here = name_node != nullptr ? location_of(name_node->source()) : b.location;
    auto [it, inserted] = seen.try_emplace(b.name, i, here);
    if (!inserted) {
      const auto& [first_index, first] = it->second;
      c.add(here, prefix + ".name",
            "duplicate bridge name " + in_quotes(b.name) + " (first at " + c.file() + ":" + std::to_string(first.line) +
                ":" + std::to_string(first.column) + " as bridge[" + std::to_string(first_index) +
                "]; give one of them a distinct name = \"...\")");
    }
  }
}

Config validate(Checker& c, const toml::table& root) {
  Config config;
  config.source = c.file();
  c.unknown_keys(root, "", kTopKeys, "the top level");

  // The root table has no header; problems about it point at the start of the file.
  const Location file_start{1, 1};
  if (const toml::node* node = root.get("version")) {
    if (const auto* i = node->as_integer()) {
      if (i->get() != kSupportedVersion) {
        c.add(location_of(node->source()), "version",
              "unsupported config version " + std::to_string(i->get()) + " (this stellad reads version " +
                  std::to_string(kSupportedVersion) + ")");
      }
    } else {
      c.wrong_type(*node, "version", "an integer (" + std::to_string(kSupportedVersion) + ")");
    }
  } else {
    c.add(file_start, "version",
          "missing required key \"version\" (add `version = " + std::to_string(kSupportedVersion) +
              "` at the top of the file)");
  }

  if (const toml::node* node = root.get("daemon")) {
    if (const auto* t = node->as_table()) {
      config.daemon = read_daemon(c, *t);
    } else {
      c.wrong_type(*node, "daemon", "a table ([daemon])");
    }
  }

  if (const toml::node* node = root.get("segment")) {
    if (node->is_table()) {
      c.add(location_of(node->source()), "segment",
            "\"segment\" is a single table; declare each segment with [[segment]] (an array of tables), not [segment]");
    } else if (const auto* array = node->as_array()) {
      // name -> where it was first defined, for duplicate reports that name both places.
      std::map<std::string, std::pair<std::size_t, Location>, std::less<>> seen;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const auto* t = element.as_table();
        if (t == nullptr) {
          c.wrong_type(element, "segment[" + std::to_string(i) + "]", "a table ([[segment]])");
          continue;
        }
        auto segment = read_segment(c, *t, i);
        // Duplicates are checked on the raw name so they are reported even when the
        // segment has other problems.
        const toml::node* name_node = t->get("name");
        if (name_node != nullptr && name_node->is_string()) {
          const std::string& name = name_node->as_string()->get();
          const Location here = location_of(name_node->source());
          auto [it, inserted] = seen.try_emplace(name, i, here);
          if (!inserted) {
            const auto& [first_index, first] = it->second;
            c.add(here, "segment[" + std::to_string(i) + "].name",
                  "duplicate segment name " + in_quotes(name) + " (first defined at " + c.file() + ":" +
                      std::to_string(first.line) + ":" + std::to_string(first.column) + " as segment[" +
                      std::to_string(first_index) + "].name)");
            continue;
          }
        }
        if (segment) config.segments.push_back(std::move(*segment));
      }
    } else {
      c.wrong_type(*node, "segment", "an array of tables ([[segment]])");
    }
  }

  if (const toml::node* node = root.get("bridge")) {
    if (node->is_table()) {
      c.add(location_of(node->source()), "bridge",
            "\"bridge\" is a single table; declare each bridge with [[bridge]] (an array of tables), not [bridge]");
    } else if (const auto* array = node->as_array()) {
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const auto* t = element.as_table();
        if (t == nullptr) {
          c.wrong_type(element, "bridge[" + std::to_string(i) + "]", "a table ([[bridge]])");
          continue;
        }
        if (auto bridge = read_bridge(c, *t, i)) config.bridges.push_back(std::move(*bridge));
      }
      check_bridges(c, root, *array, config);
    } else {
      c.wrong_type(*node, "bridge", "an array of tables ([[bridge]])");
    }
  }
  return config;
}

CheckResult check_parsed(Checker& c, const toml::table& root) {
  CheckResult result;
  Config config = validate(c, root);
  if (c.clean()) {
    result.config = std::move(config);
  } else {
    result.problems = c.take();
  }
  return result;
}

CheckResult syntax_error(Checker& c, const toml::parse_error& e) {
  c.add(location_of(e.source()), "", "TOML syntax error: " + std::string(e.description()));
  return {std::nullopt, c.take()};
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

// ---------------------------------------------------------------------------------------

std::uint64_t LagThreshold::bytes_for(std::uint64_t capacity) const noexcept {
  if (unit == Unit::bytes) return bytes;
  return static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(capacity)));
}

std::filesystem::path DaemonConfig::effective_lock_file() const {
  if (lock_file) return *lock_file;
  std::filesystem::path path = socket;
  path += ".lock";
  return path;
}

platform::Permissions SegmentConfig::platform_permissions() const {
  platform::Permissions perms;
  perms.mode = permissions;
  if (owner) perms.uid = owner->id;
  if (group) perms.gid = group->id;
  if (reader_group) perms.reader_gid = reader_group->id;
  if (writer_group) perms.writer_gid = writer_group->id;
  // A blob is written by writers only. A ring's readers still write their slots into the
  // ring itself, so both groups need read-write on it until those move to a companion object.
  perms.written_by =
      kind == SegmentKind::blob ? platform::ObjectWriters::writers : platform::ObjectWriters::writers_and_readers;
  perms.allow_world_writable = allow_world_writable;
  return perms;
}

LagThreshold SegmentConfig::effective_lag_warning(const DaemonConfig& daemon) const {
  return lag_warning.value_or(daemon.lag_warning);
}

const SegmentConfig* Config::find(std::string_view name) const noexcept {
  for (const SegmentConfig& s : segments) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string Problem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

namespace {
std::string join_problems(const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.to_string();
  }
  return out;
}
}  // namespace

ConfigError::ConfigError(std::vector<Problem> problems)
    : std::runtime_error(join_problems(problems)), problems_(std::move(problems)) {}

CheckResult check(std::string_view text, std::string source_name) {
  Checker c(source_name);
  try {
    // toml++ keeps its own copy of the source name for node locations.
    const toml::table parsed = toml::parse(text, std::string_view(source_name));
    return check_parsed(c, parsed);
  } catch (const toml::parse_error& e) {
    return syntax_error(c, e);
  }
}

CheckResult check_path(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return {std::nullopt, {{name, 0, 0, "", "cannot read the config: it is a directory"}}};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return {std::nullopt, {{name, 0, 0, "", "cannot read the config: " + errno_text(err)}}};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    const int err = errno;
    return {std::nullopt, {{name, 0, 0, "", "cannot read the config: " + errno_text(err)}}};
  }
  return check(text, name);
}

std::vector<Problem> check_file(const std::filesystem::path& path) { return check_path(path).problems; }

std::vector<Problem> check_string(std::string_view text, std::string source_name) {
  return check(text, std::move(source_name)).problems;
}

namespace {
Config take_or_throw(CheckResult result) {
  if (!result.ok()) throw ConfigError(std::move(result.problems));
  return std::move(*result.config);
}
}  // namespace

Config load_file(const std::filesystem::path& path) { return take_or_throw(check_path(path)); }

Config load_string(std::string_view text, std::string source_name) {
  return take_or_throw(check(text, std::move(source_name)));
}

Config load_stream(std::istream& in, std::string source_name) {
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_string(text, std::move(source_name));
}

// ---------------------------------------------------------------------------------------

namespace {
std::string describe_lag(const LagThreshold& lag) {
  if (lag.unit == LagThreshold::Unit::bytes) return format_size(lag.bytes);
  std::ostringstream out;
  out << lag.fraction * 100.0 << "% of capacity";
  return out.str();
}

std::string describe_account(const std::optional<Account>& account) {
  if (!account) return "-";
  if (account->name == std::to_string(account->id)) return account->name;
  return account->name + "(" + std::to_string(account->id) + ")";
}
}  // namespace

std::string summary(const Config& config) {
  std::ostringstream out;
  const DaemonConfig& d = config.daemon;
  out << config.source << ": valid (config version " << config.version << ")\n";
  out << "daemon:\n";
  out << "  socket            " << d.socket.string() << " (mode " << format_mode(d.socket_mode) << ")\n";
  out << "  lock file         " << d.effective_lock_file().string() << "\n";
  out << "  pid file          " << (d.pid_file ? d.pid_file->string() : std::string("none")) << "\n";
  out << "  metrics           " << (d.metrics ? "http://" + d.metrics->to_string() + "/metrics" : std::string("off")) << "\n";
  out << "  log level         " << to_string(d.log_level) << "\n";
  out << "  reap interval     " << format_duration(d.reap_interval) << "\n";
  out << "  recovery timeout  " << format_duration(d.recovery_timeout) << "\n";
  out << "  stall eviction    " << (d.stall_eviction ? format_duration(*d.stall_eviction) : std::string("off")) << "\n";
  out << "  lag warning       " << describe_lag(d.lag_warning) << "\n";
  out << "  health window     " << format_duration(d.health_window) << "\n";
  out << "  client timeout    " << format_duration(d.client_timeout) << "\n";
  out << "  remove on exit    " << (d.remove_on_exit ? "yes" : "no") << "\n";
  out << "segments (" << config.segments.size() << "):\n";
  for (const SegmentConfig& s : config.segments) {
    out << "  " << s.name << ": " << to_string(s.kind) << ", " << format_size(s.capacity);
    if (s.kind == SegmentKind::ring) {
      out << ", " << to_string(s.mode) << ", max_readers " << s.max_readers << ", max_writers " << s.max_writers
          << ", lag warning " << describe_lag(s.effective_lag_warning(d));
    }
    out << ", permissions " << format_mode(s.permissions) << ", owner " << describe_account(s.owner) << ", group "
        << describe_account(s.group);
    if (s.reader_group) out << ", reader_group " << describe_account(s.reader_group);
    if (s.writer_group) out << ", writer_group " << describe_account(s.writer_group);
    out << ", remove " << to_string(s.remove);
    if (!s.schema.empty()) out << ", type " << s.schema;
    out << "\n";
  }
  if (!config.bridges.empty()) {
    out << "bridges (" << config.bridges.size() << "):\n";
    for (const BridgeConfig& b : config.bridges) {
      out << "  " << b.name << ": " << b.segment << (b.direction == BridgeDirection::out ? " -> " : " <- ") << b.subject
          << (b.jetstream ? " (JetStream stream " + b.stream + ")" : std::string(" (core NATS)")) << ", servers ";
      for (std::size_t i = 0; i < b.urls.size(); ++i) out << (i > 0 ? "," : "") << b.urls[i];
      if (b.direction == BridgeDirection::out) out << ", start " << to_string(b.start);
      if (b.direction == BridgeDirection::in && b.jetstream) out << ", durable " << b.durable;
      out << "\n";
    }
  }
  return out.str();
}

std::optional<std::string> incompatible_change(const SegmentConfig& live, const SegmentConfig& proposed) {
  const std::string fixed = "; a live segment's layout is fixed at creation (remove the segment, reload, then add it back)";
  if (live.name != proposed.name) {
    return "different segments (\"" + live.name + "\" and \"" + proposed.name + "\")";
  }
  if (live.kind != proposed.kind) {
    return "kind changes from " + std::string(to_string(live.kind)) + " to " + std::string(to_string(proposed.kind)) +
           fixed;
  }
  if (live.capacity != proposed.capacity) {
    return "capacity changes from " + format_size(live.capacity) + " to " + format_size(proposed.capacity) + fixed;
  }
  if (live.schema != proposed.schema) {
    const auto tag = [](const std::string& t) { return t.empty() ? std::string("none") : "\"" + t + "\""; };
    return "schema changes from " + tag(live.schema) + " to " + tag(proposed.schema) + fixed;
  }
  if (live.kind == SegmentKind::ring) {
    if (live.mode != proposed.mode) {
      return "mode changes from " + std::string(to_string(live.mode)) + " to " + std::string(to_string(proposed.mode)) +
             fixed;
    }
    if (live.max_readers != proposed.max_readers) {
      return "max_readers changes from " + std::to_string(live.max_readers) + " to " +
             std::to_string(proposed.max_readers) + fixed;
    }
    if (live.max_writers != proposed.max_writers) {
      return "max_writers changes from " + std::to_string(live.max_writers) + " to " +
             std::to_string(proposed.max_writers) + fixed;
    }
  }
  return std::nullopt;
}

bool same_settings(const SegmentConfig& a, const SegmentConfig& b) {
  return a.name == b.name && a.kind == b.kind && a.capacity == b.capacity && a.mode == b.mode &&
         a.max_readers == b.max_readers && a.max_writers == b.max_writers && a.permissions == b.permissions &&
         a.owner == b.owner && a.group == b.group && a.reader_group == b.reader_group &&
         a.writer_group == b.writer_group && a.allow_world_writable == b.allow_world_writable &&
         a.remove == b.remove && a.lag_warning == b.lag_warning && a.schema == b.schema;
}

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
