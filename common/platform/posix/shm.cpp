// POSIX shared-memory objects: shm_open + posix_fallocate + mmap, flock for the writer lock.
#include "stella/common/platform/shm.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "stella/common/error.hpp"
#include "stella/common/names.hpp"

namespace stella::platform {

namespace {
int fd_of(std::intptr_t handle) { return static_cast<int>(handle); }
}  // namespace

std::string MappedObject::os_name(std::string_view name) {
  std::string os = "/stella.";
  os += name;
  return os;
}

MappedObject::MappedObject(MappedObject&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      handle_(std::exchange(other.handle_, -1)),
      name_(std::move(other.name_)),
      access_(other.access_) {}

MappedObject& MappedObject::operator=(MappedObject&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    handle_ = std::exchange(other.handle_, -1);
    name_ = std::move(other.name_);
    access_ = other.access_;
  }
  return *this;
}

MappedObject::~MappedObject() { reset(); }

void MappedObject::reset() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (handle_ >= 0) ::close(fd_of(handle_));
  data_ = nullptr;
  size_ = 0;
  handle_ = -1;
}

MappedObject MappedObject::create(std::string_view name, std::size_t size, const Permissions& perms) {
  validate_segment_name(name);
  const std::string seg(name);
  if (size == 0) throw Error(Errc::invalid_argument, seg, "a segment cannot be empty (size 0)");
  if ((perms.mode & ~0777u) != 0) throw Error(Errc::invalid_argument, seg, "permissions must be within 0777");
  const std::string os = os_name(name);
  const int fd = ::shm_open(os.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(perms.mode));
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) throw Error(Errc::already_exists, seg, "a segment of this name already exists (" + os + ")");
    throw os_error("shm_open(" + os + ")", seg, err);
  }
  auto fail = [&](std::string_view what, int err) {
    ::close(fd);
    ::shm_unlink(os.c_str());
    return os_error(what, seg, err);
  };
  // shm_open's mode is filtered by the umask; the configured mode is the contract.
  if (::fchmod(fd, static_cast<mode_t>(perms.mode)) != 0) throw fail("fchmod", errno);
  if (perms.uid || perms.gid) {
    const uid_t uid = perms.uid ? static_cast<uid_t>(*perms.uid) : static_cast<uid_t>(-1);
    const gid_t gid = perms.gid ? static_cast<gid_t>(*perms.gid) : static_cast<gid_t>(-1);
    if (::fchown(fd, uid, gid) != 0) throw fail("fchown", errno);
  }
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) throw fail("ftruncate", errno);
  // Reserve every page now: a full /dev/shm is an error here, never a SIGBUS later.
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0) {
    Error e = fail("reserving " + std::to_string(size) + " bytes (posix_fallocate)", err);
    if (err == ENOSPC) {
      throw Error(Errc::no_space, seg,
                  "not enough shared memory to reserve " + std::to_string(size) +
                      " bytes (is /dev/shm full or too small?)");
    }
    throw e;
  }
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) throw fail("mmap", errno);
  MappedObject obj;
  obj.data_ = data;
  obj.size_ = size;
  obj.handle_ = fd;
  obj.name_ = seg;
  obj.access_ = Access::read_write;
  return obj;
}

MappedObject MappedObject::open(std::string_view name, Access access) {
  validate_segment_name(name);
  const std::string seg(name);
  const std::string os = os_name(name);
  const int flags = (access == Access::read_write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  const int fd = ::shm_open(os.c_str(), flags, 0);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw Error(Errc::not_found, seg, "no such segment (" + os + " does not exist)");
    if (err == EACCES) {
      throw Error(Errc::permission_denied, seg,
                  std::string("permission denied opening ") + os +
                      (access == Access::read_write ? " for writing" : " for reading"));
    }
    throw os_error("shm_open(" + os + ")", seg, err);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw os_error("fstat", seg, err);
  }
  MappedObject obj;
  obj.handle_ = fd;
  obj.name_ = seg;
  obj.access_ = access;
  obj.size_ = static_cast<std::size_t>(st.st_size);
  if (obj.size_ == 0) return obj;  // the caller reports it as truncated
  const int prot = access == Access::read_write ? PROT_READ | PROT_WRITE : PROT_READ;
  void* data = ::mmap(nullptr, obj.size_, prot, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    obj.size_ = 0;
    throw os_error("mmap", seg, errno);
  }
  obj.data_ = data;
  return obj;
}

bool MappedObject::unlink(std::string_view name) {
  validate_segment_name(name);
  const std::string os = os_name(name);
  if (::shm_unlink(os.c_str()) == 0) return true;
  const int err = errno;
  if (err == ENOENT) return false;
  throw os_error("shm_unlink(" + os + ")", std::string(name), err);
}

bool MappedObject::exists(std::string_view name) {
  validate_segment_name(name);
  const std::string os = os_name(name);
  const int fd = ::shm_open(os.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  return errno != ENOENT;
}

ObjectAttributes MappedObject::attributes() const {
  struct stat st {};
  if (::fstat(fd_of(handle_), &st) != 0) throw os_error("fstat", name_, errno);
  ObjectAttributes a;
  a.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  a.uid = static_cast<std::uint32_t>(st.st_uid);
  a.gid = static_cast<std::uint32_t>(st.st_gid);
  a.size = static_cast<std::uint64_t>(st.st_size);
  return a;
}

void MappedObject::apply_permissions(const Permissions& perms) {
  if ((perms.mode & ~0777u) != 0) throw Error(Errc::invalid_argument, name_, "permissions must be within 0777");
  if (perms.uid || perms.gid) {
    const uid_t uid = perms.uid ? static_cast<uid_t>(*perms.uid) : static_cast<uid_t>(-1);
    const gid_t gid = perms.gid ? static_cast<gid_t>(*perms.gid) : static_cast<gid_t>(-1);
    if (::fchown(fd_of(handle_), uid, gid) != 0) throw os_error("fchown", name_, errno);
  }
  // After fchown, which may clear setgid-like bits: the configured mode is the contract.
  if (::fchmod(fd_of(handle_), static_cast<mode_t>(perms.mode)) != 0) throw os_error("fchmod", name_, errno);
}

void MappedObject::lock_exclusive() {
  while (::flock(fd_of(handle_), LOCK_EX) != 0) {
    if (errno != EINTR) throw os_error("flock", name_, errno);
  }
}

bool MappedObject::try_lock_exclusive() {
  while (::flock(fd_of(handle_), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) throw os_error("flock", name_, errno);
  }
  return true;
}

void MappedObject::unlock() { ::flock(fd_of(handle_), LOCK_UN); }

}  // namespace stella::platform
