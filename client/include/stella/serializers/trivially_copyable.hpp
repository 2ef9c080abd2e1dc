// TriviallyCopyableSerializer: a trivially copyable T is stored as its object
// representation, sizeof(T) bytes, no encoding at all (the role MemoryPack plays in the
// original). Both sides must agree on T's layout (same type, compiler and ABI); a payload
// of any other size than sizeof(T) is refused with Errc::serialization.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "stella/serializer.hpp"

namespace stella {

/// Zero encoding: a trivially copyable T is stored as its sizeof(T) bytes. Both sides must
/// use the same type, compiler and ABI.
struct TriviallyCopyableSerializer {
  /// `out` becomes the object representation of `value`.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void serialize(const T& value, std::vector<std::byte>& out) const {
    out.resize(sizeof(T));
    std::memcpy(out.data(), &value, sizeof(T));
  }

  /// Copies `in` into `result`; Errc::serialization unless it has exactly sizeof(T) bytes.
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void deserialize(std::span<const std::byte> in, T& result) const {
    if (in.size() != sizeof(T)) {
      throw_serialization_error("trivially copyable payload of " + std::to_string(in.size()) +
                                " bytes, the target type has " + std::to_string(sizeof(T)) + " bytes");
    }
    std::memcpy(&result, in.data(), sizeof(T));
  }
};

}  // namespace stella
