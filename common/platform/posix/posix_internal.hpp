// Internals shared by the POSIX platform files (not a public header).
//
// The segment directory: every named object Stella makes lives in one directory, /dev/shm
// (what shm_open uses) unless the environment variable STELLA_SEGMENT_DIR names another
// absolute path (stellad's `segment_dir`, see docs/robustness.md "Names cannot be
// squatted"). Objects in it:
//   stella.<name>              a segment (names are [A-Za-z0-9._-], see names.hpp)
//   stella-live.<16 hex>       a process's liveness token (liveness.cpp)
// The directory is opened with O_NOFOLLOW|O_DIRECTORY and every object in it with
// openat(..., O_NOFOLLOW): a symbolic link planted in the directory, or in place of it, is
// refused, never followed.
#pragma once

#include <string>

namespace stella::platform::posix {

inline constexpr const char* kDefaultSegmentDirectory = "/dev/shm";

/// STELLA_SEGMENT_DIR when set (it must be an absolute path), else /dev/shm. Read at each
/// call. Throws Error(invalid_argument) for a relative path.
[[nodiscard]] std::string segment_directory_path();

/// The segment directory, open (O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC); the caller
/// closes it. Throws Error naming `segment` (not_found, permission_denied, io).
[[nodiscard]] int open_segment_directory(const std::string& segment);

/// True when `path` itself is a symbolic link (lstat).
[[nodiscard]] bool is_symlink(const std::string& path) noexcept;

/// Like open_segment_directory, but -1 with errno set instead of throwing.
[[nodiscard]] int try_open_segment_directory() noexcept;

/// Sets the POSIX ACL of `fd` to `mode` plus named-group entries (gid, permission bits
/// 0-7) and a mask covering them; with no named group it only applies `mode` (fchmod).
/// Returns 0 or an errno value.
[[nodiscard]] int apply_acl(int fd, unsigned mode, const unsigned* gids, const unsigned* perms, int count) noexcept;

}  // namespace stella::platform::posix
