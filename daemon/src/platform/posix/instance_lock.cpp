#include "stella/daemon/instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace stella::daemon {

InstanceLock::InstanceLock(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open the lock file " + path.string() + ": " + std::strerror(errno));
  }
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    std::string holder;
    char buf[32] = {};
    if (::pread(fd_, buf, sizeof buf - 1, 0) > 0) holder = std::string(buf).substr(0, std::string(buf).find('\n'));
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw std::runtime_error("another stellad" + (holder.empty() ? std::string() : " (pid " + holder + ")") +
                               " is already running with the lock file " + path.string() +
                               "; stop it first, or give this one another socket");
    }
    throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
}

InstanceLock::~InstanceLock() {
  // The file stays: unlinking it would let a second daemon lock a new inode while a third
  // still holds the old one. Closing releases the lock.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace stella::daemon
