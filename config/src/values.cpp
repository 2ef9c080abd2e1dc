// Value syntax: parsing sizes, durations and metrics addresses (the units and the
// formatters are format.hpp's), enum names, and the "did you mean" helper.
#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <vector>

#include "detail.hpp"
#include "stella/config/config.hpp"
#include "stella/config/enum_names.hpp"

namespace stella::config {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Built with append, not `"\"" + std::string(s)`: GCC 12 reports a false -Wrestrict on the latter.
std::string in_quotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

void set(std::string* why, std::string message) {
  if (why != nullptr) *why = std::move(message);
}

// Splits "64MiB" / "64 MiB" into its leading whole number and the rest. Returns false (and
// explains) when there is no leading number, it overflows, or it has a fraction.
bool split_number(std::string_view text, std::uint64_t& number, std::string_view& rest, std::string_view what,
                  std::string_view example, std::string* why) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) {
    set(why, "a " + std::string(what) + " starts with a whole number, e.g. " + in_quotes(example) + "; got " +
                 in_quotes(text));
    return false;
  }
  if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
    set(why, "fractional " + std::string(what) + "s are not accepted (" + in_quotes(text) +
                 "): use a smaller unit with a whole number");
    return false;
  }
  number = 0;
  for (std::size_t k = 0; k < i; ++k) {
    const auto digit = static_cast<std::uint64_t>(text[k] - '0');
    if (number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      set(why, std::string(what) + " " + in_quotes(text) + " is too large");
      return false;
    }
    number = number * 10 + digit;
  }
  rest = text.substr(i);
  if (rest.size() > 1 && rest.front() == ' ') rest.remove_prefix(1);  // "64 MiB" reads well too
  return true;
}

std::string case_hint(std::string_view unit, std::string_view list_of_names,
                      const std::vector<std::string_view>& names) {
  for (std::string_view n : names) {
    if (n.size() == unit.size() &&
        std::equal(n.begin(), n.end(), unit.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return " (units are case-sensitive: did you mean " + in_quotes(n) + "?)";
    }
  }
  return " (expected " + std::string(list_of_names) + ")";
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, std::string* why) {
  std::uint64_t number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit, "size", "64MiB", why)) return std::nullopt;
  if (unit.empty()) return number;  // plain bytes, like a TOML integer
  for (const SizeUnit& u : kSizeUnits) {
    if (u.name == unit) {
      if (number > std::numeric_limits<std::uint64_t>::max() / u.factor) {
        set(why, "size " + in_quotes(text) + " is too large");
        return std::nullopt;
      }
      return number * u.factor;
    }
  }
  std::vector<std::string_view> names;
  for (const SizeUnit& u : kSizeUnits) names.push_back(u.name);
  set(why, "bad unit " + in_quotes(unit) + case_hint(unit, kSizeUnitList, names));
  return std::nullopt;
}

std::optional<Duration> parse_duration(std::string_view text, std::string* why) {
  std::uint64_t number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit, "duration", "100ms", why)) return std::nullopt;
  if (unit.empty()) {
    set(why, "duration " + in_quotes(text) + " has no unit: write e.g. \"" + std::string(text) +
                 "ms\" (ns, us, ms, s, m, h); a bare number is refused because its unit would be a guess");
    return std::nullopt;
  }
  for (const DurationUnit& u : kDurationUnits) {
    if (u.name == unit) {
      const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / u.nanoseconds);
      if (number > limit) {
        set(why, "duration " + in_quotes(text) + " is too large");
        return std::nullopt;
      }
      return Duration(static_cast<std::int64_t>(number) * u.nanoseconds);
    }
  }
  std::vector<std::string_view> names;
  for (const DurationUnit& u : kDurationUnits) names.push_back(u.name);
  set(why, "bad duration unit " + in_quotes(unit) + case_hint(unit, kDurationUnitList, names));
  return std::nullopt;
}

// ---- metrics address ----------------------------------------------------------------------

namespace {

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t at = 0;
  while (at <= s.size()) {
    const std::size_t dot = std::min(s.find('.', at), s.size());
    const std::string_view part = s.substr(at, dot - at);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string_view::npos) return false;
    if (std::stoi(std::string(part)) > 255) return false;
    ++parts;
    at = dot + 1;
  }
  return parts == 4;
}

bool is_ipv6(std::string_view s) {
  return s.find(':') != std::string_view::npos && s.size() <= 45 &&
         s.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
}

}  // namespace

bool MetricsAddress::loopback() const {
  return host == "::1" || host.rfind("127.", 0) == 0;
}

std::string MetricsAddress::to_string() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<MetricsAddress> parse_metrics_address(std::string_view text, std::string* why) {
  const std::string example = " (write e.g. \"127.0.0.1:9464\", \"[::1]:9464\", \"9464\" for 127.0.0.1, or \"off\")";
  MetricsAddress a;
  std::string_view host, port = text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      set(why, "metrics address " + in_quotes(text) + ": an IPv6 host is written [HOST]:PORT" + example);
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!is_ipv6(host)) {
      set(why, "metrics address " + in_quotes(text) + ": " + in_quotes(host) + " is not an IPv6 address" + example);
      return std::nullopt;
    }
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host == "localhost") host = "127.0.0.1";
    if (!host.empty() && !is_ipv4(host)) {
      set(why, "metrics address " + in_quotes(text) + ": " + in_quotes(host) +
                   " is not an IP address (host names are not resolved)" + example);
      return std::nullopt;
    }
  }
  if (!host.empty()) a.host = std::string(host);
  unsigned long value = 0;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
      (value = std::stoul(std::string(port))) < 1 || value > 65535) {
    set(why, "metrics address " + in_quotes(text) + ": the port must be a number from 1 to 65535" + example);
    return std::nullopt;
  }
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

std::string_view to_string(LogLevel level) noexcept { return enum_name(level); }
std::string_view to_string(SegmentKind kind) noexcept { return enum_name(kind); }
std::string_view to_string(RingMode mode) noexcept { return enum_name(mode); }
std::string_view to_string(RemovePolicy policy) noexcept { return enum_name(policy); }
std::string_view to_string(BridgeDirection direction) noexcept { return enum_name(direction); }
std::string_view to_string(BridgeStart start) noexcept { return enum_name(start); }

namespace detail {

namespace {
// Optimal-string-alignment distance, case-insensitive: a swap of two neighbours ("rign")
// counts as one edit, like a substitution.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  const std::size_t width = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * width);
  const auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * width + j]; };
  for (std::size_t i = 0; i <= a.size(); ++i) at(i, 0) = i;
  for (std::size_t j = 0; j <= b.size(); ++j) at(0, j) = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(a.size(), b.size());
}
}  // namespace

std::string closest(std::string_view word, std::span<const std::string_view> candidates) {
  // A typo budget that grows with the word: 1 edit for short words, up to 3 for long ones.
  const std::size_t budget = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  std::string best;
  std::size_t best_distance = budget + 1;
  for (std::string_view c : candidates) {
    std::size_t d = edit_distance(word, c);
    // "readers" for "max_readers", "warning" for "warn": when one contains the other, the
    // shorter one is a likely intent even though many letters differ.
    if (d > budget && word.size() >= 4 && c.find(word) != std::string_view::npos) d = budget;
    if (d > budget && c.size() >= 4 && word.find(c) != std::string_view::npos) d = budget;
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

}  // namespace detail

}  // namespace stella::config
