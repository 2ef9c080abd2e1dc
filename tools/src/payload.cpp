#include "payload.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "stella/log_record.hpp"

#if __has_include(<msgpack.hpp>) && defined(STELLA_TOOLS_MSGPACK)
#include <msgpack.hpp>
#define STELLA_TOOLS_HAVE_MSGPACK 1
#endif

namespace stella::tools {

namespace {

std::string_view as_chars(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 if it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto u = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (u < 0x80) return 1;
  if (u >= 0xC2 && u <= 0xDF) n = 2;
  else if (u >= 0xE0 && u <= 0xEF) n = 3;
  else if (u >= 0xF0 && u <= 0xF4) n = 4;
  else return 0;
  if (s.size() - i < n) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Valid UTF-8 passes; control bytes and bytes that are not UTF-8 are escaped (\xNN), so a
// message can never move the terminal's cursor or end the line early.
std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    const std::size_t n = utf8_length(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (n == 0 || u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string hex(std::span<const std::byte> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (const std::byte x : b) {
    const auto u = static_cast<unsigned>(x);
    out += digits[u >> 4];
    out += digits[u & 15];
  }
  return out;
}

nlohmann::json parse_json_bounded(std::string_view text) {
  // The parser itself is iterative, but dump() recurses: refuse deep nesting up front.
  const nlohmann::json::parser_callback_t limit = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (static_cast<std::size_t>(depth) > kMaxNesting) {
      throw std::runtime_error("nested deeper than " + std::to_string(kMaxNesting) + " levels");
    }
    return true;
  };
  return nlohmann::json::parse(text.begin(), text.end(), limit);
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  for (Format f : {Format::raw, Format::text, Format::hex, Format::json, Format::msgpack, Format::log}) {
    if (to_string(f) == name) return f;
  }
  return std::nullopt;
}

std::string_view to_string(Format format) noexcept {
  switch (format) {
    case Format::raw: return "raw";
    case Format::text: return "text";
    case Format::hex: return "hex";
    case Format::json: return "json";
    case Format::msgpack: return "msgpack";
    case Format::log: return "log";
  }
  return "?";
}

std::optional<std::string> render(Format format, std::span<const std::byte> bytes, std::string& error) {
  switch (format) {
    case Format::raw: return std::string(as_chars(bytes));
    case Format::text: return escape_text(as_chars(bytes));
    case Format::hex: return hex(bytes);
    case Format::json:
      try {
        return parse_json_bounded(as_chars(bytes)).dump();
      } catch (const std::exception& e) {
        error = std::string("not JSON: ") + e.what();
        return std::nullopt;
      }
    case Format::msgpack: {
#ifdef STELLA_TOOLS_HAVE_MSGPACK
      // Every element takes at least one byte: no honest payload declares more elements
      // than it has bytes (as in MessagePackSerializer), and nesting is bounded.
      const std::size_t n = bytes.size();
      const msgpack::unpack_limit limit(n, n, n, n, n, kMaxNesting);
      std::size_t offset = 0;
      try {
        const msgpack::object_handle h = msgpack::unpack(as_chars(bytes).data(), n, offset, nullptr, nullptr, limit);
        if (offset != n) {
          error = "not MessagePack: " + std::to_string(n - offset) + " trailing bytes after the value";
          return std::nullopt;
        }
        std::ostringstream out;
        out << h.get();
        return out.str();
      } catch (const std::exception& e) {
        error = std::string("not MessagePack: ") + e.what();
        return std::nullopt;
      }
#else
      error = "this stella was built without msgpack-cxx: no MessagePack decoding";
      return std::nullopt;
#endif
    }
    case Format::log: {
      const std::optional<LogRecordView> r = decode_log_record(bytes, &error);
      if (!r) return std::nullopt;
      return escape_text(format_log_line(*r));
    }
  }
  error = "unknown format";
  return std::nullopt;
}

std::optional<std::vector<std::byte>> encode(Format format, std::string_view text, std::string& error) {
  auto bytes_of = [](std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return std::vector<std::byte>(p, p + s.size());
  };
  switch (format) {
    case Format::raw:
    case Format::text: return bytes_of(text);
    case Format::hex: {
      std::vector<std::byte> out;
      int high = -1;
      for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0) {
          error = "not hex: '" + std::string(1, c) + "' at column " + std::to_string(i + 1);
          return std::nullopt;
        }
        if (high < 0) {
          high = v;
        } else {
          out.push_back(static_cast<std::byte>(high * 16 + v));
          high = -1;
        }
      }
      if (high >= 0) {
        error = "not hex: an odd number of digits";
        return std::nullopt;
      }
      return out;
    }
    case Format::json:
      try {
        (void)parse_json_bounded(text);
        return bytes_of(text);
      } catch (const std::exception& e) {
        error = std::string("not JSON: ") + e.what();
        return std::nullopt;
      }
    case Format::msgpack:
    case Format::log: break;
  }
  error = std::string("cannot write messages as ") + std::string(to_string(format));
  return std::nullopt;
}

}  // namespace stella::tools
