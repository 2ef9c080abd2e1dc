// The serializer concept: how SharedMemory (and the ring) turn values into bytes and back.
//
// A serializer for T is any type with two const member functions:
//
//   void serialize(const T& value, std::vector<std::byte>& out) const;
//     REPLACES the contents of `out` with the encoding of `value` (callers reuse one
//     buffer across calls, so never append).
//   void deserialize(std::span<const std::byte> in, T& result) const;
//     decodes `in` into `result`; on malformed input it throws
//     stella::Error(Errc::serialization, ...) and never crashes or reads outside `in`.
//
// Built in: BytesSerializer (raw bytes, std::string) and TriviallyCopyableSerializer
// (zero encoding). Optional, each in its own header and CMake target: JsonSerializer
// (stella::json), MessagePackSerializer (stella::msgpack), ProtobufSerializer (stella::protobuf).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "stella/common/error.hpp"

namespace stella {

template <class S, class T>
concept SerializerFor = requires(const S& s, const T& value, std::vector<std::byte>& out,
                                 std::span<const std::byte> in, T& result) {
  s.serialize(value, out);
  s.deserialize(in, result);
};

/// What a serializer throws on malformed input: Error(Errc::serialization) without a
/// segment name (SharedMemory adds it when the error crosses its read()).
[[noreturn]] inline void throw_serialization_error(const std::string& message) {
  throw Error(Errc::serialization, std::string(), message);
}

}  // namespace stella
