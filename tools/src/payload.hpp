// How `stella` shows message bytes (tail, get) and turns command-line text into them (put,
// set). Decoding is total: any bytes give a line or an error message, never a crash.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stella::tools {

enum class Format { raw, text, hex, json, msgpack, log };

[[nodiscard]] std::optional<Format> parse_format(std::string_view name);
[[nodiscard]] std::string_view to_string(Format format) noexcept;

/// Nesting deeper than this in a JSON or MessagePack message is refused, not recursed into.
inline constexpr std::size_t kMaxNesting = 128;

/// One line (without newline) showing `bytes` in `format`; nullopt with `error` set when
/// the bytes are not of that format. raw returns the bytes unchanged.
[[nodiscard]] std::optional<std::string> render(Format format, std::span<const std::byte> bytes, std::string& error);

/// The bytes that `text` stands for: text/raw as is, hex decoded (whitespace ignored), JSON
/// validated (kept as given). nullopt with `error` set when it is not valid.
[[nodiscard]] std::optional<std::vector<std::byte>> encode(Format format, std::string_view text, std::string& error);

}  // namespace stella::tools
