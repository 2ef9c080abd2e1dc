#include "stella/config/format.hpp"

#include <iomanip>
#include <iterator>
#include <sstream>

namespace stella::config {

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0 B";
  // Largest binary unit that divides exactly; otherwise plain bytes.
  for (std::size_t i = kBinarySizeUnits; i-- > 1;) {
    const SizeUnit& u = kSizeUnits[i];
    if (bytes % u.factor == 0) return std::to_string(bytes / u.factor) + " " + std::string(u.name);
  }
  return std::to_string(bytes) + " B";
}

std::string format_size_rounded(std::uint64_t bytes) {
  std::size_t u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024.0 && u + 1 < kBinarySizeUnits) {
    v /= 1024.0;
    ++u;
  }
  std::ostringstream out;
  if (u == 0 || v >= 100.0 || v == static_cast<double>(static_cast<std::uint64_t>(v))) {
    out << static_cast<std::uint64_t>(v + 0.5) << ' ' << kSizeUnits[u].name;
  } else {
    out << std::fixed << std::setprecision(1) << v << ' ' << kSizeUnits[u].name;
  }
  return out.str();
}

std::string format_duration(std::chrono::nanoseconds duration) {
  const std::int64_t ns = duration.count();
  if (ns == 0) return "0s";
  for (const DurationUnit& u : kDurationUnits) {
    if (ns % u.nanoseconds == 0) return std::to_string(ns / u.nanoseconds) + std::string(u.name);
  }
  return std::to_string(ns) + "ns";
}

std::string format_uptime(std::chrono::nanoseconds duration) {
  const auto s = static_cast<std::uint64_t>(duration.count()) / 1'000'000'000ULL;
  std::ostringstream out;
  if (s >= 86400) out << s / 86400 << "d ";
  if (s >= 3600) out << (s % 86400) / 3600 << "h ";
  if (s >= 60) out << (s % 3600) / 60 << "m ";
  out << s % 60 << "s";
  return out.str();
}

std::string format_mode(std::uint32_t mode) {
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>('0' + (mode & 7U));
    mode >>= 3;
  }
  return out;
}

}  // namespace stella::config
