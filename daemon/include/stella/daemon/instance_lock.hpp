// One stellad per socket: an exclusive flock on the lock file (socket path + ".lock" by
// default), which the kernel releases when the holder dies, so a kill -9 leaves no stale lock.
#pragma once

#include <filesystem>
#include <stdexcept>

namespace stella::daemon {

class InstanceLock {
 public:
  /// Takes the lock at once or throws std::runtime_error naming the lock file and the pid
  /// of the stellad that holds it. Writes this process's pid into the file.
  explicit InstanceLock(const std::filesystem::path& path);
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace stella::daemon
