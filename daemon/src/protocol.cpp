#include "stella/daemon/protocol.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <type_traits>
#include <cstdio>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

namespace stella::daemon::protocol {

using nlohmann::json;

std::string_view to_string(Command command) noexcept {
  switch (command) {
    case Command::ping: return "ping";
    case Command::status: return "status";
    case Command::version: return "version";
  }
  return "?";
}

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::incomplete: return "incomplete";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::malformed: return "malformed";
    case ErrorCode::unsupported_version: return "unsupported_version";
    case ErrorCode::unknown_command: return "unknown_command";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::internal: return "internal";
  }
  return "?";
}

std::string_view to_string(Health health) noexcept { return health == Health::healthy ? "healthy" : "degraded"; }

namespace {

std::optional<ErrorCode> error_code_from(std::string_view s) {
  for (ErrorCode c : {ErrorCode::incomplete, ErrorCode::too_large, ErrorCode::malformed,
                      ErrorCode::unsupported_version, ErrorCode::unknown_command, ErrorCode::timeout,
                      ErrorCode::internal}) {
    if (to_string(c) == s) return c;
  }
  return std::nullopt;
}

// Client bytes quoted for an error message: printable ASCII as is, the rest as \xNN,
// at most 40 characters (the message goes back to the client and into no log).
std::string quoted(std::string_view bytes) {
  std::string out = "\"";
  const std::size_t n = std::min<std::size_t>(bytes.size(), 40);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (bytes.size() > n) out += "...";
  out += "\"";
  return out;
}

ParseResult fail(ErrorCode code, std::string message) {
  ParseResult r;
  r.error = RequestError{code, std::move(message)};
  return r;
}

}  // namespace

ParseResult parse_request(std::string_view bytes) {
  const std::size_t lf = bytes.find('\n');
  if (lf == std::string_view::npos) {
    if (bytes.size() >= kMaxRequestBytes) {
      return fail(ErrorCode::too_large, "a request is one line of at most " + std::to_string(kMaxRequestBytes) +
                                            " bytes; no end of line in the first " + std::to_string(bytes.size()));
    }
    return fail(ErrorCode::incomplete, "no end of line yet");
  }
  if (lf + 1 > kMaxRequestBytes) {
    return fail(ErrorCode::too_large, "a request is one line of at most " + std::to_string(kMaxRequestBytes) +
                                          " bytes, this one has " + std::to_string(lf + 1));
  }
  if (lf + 1 != bytes.size()) {
    return fail(ErrorCode::malformed, "one request per connection: bytes follow the end of line");
  }
  std::string_view line = bytes.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::string expect = "expected \"STELLA <version> <command>\", got " + quoted(line);
  for (char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F) return fail(ErrorCode::malformed, expect + " (a byte that is not printable ASCII)");
  }
  // Exactly three words separated by single spaces.
  std::string_view words[3];
  std::size_t count = 0;
  std::size_t start = 0;
  while (start <= line.size()) {
    const std::size_t sp = line.find(' ', start);
    const std::string_view word = line.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start);
    if (word.empty() || count == 3) return fail(ErrorCode::malformed, expect);
    words[count++] = word;
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  if (count != 3 || words[0] != kMagic) return fail(ErrorCode::malformed, expect);

  const std::string_view v = words[1];
  std::uint32_t version = 0;
  if (v.size() > 9 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fail(ErrorCode::malformed, "the protocol version must be a number, got " + quoted(v));
  }
  std::from_chars(v.data(), v.data() + v.size(), version);
  if (version < 1 || version > kVersion) {
    return fail(ErrorCode::unsupported_version, "protocol version " + std::to_string(version) +
                                                    " is not supported (this stellad speaks 1 to " +
                                                    std::to_string(kVersion) + ")");
  }
  Request request;
  request.version = version;
  const std::string_view cmd = words[2];
  if (cmd == "ping") {
    request.command = Command::ping;
  } else if (cmd == "status") {
    request.command = Command::status;
  } else if (cmd == "version") {
    request.command = Command::version;
  } else {
    return fail(ErrorCode::unknown_command,
                "unknown command " + quoted(cmd) + " (known: ping, status, version)");
  }
  ParseResult r;
  r.request = request;
  return r;
}

std::string format_request(Command command, std::uint32_t version) {
  std::string out(kMagic);
  out += ' ';
  out += std::to_string(version);
  out += ' ';
  out += to_string(command);
  out += '\n';
  return out;
}

// ---- JSON mapping ----

namespace {

json to_json(const StatusReport& r) {
  json d = {{"version", r.daemon.version},
            {"pid", r.daemon.pid},
            {"uptime_ns", r.daemon.uptime_ns},
            {"config", r.daemon.config},
            {"socket", r.daemon.socket},
            {"reap_interval_ns", r.daemon.reap_interval_ns},
            {"reap_passes", r.daemon.reap_passes},
            {"last_reap_age_ns", r.daemon.last_reap_age_ns},
            {"reloads", r.daemon.reloads},
            // appended (see DaemonReport)
            {"reload_failures", r.daemon.reload_failures},
            {"reload_failed_unix_ns", r.daemon.reload_failed_unix_ns},
            {"reload_error", r.daemon.reload_error},
            {"connections", r.daemon.connections},
            {"max_connections", r.daemon.max_connections},
            {"open_files_limit", r.daemon.open_files_limit},
            {"connections_dropped", r.daemon.connections_dropped},
            {"connections_evicted", r.daemon.connections_evicted},
            {"accept_failures", r.daemon.accept_failures}};
  json segments = json::array();
  for (const SegmentReport& s : r.segments) {
    json readers = json::array();
    for (const ReaderReport& x : s.readers) {
      readers.push_back({{"slot", x.slot},
                         {"pid", x.pid},
                         {"cursor", x.cursor},
                         {"lag_bytes", x.lag_bytes},
                         {"read", x.messages_read},
                         {"lost", x.messages_lost},
                         {"evicted", x.evicted},
                         {"lagging", x.lagging}});
    }
    json writers = json::array();
    for (const WriterReport& x : s.writers) {
      writers.push_back({{"slot", x.slot}, {"pid", x.pid}, {"written", x.messages_written}});
    }
    segments.push_back({{"name", s.name},
                        {"kind", s.kind},
                        {"state", s.state},
                        {"detail", s.detail},
                        {"capacity", s.capacity},
                        {"mode", s.mode},
                        {"permissions", s.permissions},
                        {"uid", s.uid},
                        {"gid", s.gid},
                        {"max_readers", s.max_readers},
                        {"max_writers", s.max_writers},
                        {"write_position", s.write_position},
                        {"oldest_position", s.oldest_position},
                        {"next_sequence", s.next_sequence},
                        {"generation", s.generation},
                        {"lag_warning_bytes", s.lag_warning_bytes},
                        {"writers", writers},
                        {"readers", readers},
                        {"records_repaired", s.counters.records_repaired},
                        {"turns_recovered", s.counters.turns_recovered},
                        {"readers_reaped", s.counters.readers_reaped},
                        {"writers_reaped", s.counters.writers_reaped},
                        {"readers_evicted", s.counters.readers_evicted},
                        {"recoveries", s.counters.recoveries()},
                        {"reaps", s.counters.reaps()},
                        {"daemon_recoveries", s.daemon_recoveries},
                        {"last_recovery_unix_ns", s.last_recovery_unix_ns},
                        {"stalls", s.stalls}});
  }
  json bridges = json::array();
  for (const BridgeReport& b : r.bridges) {
    bridges.push_back({{"name", b.name},
                       {"segment", b.segment},
                       {"direction", b.direction},
                       {"subject", b.subject},
                       {"stream", b.stream},
                       {"state", b.state},
                       {"detail", b.detail},
                       {"connected", b.connected},
                       {"forwarded", b.forwarded},
                       {"received", b.received},
                       {"lost", b.lost},
                       {"publish_errors", b.publish_errors},
                       {"reconnects", b.reconnects},
                       {"duplicates", b.duplicates},
                       {"backpressure_waits", b.backpressure_waits},
                       {"in_flight", b.in_flight}});
  }
  return {{"daemon", d},         {"health", to_string(r.health)}, {"problems", r.problems},
          {"segments", segments}, {"bridges", bridges}};
}

template <class T>
T field(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) throw ProtocolError(std::string("response lacks \"") + key + "\"");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Only integers that fit: a float (1e99) or an out-of-range value converted to T would
    // be undefined behaviour or silently wrong.
    const bool fits = std::is_unsigned_v<T>
                          ? it->is_number_unsigned() && it->template get<std::uint64_t>() <= std::numeric_limits<T>::max()
                          : it->is_number_integer() && it->template get<std::int64_t>() >= std::numeric_limits<T>::min() &&
                                it->template get<std::int64_t>() <= std::numeric_limits<T>::max();
    if (!fits) throw ProtocolError(std::string("response field \"") + key + "\" is not an integer in range");
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw ProtocolError(std::string("response field \"") + key + "\" has the wrong type");
  }
}

// An appended field: absent from what older daemons send, then `fallback`.
template <class T>
T appended_field(const json& j, const char* key, T fallback = T{}) {
  return j.contains(key) ? field<T>(j, key) : fallback;
}

StatusReport status_from_json(const json& j) {
  if (!j.is_object()) throw ProtocolError("the status result is not an object");
  StatusReport r;
  const json& d = j.at("daemon");
  r.daemon.version = field<std::string>(d, "version");
  r.daemon.pid = field<std::uint64_t>(d, "pid");
  r.daemon.uptime_ns = field<std::uint64_t>(d, "uptime_ns");
  r.daemon.config = field<std::string>(d, "config");
  r.daemon.socket = field<std::string>(d, "socket");
  r.daemon.reap_interval_ns = field<std::uint64_t>(d, "reap_interval_ns");
  r.daemon.reap_passes = field<std::uint64_t>(d, "reap_passes");
  r.daemon.last_reap_age_ns = field<std::uint64_t>(d, "last_reap_age_ns");
  r.daemon.reloads = field<std::uint64_t>(d, "reloads");
  r.daemon.reload_failures = appended_field<std::uint64_t>(d, "reload_failures");
  r.daemon.reload_failed_unix_ns = appended_field<std::uint64_t>(d, "reload_failed_unix_ns");
  r.daemon.reload_error = appended_field<std::string>(d, "reload_error");
  r.daemon.connections = appended_field<std::uint64_t>(d, "connections");
  r.daemon.max_connections = appended_field<std::uint64_t>(d, "max_connections");
  r.daemon.open_files_limit = appended_field<std::uint64_t>(d, "open_files_limit");
  r.daemon.connections_dropped = appended_field<std::uint64_t>(d, "connections_dropped");
  r.daemon.connections_evicted = appended_field<std::uint64_t>(d, "connections_evicted");
  r.daemon.accept_failures = appended_field<std::uint64_t>(d, "accept_failures");
  const auto health = field<std::string>(j, "health");
  if (health == "healthy") {
    r.health = Health::healthy;
  } else if (health == "degraded") {
    r.health = Health::degraded;
  } else {
    throw ProtocolError("unknown health \"" + health + "\"");
  }
  r.problems = field<std::vector<std::string>>(j, "problems");
  for (const json& s : field<json>(j, "segments")) {
    SegmentReport x;
    x.name = field<std::string>(s, "name");
    x.kind = field<std::string>(s, "kind");
    x.state = field<std::string>(s, "state");
    x.detail = field<std::string>(s, "detail");
    x.capacity = field<std::uint64_t>(s, "capacity");
    x.mode = field<std::string>(s, "mode");
    x.permissions = field<std::uint32_t>(s, "permissions");
    x.uid = field<std::uint32_t>(s, "uid");
    x.gid = field<std::uint32_t>(s, "gid");
    x.max_readers = field<std::uint32_t>(s, "max_readers");
    x.max_writers = field<std::uint32_t>(s, "max_writers");
    x.write_position = field<std::uint64_t>(s, "write_position");
    x.oldest_position = field<std::uint64_t>(s, "oldest_position");
    x.next_sequence = field<std::uint64_t>(s, "next_sequence");
    x.generation = field<std::uint64_t>(s, "generation");
    x.lag_warning_bytes = field<std::uint64_t>(s, "lag_warning_bytes");
    for (const json& w : field<json>(s, "writers")) {
      x.writers.push_back({field<std::uint32_t>(w, "slot"), field<std::uint64_t>(w, "pid"),
                           field<std::uint64_t>(w, "written")});
    }
    for (const json& rd : field<json>(s, "readers")) {
      ReaderReport y;
      y.slot = field<std::uint32_t>(rd, "slot");
      y.pid = field<std::uint64_t>(rd, "pid");
      y.cursor = field<std::uint64_t>(rd, "cursor");
      y.lag_bytes = field<std::uint64_t>(rd, "lag_bytes");
      y.messages_read = field<std::uint64_t>(rd, "read");
      y.messages_lost = field<std::uint64_t>(rd, "lost");
      y.evicted = field<bool>(rd, "evicted");
      y.lagging = field<bool>(rd, "lagging");
      x.readers.push_back(y);
    }
    x.counters.records_repaired = field<std::uint64_t>(s, "records_repaired");
    x.counters.turns_recovered = field<std::uint64_t>(s, "turns_recovered");
    x.counters.readers_reaped = field<std::uint64_t>(s, "readers_reaped");
    x.counters.writers_reaped = field<std::uint64_t>(s, "writers_reaped");
    x.counters.readers_evicted = field<std::uint64_t>(s, "readers_evicted");
    x.daemon_recoveries = field<std::uint64_t>(s, "daemon_recoveries");
    x.last_recovery_unix_ns = field<std::uint64_t>(s, "last_recovery_unix_ns");
    x.stalls = appended_field<std::vector<std::string>>(s, "stalls");
    r.segments.push_back(std::move(x));
  }
  // Appended field: a daemon built before bridges sends none.
  if (j.contains("bridges")) {
    for (const json& b : field<json>(j, "bridges")) {
      BridgeReport y;
      y.name = field<std::string>(b, "name");
      y.segment = field<std::string>(b, "segment");
      y.direction = field<std::string>(b, "direction");
      y.subject = field<std::string>(b, "subject");
      y.stream = field<std::string>(b, "stream");
      y.state = field<std::string>(b, "state");
      y.detail = field<std::string>(b, "detail");
      y.connected = field<bool>(b, "connected");
      y.forwarded = field<std::uint64_t>(b, "forwarded");
      y.received = field<std::uint64_t>(b, "received");
      y.lost = field<std::uint64_t>(b, "lost");
      y.publish_errors = field<std::uint64_t>(b, "publish_errors");
      y.reconnects = field<std::uint64_t>(b, "reconnects");
      y.duplicates = field<std::uint64_t>(b, "duplicates");
      y.backpressure_waits = field<std::uint64_t>(b, "backpressure_waits");
      y.in_flight = field<std::uint64_t>(b, "in_flight");
      r.bridges.push_back(std::move(y));
    }
  }
  return r;
}

std::string envelope(std::uint32_t version, const char* command, json result) {
  json j = {{"protocol", version}, {"ok", true}, {"command", command}, {"result", std::move(result)}};
  return j.dump() + "\n";
}

}  // namespace

std::string encode_error(const RequestError& error, std::uint32_t version) {
  // dump() with replace: the message quotes client bytes, which need not be UTF-8.
  json j = {{"protocol", version},
            {"ok", false},
            {"error", {{"code", to_string(error.code)}, {"message", error.message}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string encode_pong(std::uint32_t version) { return envelope(version, "ping", json::object()); }

std::string encode_version(std::string_view daemon_version, std::uint32_t version) {
  return envelope(version, "version", {{"version", std::string(daemon_version)}, {"protocol", kVersion}});
}

std::string encode_status(const StatusReport& report, std::uint32_t version) {
  return envelope(version, "status", to_json(report));
}

std::string status_json(const StatusReport& report, bool pretty) {
  return to_json(report).dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace);
}

Response decode_response(std::string_view bytes) {
  json j;
  try {
    j = json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    throw ProtocolError(std::string("the response is not JSON: ") + e.what());
  }
  if (!j.is_object()) throw ProtocolError("the response is not a JSON object");
  Response r;
  r.protocol = field<std::uint32_t>(j, "protocol");
  r.ok = field<bool>(j, "ok");
  try {
    if (!r.ok) {
      const json& e = j.at("error");
      RequestError err;
      const auto code = field<std::string>(e, "code");
      err.code = error_code_from(code).value_or(ErrorCode::internal);
      err.message = field<std::string>(e, "message");
      r.error = err;
      return r;
    }
    r.command = field<std::string>(j, "command");
    const json& result = j.at("result");
    if (r.command == "status") r.status = status_from_json(result);
    if (r.command == "version") r.version = field<std::string>(result, "version");
  } catch (const json::exception& e) {
    throw ProtocolError(std::string("unexpected response: ") + e.what());
  }
  return r;
}

// ---- Rendering ----

namespace {

std::string size_text(std::uint64_t bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024.0 && u + 1 < std::size(units)) {
    v /= 1024.0;
    ++u;
  }
  std::ostringstream out;
  if (u == 0 || v >= 100.0 || v == static_cast<double>(static_cast<std::uint64_t>(v))) {
    out << static_cast<std::uint64_t>(v + 0.5) << ' ' << units[u];
  } else {
    out << std::fixed << std::setprecision(1) << v << ' ' << units[u];
  }
  return out.str();
}

std::string duration_text(std::uint64_t ns) {
  std::uint64_t s = ns / 1'000'000'000ULL;
  std::ostringstream out;
  if (s >= 86400) out << s / 86400 << "d ";
  if (s >= 3600) out << (s % 86400) / 3600 << "h ";
  if (s >= 60) out << (s % 3600) / 60 << "m ";
  out << s % 60 << "s";
  return out.str();
}

std::string mode_text(std::uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777U);
  return buf;
}

}  // namespace

std::string render_table(const StatusReport& r) {
  std::ostringstream out;
  out << "stellad " << r.daemon.version << " (pid " << r.daemon.pid << "), up " << duration_text(r.daemon.uptime_ns)
      << ": " << to_string(r.health) << "\n";
  out << "config " << r.daemon.config << ", socket " << r.daemon.socket << "\n";
  out << "reaper: " << r.daemon.reap_passes << " passes, every " << r.daemon.reap_interval_ns / 1'000'000 << " ms, last "
      << r.daemon.last_reap_age_ns / 1'000'000 << " ms ago; reloads: " << r.daemon.reloads;
  if (r.daemon.reload_failures != 0) out << " (" << r.daemon.reload_failures << " failed)";
  out << "\n";
  if (r.daemon.max_connections != 0) {
    out << "status socket: " << r.daemon.connections << " open (cap " << r.daemon.max_connections;
    if (r.daemon.open_files_limit != 0) out << ", open-file limit " << r.daemon.open_files_limit;
    out << "), " << r.daemon.connections_dropped << " dropped (" << r.daemon.connections_evicted
        << " for newer ones), " << r.daemon.accept_failures << " failed accepts\n";
  }
  for (const std::string& p : r.problems) out << "  ! " << p << "\n";
  out << "\n";

  const std::vector<std::string> head = {"SEGMENT", "KIND",    "CAPACITY", "MODE",       "PERMS", "WRITE POS",
                                         "WRITERS", "READERS", "RECOVERIES", "REAPS", "EVICTED", "STATE"};
  std::vector<std::vector<std::string>> rows;
  for (const SegmentReport& s : r.segments) {
    const bool ring = s.kind == "ring";
    const bool mapped = s.state == "live" || s.state == "draining";
    rows.push_back({s.name, s.kind, mapped ? size_text(s.capacity) : "-", ring && mapped ? s.mode : "-",
                    mapped ? mode_text(s.permissions) : "-",
                    ring && mapped ? std::to_string(s.write_position)
                                   : (mapped ? "gen " + std::to_string(s.generation) : "-"),
                    ring && mapped ? std::to_string(s.writers.size()) : "-",
                    ring && mapped ? std::to_string(s.readers.size()) : "-",
                    ring && mapped ? std::to_string(s.counters.recoveries()) : "-",
                    ring && mapped ? std::to_string(s.counters.reaps()) : "-",
                    ring && mapped ? std::to_string(s.counters.readers_evicted) : "-", s.state});
  }
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    out << line << "\n";
  };
  print_row(head);
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    print_row(rows[i]);
    const SegmentReport& s = r.segments[i];
    if (!s.detail.empty()) out << "    " << s.detail << "\n";
    for (const std::string& stall : s.stalls) out << "    ! " << stall << "\n";
    for (const WriterReport& w : s.writers) {
      out << "    writer  slot " << w.slot << "  pid " << w.pid << "  written " << w.messages_written << "\n";
    }
    for (const ReaderReport& x : s.readers) {
      out << "    reader  slot " << x.slot << "  pid " << x.pid << "  lag " << size_text(x.lag_bytes) << "  read "
          << x.messages_read << "  lost " << x.messages_lost;
      if (x.evicted) out << "  EVICTED";
      if (x.lagging) out << "  LAGGING (warning at " << size_text(s.lag_warning_bytes) << ")";
      out << "\n";
    }
  }
  if (r.segments.empty()) out << "(no segments)\n";
  if (!r.bridges.empty()) {
    const std::vector<std::string> bhead = {"BRIDGE",    "SEGMENT", "DIR",        "SUBJECT",    "STATE",    "FORWARDED",
                                            "RECEIVED",  "LOST",    "PUB ERRORS", "RECONNECTS", "IN FLIGHT"};
    std::vector<std::vector<std::string>> brows;
    for (const BridgeReport& b : r.bridges) {
      brows.push_back({b.name, b.segment, b.direction, b.subject + (b.stream.empty() ? "" : " [" + b.stream + "]"),
                       b.state, std::to_string(b.forwarded), std::to_string(b.received), std::to_string(b.lost),
                       std::to_string(b.publish_errors), std::to_string(b.reconnects), std::to_string(b.in_flight)});
    }
    std::vector<std::size_t> bwidth(bhead.size());
    for (std::size_t c = 0; c < bhead.size(); ++c) {
      bwidth[c] = bhead[c].size();
      for (const auto& row : brows) bwidth[c] = std::max(bwidth[c], row[c].size());
    }
    auto print_brow = [&](const std::vector<std::string>& row) {
      std::string line;
      for (std::size_t c = 0; c < row.size(); ++c) {
        line += row[c];
        if (c + 1 < row.size()) line += std::string(bwidth[c] - row[c].size() + 2, ' ');
      }
      out << line << "\n";
    };
    out << "\n";
    print_brow(bhead);
    for (std::size_t i = 0; i < r.bridges.size(); ++i) {
      print_brow(brows[i]);
      const BridgeReport& b = r.bridges[i];
      if (b.duplicates != 0 || b.backpressure_waits != 0) {
        out << "    duplicates " << b.duplicates << "  backpressure waits " << b.backpressure_waits << "\n";
      }
      if (!b.detail.empty()) out << "    " << b.detail << "\n";
    }
  }
  return out.str();
}

int exit_status(Health health) noexcept { return health == Health::healthy ? kExitHealthy : kExitDegraded; }

}  // namespace stella::daemon::protocol
