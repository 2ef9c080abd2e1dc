// BytesSerializer: raw bytes in, the same bytes out. For std::vector<std::byte> and
// std::string (any byte content, embedded zeros included). Cannot fail to decode.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace stella {

/// Raw bytes: the encoding of a byte vector or a string is its bytes. Never fails.
struct BytesSerializer {
  /// `out` becomes a copy of `value`.
  void serialize(const std::vector<std::byte>& value, std::vector<std::byte>& out) const {
    out.assign(value.begin(), value.end());
  }
  /// `result` becomes a copy of `in`.
  void deserialize(std::span<const std::byte> in, std::vector<std::byte>& result) const {
    result.assign(in.begin(), in.end());
  }

  /// `out` becomes the string's bytes (embedded zeros included).
  void serialize(const std::string& value, std::vector<std::byte>& out) const {
    out.resize(value.size());
    if (!value.empty()) std::memcpy(out.data(), value.data(), value.size());
  }
  /// `result` becomes a string of the bytes of `in`.
  void deserialize(std::span<const std::byte> in, std::string& result) const {
    result.assign(reinterpret_cast<const char*>(in.data()), in.size());
  }
};

}  // namespace stella
