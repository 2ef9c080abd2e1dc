// The status protocol as data: each JSON field of a report is declared once (its name, the
// protocol version that added it, whether a daemon of that version may still leave it out)
// with how it is written and read, and both directions follow from the declaration.
//
// Encoding for a client that asked for version V writes the fields of versions <= V.
// Decoding a response of protocol version P ignores every field it does not know (a newer
// daemon may send more), treats a field added after P as absent (its default), and refuses
// a response that lacks a field of version <= P unless the field is `appended` (added
// within a version: older daemons of that version do not send it).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <type_traits>

#include "stella/daemon/protocol.hpp"

namespace stella::daemon::protocol::wire {

using nlohmann::json;

enum class Presence { required, appended };

template <class S>
struct Field {
  const char* name;
  std::uint32_t since = 1;
  Presence presence = Presence::required;
  /// Writes the field's value (for a client of protocol `version`).
  void (*encode)(json& value, const S& s, std::uint32_t version) = nullptr;
  /// Reads it from a response of protocol `peer`; nullptr for a derived, write-only field.
  void (*decode)(const json& value, S& s, std::uint32_t peer, const char* name) = nullptr;
};

/// The value of `key` as T: integers only when they fit T; ProtocolError otherwise.
template <class T>
T value_as(const json& v, const char* key) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Only integers that fit: a float (1e99) or an out-of-range value converted to T would
    // be undefined behaviour or silently wrong.
    const bool fits = std::is_unsigned_v<T>
                          ? v.is_number_unsigned() && v.template get<std::uint64_t>() <= std::numeric_limits<T>::max()
                          : v.is_number_integer() && v.template get<std::int64_t>() >= std::numeric_limits<T>::min() &&
                                v.template get<std::int64_t>() <= std::numeric_limits<T>::max();
    if (!fits) throw ProtocolError(std::string("response field \"") + key + "\" is not an integer in range");
  }
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    throw ProtocolError(std::string("response field \"") + key + "\" has the wrong type");
  }
}

/// The value of the required `key` of object `j` as T.
template <class T>
T field(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) throw ProtocolError(std::string("response lacks \"") + key + "\"");
  return value_as<T>(*it, key);
}

template <class S>
json encode_object(std::span<const Field<S>> fields, const S& s, std::uint32_t version) {
  json out = json::object();
  for (const Field<S>& f : fields) {
    if (f.since > version) continue;
    json value;
    f.encode(value, s, version);
    out[f.name] = std::move(value);
  }
  return out;
}

template <class S>
S decode_object(std::span<const Field<S>> fields, const json& j, std::uint32_t peer, const char* what) {
  if (!j.is_object()) throw ProtocolError(std::string("the ") + what + " is not an object");
  S s{};
  for (const Field<S>& f : fields) {
    if (f.decode == nullptr || f.since > peer) continue;  // derived, or newer than the peer
    const auto it = j.find(f.name);
    if (it == j.end()) {
      if (f.presence == Presence::appended) continue;
      throw ProtocolError(std::string("response lacks \"") + f.name + "\"");
    }
    f.decode(*it, s, peer, f.name);
  }
  return s;
}

template <class>
struct MemberOf;
template <class C, class T>
struct MemberOf<T C::*> {
  using Class = C;
  using Type = T;
};

/// A field stored in one member of a plain type (number, bool, string, list of strings).
template <auto M>
constexpr Field<typename MemberOf<decltype(M)>::Class> member(const char* name, std::uint32_t since = 1,
                                                                Presence presence = Presence::required) {
  using C = typename MemberOf<decltype(M)>::Class;
  using T = typename MemberOf<decltype(M)>::Type;
  return {name, since, presence, [](json& v, const C& s, std::uint32_t) { v = s.*M; },
          [](const json& v, C& s, std::uint32_t, const char* key) { s.*M = value_as<T>(v, key); }};
}

/// A field that is a list of objects, each with the fields of `Fields`.
template <auto M, const auto& Fields>
constexpr Field<typename MemberOf<decltype(M)>::Class> list(const char* name, std::uint32_t since = 1,
                                                              Presence presence = Presence::required) {
  using C = typename MemberOf<decltype(M)>::Class;
  using E = typename MemberOf<decltype(M)>::Type::value_type;
  return {name, since, presence,
          [](json& v, const C& s, std::uint32_t version) {
            v = json::array();
            for (const E& e : s.*M) v.push_back(encode_object<E>(Fields, e, version));
          },
          [](const json& v, C& s, std::uint32_t peer, const char* key) {
            if (!v.is_array()) throw ProtocolError(std::string("response field \"") + key + "\" is not an array");
            for (const json& e : v) (s.*M).push_back(decode_object<E>(Fields, e, peer, "list element"));
          }};
}

}  // namespace stella::daemon::protocol::wire
