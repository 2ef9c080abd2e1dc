// POSIX shared-memory objects: files in the segment directory (/dev/shm unless
// STELLA_SEGMENT_DIR says otherwise) opened with openat + O_NOFOLLOW, posix_fallocate +
// mmap, flock for the writer lock, POSIX ACLs (libacl) for the reader and writer groups.
#include "stella/common/platform/shm.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <acl/libacl.h>  // acl_get_perm
#include <sys/acl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "posix_internal.hpp"
#include "stella/common/error.hpp"
#include "stella/common/names.hpp"

namespace stella::platform {

namespace posix {

std::string segment_directory_path() {
  const char* env = std::getenv("STELLA_SEGMENT_DIR");
  if (env == nullptr || *env == '\0') return kDefaultSegmentDirectory;
  std::string path(env);
  if (path.front() != '/') {
    throw Error(Errc::invalid_argument, std::string(),
                "STELLA_SEGMENT_DIR must be an absolute path, got '" + path + "'");
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

int try_open_segment_directory() noexcept {
  try {
    const std::string path = segment_directory_path();
    return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  } catch (...) {
    errno = EINVAL;
    return -1;
  }
}

bool is_symlink(const std::string& path) noexcept {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

int open_segment_directory(const std::string& segment) {
  const std::string path = segment_directory_path();
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) return fd;
  const int err = errno;
  if (err == ELOOP || is_symlink(path)) {
    throw Error(Errc::permission_denied, segment,
                "the segment directory " + path + " is a symbolic link: refusing to follow it");
  }
  throw os_error("opening the segment directory " + path, segment, err);
}

namespace {
std::string rwx(unsigned bits) {
  std::string s = "---";
  if ((bits & 4u) != 0) s[0] = 'r';
  if ((bits & 2u) != 0) s[1] = 'w';
  if ((bits & 1u) != 0) s[2] = 'x';
  return s;
}
}  // namespace

int apply_acl(int fd, unsigned mode, const unsigned* gids, const unsigned* perms, int count) noexcept {
  // The owner, owning group and others keep the mode's bits; each named group gets its
  // entry; the mask (what `ls -l` shows as the group bits) covers the owning group and
  // every named entry, so none of them is cut back.
  unsigned mask = (mode >> 3) & 7u;
  std::string text = "u::" + rwx((mode >> 6) & 7u) + ",g::" + rwx((mode >> 3) & 7u) + ",o::" + rwx(mode & 7u);
  for (int i = 0; i < count; ++i) {
    text += ",g:" + std::to_string(gids[i]) + ":" + rwx(perms[i] & 7u);
    mask |= perms[i] & 7u;
  }
  if (count > 0) text += ",m::" + rwx(mask);
  acl_t acl = ::acl_from_text(text.c_str());
  if (acl == nullptr) return errno != 0 ? errno : EINVAL;
  int err = 0;
  if (::acl_set_fd(fd, acl) != 0) err = errno;
  ::acl_free(acl);
  if (err == ENOTSUP && count == 0) {
    // A file system without ACLs: the plain mode is all there is to apply.
    err = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 ? 0 : errno;
  }
  return err;
}

}  // namespace posix

namespace {
int fd_of(std::intptr_t handle) { return static_cast<int>(handle); }

std::string object_file_name(std::string_view name, ObjectPart part = ObjectPart::segment) {
  std::string file = part == ObjectPart::readers ? "stella-readers." : "stella.";
  file += name;
  return file;
}

// chown (when asked), then the mode and the reader/writer group ACL entries.
int apply_to_fd(int fd, const Permissions& perms, unsigned mode) {
  if (perms.uid || perms.gid) {
    const uid_t uid = perms.uid ? static_cast<uid_t>(*perms.uid) : static_cast<uid_t>(-1);
    const gid_t gid = perms.gid ? static_cast<gid_t>(*perms.gid) : static_cast<gid_t>(-1);
    if (::fchown(fd, uid, gid) != 0) return errno;
  }
  unsigned gids[2];
  unsigned bits[2];
  int count = 0;
  const unsigned reader = group_access_bits(perms.written_by, AccessRole::reader);
  const unsigned writer = group_access_bits(perms.written_by, AccessRole::writer);
  if (perms.reader_gid) {
    gids[count] = *perms.reader_gid;
    bits[count++] = reader;
  }
  if (perms.writer_gid) {
    if (count == 1 && gids[0] == *perms.writer_gid) {
      bits[0] |= writer;  // one group named for both roles gets both
    } else {
      gids[count] = *perms.writer_gid;
      bits[count++] = writer;
    }
  }
  return posix::apply_acl(fd, mode, gids, bits, count);
}

}  // namespace

std::string describe_user(std::uint32_t uid) {
  std::string out = "uid " + std::to_string(uid);
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    out += " (";
    out += found->pw_name;
    out += ")";
  }
  return out;
}

std::string segment_location() { return posix::segment_directory_path(); }

std::uint32_t effective_user_id() noexcept { return static_cast<std::uint32_t>(::geteuid()); }

void prepare_segment_directory(const std::string& path, const DirectoryPermissions& perms) {
  if (path.empty() || path.front() != '/') {
    throw Error(Errc::invalid_argument, std::string(), "a segment directory must be an absolute path, got '" + path + "'");
  }
  Permissions mode_check;
  mode_check.mode = perms.mode;
  mode_check.allow_world_writable = perms.allow_world_writable;
  check_permissions(std::string(), mode_check);
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    throw os_error("creating the segment directory " + path, std::string(), errno);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP || posix::is_symlink(path)) {  // O_DIRECTORY|O_NOFOLLOW says ENOTDIR
      throw Error(Errc::permission_denied, std::string(),
                  "the segment directory " + path + " is a symbolic link: refusing it");
    }
    if (err == ENOTDIR) {
      throw Error(Errc::invalid_argument, std::string(), "the segment directory " + path + " is not a directory");
    }
    throw os_error("opening the segment directory " + path, std::string(), err);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw os_error("fstat of the segment directory " + path, std::string(), err);
  }
  const auto owner = static_cast<std::uint32_t>(st.st_uid);
  if (owner != effective_user_id()) {
    ::close(fd);
    throw Error(Errc::permission_denied, std::string(),
                "the segment directory " + path + " is owned by " + describe_user(owner) + ", not by " +
                    describe_user(effective_user_id()) +
                    ": refusing it (whoever owns it could create or replace any segment in it)");
  }
  // A directory needs x wherever the mode gives r or w.
  unsigned mode = perms.mode;
  for (unsigned shift = 0; shift <= 6; shift += 3) {
    if (((mode >> shift) & 6u) != 0) mode |= 1u << shift;
  }
  std::vector<unsigned> gids, bits;
  for (const std::uint32_t g : perms.member_gids) {
    bool seen = false;
    for (const unsigned h : gids) seen = seen || h == g;
    if (seen) continue;
    gids.push_back(g);
    bits.push_back(7u);
  }
  int err = posix::apply_acl(fd, mode, gids.data(), bits.data(), static_cast<int>(gids.size()));
  // After the ACL (which sets the permission bits only): the sticky bit, keeping the mask
  // (fchmod's group bits are the mask when an ACL has one).
  if (err == 0 && ::fstat(fd, &st) == 0 && ::fchmod(fd, (st.st_mode & 0777) | S_ISVTX) != 0) err = errno;
  ::close(fd);
  if (err != 0) throw os_error("applying the mode and ACL of the segment directory " + path, std::string(), err);
}

void set_segment_directory(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    throw Error(Errc::invalid_argument, std::string(), "a segment directory must be an absolute path, got '" + path + "'");
  }
  if (::setenv("STELLA_SEGMENT_DIR", path.c_str(), 1) != 0) {
    throw os_error("setenv(STELLA_SEGMENT_DIR)", std::string(), errno);
  }
}

std::string MappedObject::file_path(std::string_view name, ObjectPart part) {
  return posix::segment_directory_path() + "/" + object_file_name(name, part);
}

std::string MappedObject::os_name(std::string_view name, ObjectPart part) {
  // The default directory keeps the shm_open spelling ("/stella.NAME").
  std::string dir;
  try {
    dir = posix::segment_directory_path();
  } catch (const Error&) {
    dir = posix::kDefaultSegmentDirectory;
  }
  if (dir == posix::kDefaultSegmentDirectory) return "/" + object_file_name(name, part);
  return dir + "/" + object_file_name(name, part);
}

MappedObject::MappedObject(MappedObject&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      handle_(std::exchange(other.handle_, -1)),
      name_(std::move(other.name_)),
      access_(other.access_),
      part_(other.part_) {}

MappedObject& MappedObject::operator=(MappedObject&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    handle_ = std::exchange(other.handle_, -1);
    name_ = std::move(other.name_);
    access_ = other.access_;
    part_ = other.part_;
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

MappedObject MappedObject::create(std::string_view name, std::size_t size, const Permissions& perms,
                                  ObjectPart part) {
  validate_segment_name(name);
  const std::string seg(name);
  if (size == 0) throw Error(Errc::invalid_argument, seg, "a segment cannot be empty (size 0)");
  check_permissions(seg, perms);
  const std::string os = os_name(name, part);
  const std::string file = object_file_name(name, part);
  const int dir = posix::open_segment_directory(seg);
  // 0600 until owner, group, mode and ACL are applied: nobody else opens it half-configured.
  const int fd = ::openat(dir, file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    ::close(dir);
    if (err == EEXIST) throw Error(Errc::already_exists, seg, "a segment of this name already exists (" + os + ")");
    if (err == EACCES) {
      throw Error(Errc::permission_denied, seg,
                  "permission denied creating " + os + " (the segment directory " + segment_location() +
                      " is not writable for this user)");
    }
    throw os_error("creating " + os, seg, err);
  }
  auto fail = [&](std::string_view what, int err) {
    ::close(fd);
    ::unlinkat(dir, file.c_str(), 0);
    ::close(dir);
    return os_error(what, seg, err);
  };
  // The mode given to openat is filtered by the umask; the configured mode is the contract.
  if (const int err = apply_to_fd(fd, perms, perms.mode); err != 0) {
    throw fail("applying owner, group, mode and ACL (fchown/acl_set_fd)", err);
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
  ::close(dir);
  MappedObject obj;
  obj.data_ = data;
  obj.size_ = size;
  obj.handle_ = fd;
  obj.name_ = seg;
  obj.access_ = Access::read_write;
  obj.part_ = part;
  return obj;
}

MappedObject MappedObject::open(std::string_view name, Access access, ObjectPart part) {
  validate_segment_name(name);
  const std::string seg(name);
  const std::string os = os_name(name, part);
  const std::string file = object_file_name(name, part);
  // O_NONBLOCK: a FIFO planted under a segment's name must not block the open.
  const int flags = (access == Access::read_write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  const int dir = posix::open_segment_directory(seg);
  const int fd = ::openat(dir, file.c_str(), flags);
  const int open_error = errno;
  ::close(dir);
  if (fd < 0) {
    const int err = open_error;
    if (err == ENOENT) throw Error(Errc::not_found, seg, "no such segment (" + os + " does not exist)");
    if (err == EACCES) {
      throw Error(Errc::permission_denied, seg,
                  std::string("permission denied opening ") + os +
                      (access == Access::read_write ? " for writing" : " for reading"));
    }
    if (err == ELOOP) {
      throw Error(Errc::bad_magic, seg, "not a Stella segment: " + os + " is a symbolic link (never followed)");
    }
    throw os_error("opening " + os, seg, err);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw os_error("fstat", seg, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(Errc::bad_magic, seg, "not a Stella segment: " + os + " is not a regular file");
  }
  MappedObject obj;
  obj.handle_ = fd;
  obj.name_ = seg;
  obj.access_ = access;
  obj.part_ = part;
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

bool MappedObject::unlink(std::string_view name, ObjectPart part) {
  validate_segment_name(name);
  const std::string os = os_name(name, part);
  const std::string file = object_file_name(name, part);
  const int dir = posix::try_open_segment_directory();
  if (dir < 0) {
    if (errno == ENOENT) return false;
    throw os_error("opening the segment directory " + segment_location(), std::string(name), errno);
  }
  const int rc = ::unlinkat(dir, file.c_str(), 0);
  const int err = errno;
  ::close(dir);
  if (rc == 0) return true;
  if (err == ENOENT) return false;
  throw os_error("unlinking " + os, std::string(name), err);
}

bool MappedObject::exists(std::string_view name, ObjectPart part) {
  validate_segment_name(name);
  const std::string file = object_file_name(name, part);
  const int dir = posix::try_open_segment_directory();
  if (dir < 0) return errno != ENOENT;
  struct stat st {};
  const int rc = ::fstatat(dir, file.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  const int err = errno;
  ::close(dir);
  return rc == 0 || err != ENOENT;
}

std::optional<ObjectAttributes> MappedObject::stat(std::string_view name, ObjectPart part) {
  validate_segment_name(name);
  const std::string file = object_file_name(name, part);
  const int dir = posix::try_open_segment_directory();
  if (dir < 0) return std::nullopt;
  struct stat st {};
  const int rc = ::fstatat(dir, file.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  ::close(dir);
  if (rc != 0) return std::nullopt;
  ObjectAttributes a;
  a.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  a.uid = static_cast<std::uint32_t>(st.st_uid);
  a.gid = static_cast<std::uint32_t>(st.st_gid);
  a.size = static_cast<std::uint64_t>(st.st_size);
  return a;
}

ObjectAttributes MappedObject::attributes() const {
  struct stat st {};
  if (::fstat(fd_of(handle_), &st) != 0) throw os_error("fstat", name_, errno);
  ObjectAttributes a;
  a.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  a.uid = static_cast<std::uint32_t>(st.st_uid);
  a.gid = static_cast<std::uint32_t>(st.st_gid);
  a.size = static_cast<std::uint64_t>(st.st_size);
  // With an extended ACL the mode's group bits are the mask; report the owning group's
  // own entry instead, so the mode reads as configured.
  if (acl_t acl = ::acl_get_fd(fd_of(handle_)); acl != nullptr) {
    acl_entry_t entry;
    bool extended = false;
    std::uint32_t group_bits = (a.mode >> 3) & 7u;
    for (int which = ACL_FIRST_ENTRY; ::acl_get_entry(acl, which, &entry) == 1; which = ACL_NEXT_ENTRY) {
      acl_tag_t tag;
      if (::acl_get_tag_type(entry, &tag) != 0) continue;
      if (tag == ACL_MASK) extended = true;
      if (tag != ACL_GROUP_OBJ) continue;
      acl_permset_t set;
      if (::acl_get_permset(entry, &set) != 0) continue;
      group_bits = (::acl_get_perm(set, ACL_READ) == 1 ? 4u : 0u) | (::acl_get_perm(set, ACL_WRITE) == 1 ? 2u : 0u) |
                   (::acl_get_perm(set, ACL_EXECUTE) == 1 ? 1u : 0u);
    }
    if (extended) a.mode = (a.mode & ~070u) | (group_bits << 3);
    ::acl_free(acl);
  }
  return a;
}

void MappedObject::apply_permissions(const Permissions& perms) {
  check_permissions(name_, perms);
  if (const int err = apply_to_fd(fd_of(handle_), perms, perms.mode); err != 0) {
    throw os_error("applying owner, group, mode and ACL (fchown/acl_set_fd)", name_, err);
  }
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
