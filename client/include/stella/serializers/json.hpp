// JsonSerializer (optional component stella::json, needs nlohmann-json): any T with
// to_json/from_json (or NLOHMANN_DEFINE_TYPE_*), and nlohmann::json itself, which plays
// the role of the original's `dynamic`. The payload is UTF-8 JSON text.
#pragma once

#include <cstddef>
#include <cstring>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "stella/serializer.hpp"

namespace stella {

/// JSON text (nlohmann-json; link stella::json): any T with to_json/from_json, and
/// nlohmann::json itself as the dynamic type.
struct JsonSerializer {
  /// Pretty-print with this indent; -1 (the default) writes compact JSON.
  int indent = -1;

  /// Replaces `out` with the JSON text of `value`; Errc::serialization if it cannot be
  /// encoded (invalid UTF-8 in a string, say).
  template <class T>
  void serialize(const T& value, std::vector<std::byte>& out) const {
    std::string text;
    try {
      if constexpr (std::is_same_v<T, nlohmann::json>) {
        text = value.dump(indent);
      } else {
        text = nlohmann::json(value).dump(indent);
      }
    } catch (const nlohmann::json::exception& e) {
      throw_serialization_error(std::string("JSON encoding failed: ") + e.what());
    }
    out.resize(text.size());
    if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());
  }

  /// Parses `in` into `result`; Errc::serialization on malformed JSON or a document that
  /// does not convert to T.
  template <class T>
  void deserialize(std::span<const std::byte> in, T& result) const {
    const char* first = reinterpret_cast<const char*>(in.data());
    // No exceptions from the parser: a malformed document comes back "discarded".
    nlohmann::json doc = nlohmann::json::parse(first, first + in.size(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      throw_serialization_error("malformed JSON payload (" + std::to_string(in.size()) + " bytes)");
    }
    if constexpr (std::is_same_v<T, nlohmann::json>) {
      result = std::move(doc);
    } else {
      try {
        doc.get_to(result);
      } catch (const nlohmann::json::exception& e) {
        throw_serialization_error(std::string("JSON payload does not match the target type: ") + e.what());
      }
    }
  }
};

}  // namespace stella
