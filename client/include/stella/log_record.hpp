// The wire format of one log record in a ring: what stella/spdlog_sink.hpp writes, what
// `stella tail --format log` and examples/log_aggregator read. Header-only and free of
// spdlog, so readers need none of it.
//
// One record is one ring message (all integers in the host's byte order: a ring never
// leaves its host; the NATS bridge forwards the bytes as they are):
//
//   offset  size  field
//   0       4     magic kLogRecordMagic ("SLR1")
//   4       1     level: 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 critical (spdlog's order)
//   5       1     reserved, 0
//   6       2     logger name length L
//   8       8     time, nanoseconds since the Unix epoch (UTC)
//   16      8     thread id (as spdlog reports it: the OS thread id on Linux)
//   24      4     process id
//   28      2     number of structured fields F
//   30      2     reserved, 0
//   32      4     message length M
//   36      L     logger name
//   36+L    M     message (UTF-8 as given)
//   ...           F fields, each: key length (2), value length (2), key, value
//
// decode_log_record() takes any bytes at all: a message that is not a record, or one cut
// short, is an error value naming what is wrong, never a crash or an over-read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stella {

/// First 4 bytes of every log record: "SLR1" in little-endian memory.
inline constexpr std::uint32_t kLogRecordMagic = 0x31524C53u;
/// Bytes of the fixed part of a record, before the logger name.
inline constexpr std::size_t kLogRecordHeaderSize = 36;
/// Bytes before each field's key and value (their two lengths).
inline constexpr std::size_t kLogFieldHeaderSize = 4;
/// Longest logger name, field key or field value (longer ones are cut).
inline constexpr std::size_t kLogMaxName = 0xFFFF;

/// Severity of a record, in spdlog's order.
enum class LogLevel : std::uint8_t {
  trace = 0,    ///< spdlog::level::trace
  debug = 1,    ///< spdlog::level::debug
  info = 2,     ///< spdlog::level::info
  warn = 3,     ///< spdlog::level::warn
  error = 4,    ///< spdlog::level::err
  critical = 5  ///< spdlog::level::critical
};

/// "trace", "debug", "info", "warning", "error", "critical" (spdlog's names).
[[nodiscard]] inline std::string_view to_string(LogLevel level) noexcept {
  static constexpr std::string_view names[] = {"trace", "debug", "info", "warning", "error", "critical"};
  const auto i = static_cast<std::size_t>(level);
  return i < std::size(names) ? names[i] : std::string_view("unknown");
}

/// One structured field: key and value.
using LogField = std::pair<std::string_view, std::string_view>;

/// A decoded record; its string views point into the decoded bytes.
struct LogRecordView {
  LogLevel level = LogLevel::info;  ///< severity
  std::uint64_t time_unix_ns = 0;    ///< when it was logged, ns since the Unix epoch (UTC)
  std::uint64_t thread_id = 0;       ///< the logging thread, as spdlog reports it
  std::uint32_t pid = 0;             ///< the logging process
  std::string_view logger;           ///< the logger's name
  std::string_view message;          ///< the formatted message
  std::vector<LogField> fields;      ///< structured fields, outermost scope first
};

/// @cond internal
namespace log_record_detail {
template <class T>
inline void put(std::byte*& p, T v) noexcept {
  std::memcpy(p, &v, sizeof v);
  p += sizeof v;
}
inline void put_bytes(std::byte*& p, std::string_view s) noexcept {
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p += s.size();
}
template <class T>
inline T get(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline std::string_view clip(std::string_view s) noexcept { return s.substr(0, kLogMaxName); }
}  // namespace log_record_detail
/// @endcond

/// Bytes encode_log_record() writes for these parts (names, keys and values longer than
/// 65535 bytes are cut to that; the message is not).
[[nodiscard]] inline std::size_t log_record_size(std::string_view logger, std::string_view message,
                                                 std::span<const LogField> fields) noexcept {
  using log_record_detail::clip;
  std::size_t n = kLogRecordHeaderSize + clip(logger).size() + message.size();
  for (const LogField& f : fields) n += kLogFieldHeaderSize + clip(f.first).size() + clip(f.second).size();
  return n;
}

/// Writes one record into `out`, which must hold log_record_size() bytes. Returns the bytes written.
inline std::size_t encode_log_record(std::span<std::byte> out, LogLevel level, std::uint64_t time_unix_ns,
                                     std::uint64_t thread_id, std::uint32_t pid, std::string_view logger,
                                     std::string_view message, std::span<const LogField> fields) noexcept {
  using namespace log_record_detail;
  logger = clip(logger);
  std::byte* p = out.data();
  put<std::uint32_t>(p, kLogRecordMagic);
  put<std::uint8_t>(p, static_cast<std::uint8_t>(level));
  put<std::uint8_t>(p, 0);
  put<std::uint16_t>(p, static_cast<std::uint16_t>(logger.size()));
  put<std::uint64_t>(p, time_unix_ns);
  put<std::uint64_t>(p, thread_id);
  put<std::uint32_t>(p, pid);
  put<std::uint16_t>(p, static_cast<std::uint16_t>(fields.size() > 0xFFFF ? 0xFFFF : fields.size()));
  put<std::uint16_t>(p, 0);
  put<std::uint32_t>(p, static_cast<std::uint32_t>(message.size()));
  put_bytes(p, logger);
  put_bytes(p, message);
  std::size_t count = 0;
  for (const LogField& f : fields) {
    if (count++ == 0xFFFF) break;
    const std::string_view k = clip(f.first), v = clip(f.second);
    put<std::uint16_t>(p, static_cast<std::uint16_t>(k.size()));
    put<std::uint16_t>(p, static_cast<std::uint16_t>(v.size()));
    put_bytes(p, k);
    put_bytes(p, v);
  }
  return static_cast<std::size_t>(p - out.data());
}

/// Decodes one record; nullopt with `error` set when the bytes are not one.
[[nodiscard]] inline std::optional<LogRecordView> decode_log_record(std::span<const std::byte> in,
                                                                    std::string* error = nullptr) {
  using log_record_detail::get;
  auto fail = [&](std::string why) -> std::optional<LogRecordView> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (in.size() < kLogRecordHeaderSize) {
    return fail("not a log record: " + std::to_string(in.size()) + " bytes, a record has at least " +
                std::to_string(kLogRecordHeaderSize));
  }
  const std::byte* p = in.data();
  if (get<std::uint32_t>(p) != kLogRecordMagic) return fail("not a log record: no SLR1 magic");
  LogRecordView r;
  const auto level = get<std::uint8_t>(p + 4);
  if (level > static_cast<std::uint8_t>(LogLevel::critical)) return fail("log record: level " + std::to_string(level) + " out of range");
  r.level = static_cast<LogLevel>(level);
  const std::size_t logger_len = get<std::uint16_t>(p + 6);
  r.time_unix_ns = get<std::uint64_t>(p + 8);
  r.thread_id = get<std::uint64_t>(p + 16);
  r.pid = get<std::uint32_t>(p + 24);
  const std::size_t field_count = get<std::uint16_t>(p + 28);
  const std::size_t message_len = get<std::uint32_t>(p + 32);
  std::size_t at = kLogRecordHeaderSize;
  auto take = [&](std::size_t n, std::string_view& out) {
    if (n > in.size() - at) return false;
    out = std::string_view(reinterpret_cast<const char*>(p + at), n);
    at += n;
    return true;
  };
  if (!take(logger_len, r.logger)) return fail("log record cut short in the logger name");
  if (!take(message_len, r.message)) return fail("log record cut short in the message");
  r.fields.reserve(field_count);
  for (std::size_t i = 0; i < field_count; ++i) {
    if (in.size() - at < kLogFieldHeaderSize) return fail("log record cut short at field " + std::to_string(i));
    const std::size_t kl = get<std::uint16_t>(p + at), vl = get<std::uint16_t>(p + at + 2);
    at += kLogFieldHeaderSize;
    LogField f;
    if (!take(kl, f.first) || !take(vl, f.second)) return fail("log record cut short in field " + std::to_string(i));
    r.fields.push_back(f);
  }
  if (at != in.size()) return fail("log record has " + std::to_string(in.size() - at) + " trailing bytes");
  return r;
}

/// One line as a log file has it (no newline):
///   2026-12-02T05:51:58.123456Z [info] app (pid 4242, tid 4243): message key=value ...
[[nodiscard]] inline std::string format_log_line(const LogRecordView& r) {
  // UTC civil date from days since the epoch (H. Hinnant's algorithm): no OS call, and the
  // same on every platform.
  const std::uint64_t secs = r.time_unix_ns / 1'000'000'000ull;
  const std::int64_t z = static_cast<std::int64_t>(secs / 86400) + 719468;
  const std::int64_t era = z / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const long long year = static_cast<long long>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  const unsigned sod = static_cast<unsigned>(secs % 86400);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04lld-%02u-%02uT%02u:%02u:%02u.%06uZ", year, month, day, sod / 3600,
                sod / 60 % 60, sod % 60, static_cast<unsigned>((r.time_unix_ns / 1000) % 1'000'000));
  std::string line(stamp);
  line += " [";
  line += to_string(r.level);
  line += "] ";
  line += r.logger.empty() ? std::string_view("-") : r.logger;
  line += " (pid " + std::to_string(r.pid) + ", tid " + std::to_string(r.thread_id) + "): ";
  line += r.message;
  for (const LogField& f : r.fields) {
    line += ' ';
    line += f.first;
    line += '=';
    const bool quote = f.second.empty() || f.second.find_first_of(" \t\"=") != std::string_view::npos;
    if (quote) line += '"';
    line += f.second;
    if (quote) line += '"';
  }
  return line;
}

}  // namespace stella
