// How sizes, durations and modes are written: the unit tables that parsing (values.cpp)
// and every formatter read, and the formatters themselves, shared by config's messages
// and summary and by the status protocol's table (daemon/src/protocol_table.cpp). A target
// of its own (stella::config_format), with no dependency, so that the status client can
// link it without the config parser.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace stella::config {

struct SizeUnit {
  std::string_view name;
  std::uint64_t factor;
};
inline constexpr std::uint64_t kKi = 1024;
/// Binary units first, smallest to largest (kBinarySizeUnits of them): formatters print in them.
inline constexpr std::array<SizeUnit, 9> kSizeUnits{{
    {"B", 1},
    {"KiB", kKi},
    {"MiB", kKi * kKi},
    {"GiB", kKi * kKi * kKi},
    {"TiB", kKi * kKi * kKi * kKi},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", std::uint64_t{1000} * 1000 * 1000 * 1000},
}};
inline constexpr std::size_t kBinarySizeUnits = 5;
inline constexpr std::string_view kSizeUnitList = "B, KiB, MiB, GiB, TiB, KB, MB, GB, TB";

struct DurationUnit {
  std::string_view name;
  std::int64_t nanoseconds;
};
/// Largest first: format_duration picks the first that divides exactly.
inline constexpr std::array<DurationUnit, 6> kDurationUnits{{
    {"h", std::int64_t{3600} * 1000 * 1000 * 1000},
    {"m", std::int64_t{60} * 1000 * 1000 * 1000},
    {"s", 1000 * 1000 * 1000},
    {"ms", 1000 * 1000},
    {"us", 1000},
    {"ns", 1},
}};
inline constexpr std::string_view kDurationUnitList = "ns, us, ms, s, m, h";

/// "64 MiB", "1000 B": the largest binary unit that divides the size exactly, else bytes.
[[nodiscard]] std::string format_size(std::uint64_t bytes);
/// "1.5 MiB", "512 B", "100 GiB": the largest binary unit below the size, rounded to one
/// decimal below 100 units (for readings, such as a reader's lag, rather than settings).
[[nodiscard]] std::string format_size_rounded(std::uint64_t bytes);
/// "100ms", "2s", "1m": exact in the largest unit that divides it.
[[nodiscard]] std::string format_duration(std::chrono::nanoseconds duration);
/// "3d 4h 5m 6s", "42s": whole seconds, as an uptime is read.
[[nodiscard]] std::string format_uptime(std::chrono::nanoseconds duration);
/// "0660": four octal digits of the permission bits (the low 12 bits).
[[nodiscard]] std::string format_mode(std::uint32_t mode);

}  // namespace stella::config
