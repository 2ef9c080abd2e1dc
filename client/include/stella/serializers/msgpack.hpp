// MessagePackSerializer (optional component stella::msgpack, needs msgpack-cxx): any T
// msgpack-cxx can pack and convert (MSGPACK_DEFINE types, standard containers, ...).
#pragma once

#include <cstddef>
#include <cstring>
#include <exception>
#include <msgpack.hpp>
#include <span>
#include <string>
#include <vector>

#include "stella/serializer.hpp"

namespace stella {

/// MessagePack (msgpack-cxx; link stella::msgpack): any T msgpack-cxx packs and converts.
/// Decoding bounds every declared size by the payload's, and nesting by max_depth.
struct MessagePackSerializer {
  /// Deepest nesting of arrays and maps accepted when decoding.
  std::size_t max_depth = 128;

  /// Replaces `out` with the MessagePack encoding of `value`.
  template <class T>
  void serialize(const T& value, std::vector<std::byte>& out) const {
    out.clear();
    Writer writer{out};
    try {
      msgpack::pack(writer, value);
    } catch (const std::exception& e) {
      throw_serialization_error(std::string("MessagePack encoding failed: ") + e.what());
    }
  }

  /// Decodes `in` into `result`; Errc::serialization on malformed or hostile input.
  template <class T>
  void deserialize(std::span<const std::byte> in, T& result) const {
    const std::size_t n = in.size();
    // Every element takes at least one byte, so no honest payload declares more
    // elements than it has bytes. Without these limits a 5-byte header claiming four
    // billion elements would make msgpack-cxx allocate ~100 GB before noticing.
    const msgpack::unpack_limit limit(n, n, n, n, n, max_depth);
    std::size_t offset = 0;
    try {
      msgpack::object_handle handle =
          msgpack::unpack(reinterpret_cast<const char*>(in.data()), n, offset, nullptr, nullptr, limit);
      if (offset != n) {
        throw_serialization_error("MessagePack payload has " + std::to_string(n - offset) +
                                  " trailing bytes after the value");
      }
      handle.get().convert(result);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {  // msgpack::unpack_error, msgpack::type_error (std::bad_cast), ...
      throw_serialization_error("malformed MessagePack payload (" + std::to_string(n) + " bytes): " + e.what());
    }
  }

 private:
  struct Writer {
    std::vector<std::byte>& out;
    void write(const char* data, std::size_t size) {
      const std::size_t at = out.size();
      out.resize(at + size);
      std::memcpy(out.data() + at, data, size);
    }
  };
};

}  // namespace stella
