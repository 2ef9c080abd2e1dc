// Group and user names resolved with the reentrant getgrnam_r/getpwnam_r.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <type_traits>
#include <vector>

#include "detail.hpp"

namespace stella::config::detail {

namespace {

// getgrnam_r and getpwnam_r share a shape; ERANGE means the buffer was too small.
template <typename Entry, typename Fn>
AccountLookup lookup(const std::string& name, Fn&& fn, int size_hint_key) {
  long hint = sysconf(size_hint_key);
  std::size_t size = hint > 0 ? static_cast<std::size_t>(hint) : 4096;
  for (;;) {
    std::vector<char> buffer(size);
    Entry entry{};
    Entry* result = nullptr;
    const int rc = fn(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
    if (rc == ERANGE && size < (std::size_t{1} << 24)) {
      size *= 2;
      continue;
    }
    AccountLookup out;
    if (result != nullptr) {
      if constexpr (std::is_same_v<Entry, group>) {
        out.id = static_cast<std::uint32_t>(entry.gr_gid);
      } else {
        out.id = static_cast<std::uint32_t>(entry.pw_uid);
      }
    } else if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) {
      // POSIX lets "not found" come back as any of the codes above; anything else is a failure.
      out.error = std::strerror(rc);
    }
    return out;
  }
}

}  // namespace

AccountLookup lookup_group(const std::string& name) {
  return lookup<group>(name, getgrnam_r, _SC_GETGR_R_SIZE_MAX);
}

AccountLookup lookup_user(const std::string& name) {
  return lookup<passwd>(name, getpwnam_r, _SC_GETPW_R_SIZE_MAX);
}

}  // namespace stella::config::detail
