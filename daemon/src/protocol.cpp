// The request grammar and the response envelope of the health socket (protocol.hpp);
// the status report's fields are protocol_json.cpp's, its table protocol_table.cpp's.
#include "stella/daemon/protocol.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "protocol_fields.hpp"
#include "protocol_json.hpp"

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

// ---- Responses ----

namespace {

using wire::field;

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
  return envelope(version, "status", wire::status_to_json(report, version));
}

std::string status_json(const StatusReport& report, bool pretty) {
  return wire::status_to_json(report, kVersion).dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace);
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
    if (r.command == "status") r.status = wire::status_from_json(result, r.protocol);
    if (r.command == "version") r.version = field<std::string>(result, "version");
  } catch (const json::exception& e) {
    throw ProtocolError(std::string("unexpected response: ") + e.what());
  }
  return r;
}

int exit_status(Health health) noexcept { return health == Health::healthy ? kExitHealthy : kExitDegraded; }

}  // namespace stella::daemon::protocol
