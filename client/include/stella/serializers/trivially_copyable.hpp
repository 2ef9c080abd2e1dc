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

struct TriviallyCopyableSerializer {
  template <class T>
    requires std::is_trivially_copyable_v<T>
  void serialize(const T& value, std::vector<std::byte>& out) const {
    out.resize(sizeof(T));
    std::memcpy(out.data(), &value, sizeof(T));
  }

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
