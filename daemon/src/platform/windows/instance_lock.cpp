// Windows: LockFileEx on the lock file, which Windows releases when the holder dies (as
// flock on POSIX). The lock covers one byte at offset 2^32, past any content, so that a
// second stellad can still read the holder's pid from the start of the file (Windows
// locks are mandatory: a locked byte cannot be read by others). The CRT descriptor keeps
// InstanceLock's layout the same as on POSIX.
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <windows.h>

#include <string>
#include <system_error>

#include "stella/daemon/instance_lock.hpp"

namespace stella::daemon {

namespace {

std::string win_error(DWORD code) { return std::system_category().message(static_cast<int>(code)); }

}  // namespace

InstanceLock::InstanceLock(const std::filesystem::path& path) : path_(path) {
  fd_ = ::_wopen(path.wstring().c_str(), _O_RDWR | _O_CREAT | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open the lock file " + path.string() + ": " +
                             std::generic_category().message(errno));
  }
  const auto handle = reinterpret_cast<HANDLE>(::_get_osfhandle(fd_));
  OVERLAPPED at{};
  at.OffsetHigh = 1;  // byte 2^32
  if (!::LockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at)) {
    const DWORD err = ::GetLastError();
    std::string holder;
    char buf[32] = {};
    if (::_lseek(fd_, 0, SEEK_SET) == 0 && ::_read(fd_, buf, sizeof buf - 1) > 0) {
      holder = std::string(buf).substr(0, std::string(buf).find_first_of("\r\n"));
    }
    ::_close(fd_);
    fd_ = -1;
    if (err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING) {
      throw std::runtime_error("another stellad" + (holder.empty() ? std::string() : " (pid " + holder + ")") +
                               " is already running with the lock file " + path.string() +
                               "; stop it first, or give this one another socket");
    }
    throw std::runtime_error("cannot lock " + path.string() + ": " + win_error(err));
  }
  const std::string pid = std::to_string(::GetCurrentProcessId()) + "\n";
  if (::_chsize(fd_, 0) == 0 && ::_lseek(fd_, 0, SEEK_SET) == 0) {
    (void)!::_write(fd_, pid.data(), static_cast<unsigned>(pid.size()));
  }
}

InstanceLock::~InstanceLock() {
  // The file stays, as on POSIX. Closing the last handle releases the lock.
  if (fd_ >= 0) ::_close(fd_);
}

}  // namespace stella::daemon
