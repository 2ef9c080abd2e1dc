// The checker: collects the problems of one source with their locations, and reads typed
// values (sizes, durations, modes, accounts, enum names, ...) out of toml++ tables,
// reporting what is wrong with each. Every section reader (daemon_keys.cpp,
// segment_keys.cpp, bridge_keys.cpp) reads through it.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "detail.hpp"
#include "schema.hpp"
#include "stella/config/config.hpp"
#include "stella/config/enum_names.hpp"

namespace stella::config::detail {

using Keys = std::span<const std::string_view>;
using namespace std::string_view_literals;

inline bool contains(Keys keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Built with append, not `"\"" + std::string(s)`: GCC 12 reports a false -Wrestrict on the latter.
inline std::string in_quotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

inline Location location_of(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

// "a string (\"abc\")", "an integer (100)", ... for "expected X, found Y" messages.
inline std::string describe(const toml::node& node) {
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

inline std::string join_alternatives(Keys values) {
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
  [[nodiscard]] std::size_t count() const noexcept { return problems_.size(); }

  // One of the names of enum E (its table in enum_names.hpp).
  template <class E>
  std::optional<E> choice_of(const toml::table& table, const std::string& prefix, std::string_view key) {
    const auto entries = enum_names(E{});
    std::vector<std::string_view> names;
    for (const auto& e : entries) names.push_back(e.name);
    if (auto index = choice(table, prefix, key, names)) return entries[*index].value;
    return std::nullopt;
  }
  std::vector<Problem> take() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    return std::move(problems_);
  }

  // Reports every key of `table` that is not in `known`, at the key itself, with a
  // "did you mean" for typos and a pointer to the right table for misplaced keys.
  void unknown_keys(const toml::table& table, const std::string& prefix, Keys known, std::string_view where_name) {
    const Keys daemon_keys = key_names(Section::daemon);
    const Keys segment_keys = key_names(Section::segment);
    for (auto&& [key, node] : table) {
      (void)node;
      const std::string_view k = key.str();
      if (contains(known, k)) continue;
      std::string message = "unknown key " + in_quotes(k) + " in " + std::string(where_name);
      if (std::string guess = closest(k, known); !guess.empty()) {
        message += " (did you mean " + in_quotes(guess) + "?)";
      } else if (std::string elsewhere = misplaced_guess(k, known); !elsewhere.empty()) {
        message += " (" + elsewhere + ")";
      } else if (contains(daemon_keys, k) && !contains(segment_keys, k)) {
        // (a daemon key is never unknown in [daemon], so this fires only elsewhere)
        message += " (it belongs in [daemon])";
      } else if (contains(segment_keys, k) && !contains(daemon_keys, k)) {
        message += " (it belongs in a [[segment]])";
      }
      add(location_of(key.source()), path(prefix, k), std::move(message));
    }
  }

  // A typo of a key that belongs to another table: "did you mean "socket" in [daemon]?".
  static std::string misplaced_guess(std::string_view k, Keys known) {
    const std::pair<Keys, std::string_view> tables[] = {{key_names(Section::daemon), "[daemon]"},
                                                        {key_names(Section::segment), "a [[segment]]"},
                                                        {key_names(Section::bridge), "a [[bridge]]"}};
    for (const auto& [keys, name] : tables) {
      if (keys.data() == known.data()) continue;
      if (contains(keys, k)) continue;  // exact matches get "it belongs in ..." below
      if (std::string guess = closest(k, keys); !guess.empty()) {
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
                                    Keys values) {
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
    if (std::string guess = closest(text, values); !guess.empty()) {
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

// The "world-writable" rule of socket_mode, segment_dir_mode and permissions: the 0002 bit
// only next to allow_world_writable = true.
inline void check_world_writable(Checker& c, const toml::table& table, const std::string& prefix, std::string_view key,
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


}  // namespace stella::config::detail
