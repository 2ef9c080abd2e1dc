// The platform-independent part of platform::Permissions (shm.hpp): what the reader and
// writer groups get on an object, and the world-writable refusal.
#include <cstdio>
#include <string>

#include "stella/common/error.hpp"
#include "stella/common/platform/shm.hpp"

namespace stella::platform {

std::uint32_t group_access_bits(ObjectWriters written_by, AccessRole role) noexcept {
  constexpr std::uint32_t read = 4, read_write = 6;
  switch (written_by) {
    case ObjectWriters::writers: return role == AccessRole::writer ? read_write : read;
    case ObjectWriters::readers: return role == AccessRole::reader ? read_write : read;
    case ObjectWriters::writers_and_readers: return read_write;
  }
  return read;
}

void check_permissions(const std::string& segment, const Permissions& perms) {
  if ((perms.mode & ~0777u) != 0) throw Error(Errc::invalid_argument, segment, "permissions must be within 0777");
  if ((perms.mode & 0002u) != 0 && !perms.allow_world_writable) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(perms.mode));
    throw Error(Errc::invalid_argument, segment,
                std::string("permissions ") + text +
                    " are world-writable (any local user could corrupt or truncate the segment); set "
                    "Permissions::allow_world_writable to accept this");
  }
}

}  // namespace stella::platform
