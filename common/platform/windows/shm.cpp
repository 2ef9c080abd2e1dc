// Windows shared-memory objects: pagefile-backed named file mappings (SEC_COMMIT) and a
// LockFileEx lock file for the writer lock.
//
// Differences from POSIX (see docs/windows.md):
// - A mapping exists while some process holds a handle to it. There is no shm_unlink:
//   unlink() only reports whether the name exists (and removes the lock file when nobody
//   uses it). A segment therefore vanishes when its last user closes it; stellad keeps
//   the segments it owns alive.
// - Permissions::mode/uid/gid do not apply: objects get the creator's default security
//   descriptor (the creator, SYSTEM and Administrators; never Everyone).
#include "stella/common/platform/shm.hpp"

#include <cstdlib>
#include <mutex>
#include <utility>

#include "stella/common/names.hpp"
#include "windows_internal.hpp"

namespace stella::platform {

namespace win = windows;

namespace {

// What handle_ points to (handle_ is -1 or a State*): the mapping handle and the
// lazily opened lock file.
struct State {
  HANDLE mapping = nullptr;
  HANDLE lock_file = INVALID_HANDLE_VALUE;
};

State* state_of(std::intptr_t handle) { return handle == -1 ? nullptr : reinterpret_cast<State*>(handle); }

bool is_no_space(DWORD err) {
  return err == ERROR_COMMITMENT_LIMIT || err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_OUTOFMEMORY ||
         err == ERROR_DISK_FULL || err == ERROR_NO_SYSTEM_RESOURCES;
}

std::size_t view_size(const void* base) {
  MEMORY_BASIC_INFORMATION info{};
  if (::VirtualQuery(base, &info, sizeof info) == 0) return 0;
  return info.RegionSize;
}

// Lock files are named after the namespace (and the session for Local): a Local
// segment of session 1 and one of session 2 are different objects.
// "stella." or "stella-readers." (see ObjectPart in shm.hpp).
const char* part_prefix(ObjectPart part) { return part == ObjectPart::readers ? "stella-readers." : "stella."; }

// The name wait/wake key a mapping's waiter table by: one table per object, so a word of
// the readers' object and a word at the same offset of the segment never share sleepers.
std::string waiter_key(const std::string& segment, ObjectPart part) {
  return part == ObjectPart::readers ? "readers!" + segment : segment;
}

std::wstring lock_path(std::string_view name, ObjectPart part = ObjectPart::segment) {
  std::string file;
  if (win::object_namespace() == "Global\\") {
    file = "global.";
  } else {
    DWORD session = 0;
    ::ProcessIdToSessionId(::GetCurrentProcessId(), &session);
    file = "local" + std::to_string(session) + ".";
  }
  file += part_prefix(part);
  file += name;
  file += ".lock";
  return win::lock_directory() + L"\\" + win::widen(file);
}

HANDLE open_lock_file(const std::string& name, ObjectPart part) {
  const std::wstring dir = win::lock_directory();
  ::CreateDirectoryW(dir.c_str(), nullptr);  // ERROR_ALREADY_EXISTS is fine
  const std::wstring path = lock_path(name, part);
  // Read access is enough for LockFileEx and is what other users get on an inherited
  // ProgramData ACL. No FILE_SHARE_DELETE: unlink() can delete the file only while
  // nobody has it open, so no one ever locks a file that is no longer the lock.
  HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD err = ::GetLastError();
    std::string p(path.begin(), path.end());  // ASCII by construction, except a user's lock dir
    throw win::win_error("opening the lock file " + p, name, err);
  }
  return h;
}

}  // namespace

std::string MappedObject::file_path(std::string_view name, ObjectPart part) { return os_name(name, part); }

std::string MappedObject::os_name(std::string_view name, ObjectPart part) {
  std::string os = win::object_namespace();
  os += part_prefix(part);
  os += name;
  return os;
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
  if (data_ != nullptr) {
    win::unregister_mapping(data_);
    ::UnmapViewOfFile(data_);
  }
  if (State* st = state_of(handle_)) {
    if (st->lock_file != INVALID_HANDLE_VALUE) ::CloseHandle(st->lock_file);  // drops any lock we hold
    if (st->mapping != nullptr) ::CloseHandle(st->mapping);
    delete st;
  }
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
  const auto size64 = static_cast<std::uint64_t>(size);
  // SEC_COMMIT charges the whole size against the commit limit now: an exhausted
  // pagefile is an error here, never an access violation on first touch later.
  HANDLE mapping = ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE | SEC_COMMIT,
                                        static_cast<DWORD>(size64 >> 32), static_cast<DWORD>(size64 & 0xFFFFFFFFu),
                                        win::widen(os).c_str());
  const DWORD err = ::GetLastError();
  if (mapping != nullptr && err == ERROR_ALREADY_EXISTS) {
    ::CloseHandle(mapping);
    throw Error(Errc::already_exists, seg, "a segment of this name already exists (" + os + ")");
  }
  if (mapping == nullptr) {
    if (err == ERROR_INVALID_HANDLE) {
      throw Error(Errc::already_exists, seg, "the name " + os + " is taken by another kind of kernel object");
    }
    if (is_no_space(err)) {
      throw Error(Errc::no_space, seg,
                  "not enough memory to commit " + std::to_string(size) +
                      " bytes (is the pagefile full or the commit limit reached?)");
    }
    if (err == ERROR_ACCESS_DENIED) {
      throw Error(Errc::permission_denied, seg,
                  "permission denied creating " + os +
                      (os.rfind("Global\\", 0) == 0 ? " (Global\\ needs SeCreateGlobalPrivilege)" : ""));
    }
    throw win::win_error("CreateFileMapping(" + os + ")", seg, err);
  }
  void* data = ::MapViewOfFile(mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, size);
  if (data == nullptr) {
    const DWORD map_err = ::GetLastError();
    ::CloseHandle(mapping);
    if (is_no_space(map_err)) {
      throw Error(Errc::no_space, seg, "not enough address space to map " + std::to_string(size) + " bytes");
    }
    throw win::win_error("MapViewOfFile", seg, map_err);
  }
  MappedObject obj;
  obj.handle_ = reinterpret_cast<std::intptr_t>(new State{mapping, INVALID_HANDLE_VALUE});
  obj.data_ = data;
  obj.size_ = size;
  obj.name_ = seg;
  obj.access_ = Access::read_write;
  obj.part_ = part;
  win::register_mapping(data, size, waiter_key(seg, part));
  return obj;
}

MappedObject MappedObject::open(std::string_view name, Access access, ObjectPart part) {
  validate_segment_name(name);
  const std::string seg(name);
  const std::string os = os_name(name, part);
  const DWORD map_access = access == Access::read_write ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ;
  HANDLE mapping = ::OpenFileMappingW(map_access, FALSE, win::widen(os).c_str());
  if (mapping == nullptr) {
    const DWORD err = ::GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_INVALID_HANDLE) {
      throw Error(Errc::not_found, seg, "no such segment (" + os + " does not exist)");
    }
    if (err == ERROR_ACCESS_DENIED) {
      throw Error(Errc::permission_denied, seg,
                  std::string("permission denied opening ") + os +
                      (access == Access::read_write ? " for writing" : " for reading"));
    }
    throw win::win_error("OpenFileMapping(" + os + ")", seg, err);
  }
  void* data = ::MapViewOfFile(mapping, map_access, 0, 0, 0);  // the whole section
  if (data == nullptr) {
    const DWORD err = ::GetLastError();
    ::CloseHandle(mapping);
    throw win::win_error("MapViewOfFile", seg, err);
  }
  MappedObject obj;
  obj.handle_ = reinterpret_cast<std::intptr_t>(new State{mapping, INVALID_HANDLE_VALUE});
  obj.data_ = data;
  // Sections are page-granular: this is the created size rounded up to a page (the
  // header's total_size says how much of it the segment uses).
  obj.size_ = view_size(data);
  obj.name_ = seg;
  obj.access_ = access;
  obj.part_ = part;
  win::register_mapping(data, obj.size_, waiter_key(seg, part));
  return obj;
}

bool MappedObject::unlink(std::string_view name, ObjectPart part) {
  validate_segment_name(name);
  const bool existed = exists(name, part);
  // The mapping goes away with its last handle; only the lock file can be removed, and
  // only while no MappedObject has it open (it is opened without FILE_SHARE_DELETE).
  ::DeleteFileW(lock_path(name, part).c_str());
  return existed;
}

bool MappedObject::exists(std::string_view name, ObjectPart part) {
  validate_segment_name(name);
  HANDLE mapping = ::OpenFileMappingW(FILE_MAP_READ, FALSE, win::widen(os_name(name, part)).c_str());
  if (mapping != nullptr) {
    ::CloseHandle(mapping);
    return true;
  }
  const DWORD err = ::GetLastError();
  return err != ERROR_FILE_NOT_FOUND && err != ERROR_INVALID_HANDLE;
}

std::optional<ObjectAttributes> MappedObject::stat(std::string_view name, ObjectPart) {
  validate_segment_name(name);
  return std::nullopt;  // a kernel object has a security descriptor, no POSIX owner
}

ObjectAttributes MappedObject::attributes() const {
  if (state_of(handle_) == nullptr) throw Error(Errc::invalid_argument, name_, "attributes of a closed segment");
  // No POSIX mode or owner: the object carries a security descriptor (docs/windows.md).
  ObjectAttributes a;
  a.size = size_;
  return a;
}

void MappedObject::apply_permissions(const Permissions& perms) {
  check_permissions(name_, perms);
  // Nothing to apply: mode, uid, gid and the group ACL entries have no Windows meaning
  // (see create()).
}

std::string segment_location() { return win::object_namespace(); }

std::uint32_t effective_user_id() noexcept { return 0; }

std::string describe_user(std::uint32_t uid) { return "uid " + std::to_string(uid); }

void prepare_segment_directory(const std::string& path, const DirectoryPermissions&) {
  throw Error(Errc::invalid_argument, std::string(),
              "a segment directory (" + path + ") is POSIX only: Windows segments are named kernel objects");
}

void set_segment_directory(const std::string& path) {
  throw Error(Errc::invalid_argument, std::string(),
              "a segment directory (" + path + ") is POSIX only: Windows segments are named kernel objects");
}

namespace {
State& lockable_state(std::intptr_t handle, const std::string& name, ObjectPart part) {
  State* st = state_of(handle);
  if (st == nullptr) throw Error(Errc::invalid_argument, name, "lock on a closed segment");
  if (st->lock_file == INVALID_HANDLE_VALUE) st->lock_file = open_lock_file(name, part);
  return *st;
}

// The lock is one byte at offset 0 of the (empty) lock file: locking past the end of a
// file is allowed.
bool lock_file(HANDLE file, DWORD flags) {
  OVERLAPPED ov{};
  return ::LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | flags, 0, 1, 0, &ov) != 0;
}
}  // namespace

void MappedObject::lock_exclusive() {
  State& st = lockable_state(handle_, name_, part_);
  if (!lock_file(st.lock_file, 0)) throw win::win_error("LockFileEx", name_, ::GetLastError());
}

bool MappedObject::try_lock_exclusive() {
  State& st = lockable_state(handle_, name_, part_);
  if (lock_file(st.lock_file, LOCKFILE_FAIL_IMMEDIATELY)) return true;
  const DWORD err = ::GetLastError();
  if (err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING) return false;
  throw win::win_error("LockFileEx", name_, err);
}

void MappedObject::unlock() {
  State* st = state_of(handle_);
  if (st == nullptr || st->lock_file == INVALID_HANDLE_VALUE) return;
  OVERLAPPED ov{};
  ::UnlockFileEx(st->lock_file, 0, 1, 0, &ov);
}

}  // namespace stella::platform
