// The narrow platform interface for named shared-memory objects.
//
// POSIX: shm_open("/stella.<name>") (so /dev/shm/stella.<name>). Windows fills the same
// interface with named file mappings (Local\stella.<name>). Nothing above this layer
// knows which one it runs on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stella::platform {

enum class Access { read_only, read_write };

/// Owner, group and mode applied when a segment is created. Defaults are never
/// world-writable.
struct Permissions {
  std::uint32_t mode = 0660;
  std::optional<std::uint32_t> uid;  // chown the object to this user
  std::optional<std::uint32_t> gid;  // chown the object to this group
};

/// What the OS says about an open object (stellad checks an adopted segment against its config).
struct ObjectAttributes {
  std::uint32_t mode = 0;  // permission bits only (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;
};

/// A named shared-memory object mapped into this process. Move-only RAII: the
/// destructor unmaps and closes, it never unlinks.
class MappedObject {
 public:
  MappedObject() = default;
  MappedObject(const MappedObject&) = delete;
  MappedObject& operator=(const MappedObject&) = delete;
  MappedObject(MappedObject&& other) noexcept;
  MappedObject& operator=(MappedObject&& other) noexcept;
  ~MappedObject();

  /// Creates a new object of `size` bytes (fails with already_exists if the name is taken),
  /// reserves its memory up front (no_space if it cannot) and maps it read-write.
  /// The memory reads as zeros.
  static MappedObject create(std::string_view name, std::size_t size, const Permissions& perms = {});
  /// Opens and maps an existing object; its whole current size is mapped.
  static MappedObject open(std::string_view name, Access access);
  /// Removes the name. Existing mappings stay valid. Returns false if it did not exist.
  static bool unlink(std::string_view name);
  /// True when an object of that name exists.
  [[nodiscard]] static bool exists(std::string_view name);
  /// The OS-level object name, e.g. "/stella.telemetry", for messages and docs.
  [[nodiscard]] static std::string os_name(std::string_view name);

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] Access access() const noexcept { return access_; }
  [[nodiscard]] bool valid() const noexcept { return data_ != nullptr; }

  /// Mode, owner and size of the open object (fstat on POSIX).
  [[nodiscard]] ObjectAttributes attributes() const;
  /// Applies mode, owner and group to the open object (fchmod/fchown on POSIX), as
  /// create() does; used by stellad to apply a reloaded config to a live segment.
  void apply_permissions(const Permissions& perms);

  /// Exclusive lock on the object, released by the kernel when the holder dies
  /// (flock on POSIX, a lock file / LockFileEx on Windows). It excludes other
  /// MappedObject instances, in this process or another; not threads sharing one instance.
  void lock_exclusive();
  [[nodiscard]] bool try_lock_exclusive();
  void unlock();

 private:
  void reset() noexcept;

  void* data_ = nullptr;
  std::size_t size_ = 0;
  std::intptr_t handle_ = -1;  // fd on POSIX, HANDLE on Windows
  std::string name_;
  Access access_ = Access::read_only;
};

}  // namespace stella::platform
