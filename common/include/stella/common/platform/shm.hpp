// The narrow platform interface for named shared-memory objects.
//
// POSIX: the file stella.<name> in the segment directory, /dev/shm by default (where
// shm_open("/stella.<name>") puts it) or STELLA_SEGMENT_DIR, opened with O_NOFOLLOW
// relative to the directory opened with O_NOFOLLOW. Windows fills the same interface with
// named file mappings (Local\stella.<name>). Nothing above this layer knows which one it
// runs on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stella::platform {

enum class Access { read_only, read_write };

/// Which role writes an object. It decides what reader_gid and writer_gid get on it:
/// the role that writes an object gets read-write, the other role read-only.
enum class ObjectWriters : std::uint8_t {
  writers,              // a blob; a ring's own object once readers write a companion object
  readers,              // a ring's readers' companion object (reader slots, cursors)
  writers_and_readers,  // a ring whose readers still write their slots into it: both get read-write
};

/// Owner, group and mode applied when a segment is created, plus the groups that may
/// read or write it (POSIX ACL entries; docs/robustness.md lists the resulting modes).
/// Defaults are never world-writable, and a world-writable mode is refused unless
/// allow_world_writable says so.
struct Permissions {
  std::uint32_t mode = 0660;
  std::optional<std::uint32_t> uid;         // chown the object to this user
  std::optional<std::uint32_t> gid;         // chown the object to this group
  std::optional<std::uint32_t> reader_gid;  // this group may open readers (ACL entry)
  std::optional<std::uint32_t> writer_gid;  // this group may open writers (ACL entry)
  ObjectWriters written_by = ObjectWriters::writers_and_readers;
  bool allow_world_writable = false;  // accept a mode with the 0002 bit
};

/// The permission bits (0-7, r=4 w=2 x=1) that `perms` gives `group` on an object:
/// what an ACL entry for reader_gid or writer_gid holds. Exposed for tests and docs.
enum class AccessRole : std::uint8_t { reader, writer };
[[nodiscard]] std::uint32_t group_access_bits(ObjectWriters written_by, AccessRole role) noexcept;

/// Throws Error(invalid_argument) naming `segment` when `perms` is out of range or world-
/// writable without allow_world_writable.
void check_permissions(const std::string& segment, const Permissions& perms);

/// What the OS says about an open object (stellad checks an adopted segment against its config).
struct ObjectAttributes {
  std::uint32_t mode = 0;  // permission bits only (07777); with an ACL, its owning-group bits, not the mask
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;
};

/// Where named objects live, for messages and docs: POSIX the segment directory
/// (STELLA_SEGMENT_DIR, default /dev/shm); Windows the object namespace ("Local\\").
[[nodiscard]] std::string segment_location();

/// The effective uid of this process (what stellad compares an adopted segment's owner
/// with); 0 on Windows, which has no uids.
[[nodiscard]] std::uint32_t effective_user_id() noexcept;

/// "uid 1002 (mallory)" (the name when the user database has one), for messages.
[[nodiscard]] std::string describe_user(std::uint32_t uid);

/// Owner, mode and member groups of a segment directory (stellad's `segment_dir`).
struct DirectoryPermissions {
  std::uint32_t mode = 0700;                // x is added wherever r or w is given; sticky always
  std::vector<std::uint32_t> member_gids;   // each gets rwx (an ACL entry): they may create objects
  bool allow_world_writable = false;        // accept a mode with the 0002 bit
};

/// Makes `path` a segment directory that only its owner and the member groups can create
/// objects in: creates it if missing (never through a symbolic link: the last component is
/// opened O_NOFOLLOW), refuses one owned by another user (permission_denied naming the
/// owner: whoever owns it could create or replace any segment in it), then applies mode |
/// sticky (nobody removes or renames another user's object in it) and the ACL entries.
/// Idempotent. Windows: not supported (invalid_argument).
void prepare_segment_directory(const std::string& path, const DirectoryPermissions& perms);

/// Makes `path` this process's segment directory (POSIX: sets STELLA_SEGMENT_DIR, which
/// child processes inherit). Windows: not supported (invalid_argument).
void set_segment_directory(const std::string& path);

/// Which object of a segment a MappedObject names. A ring's readers' companion object holds
/// what readers write (reader slots, cursors, sleeper counts); writers map it read-only, and
/// it is created with Permissions::written_by = ObjectWriters::readers.
///   POSIX   segment: <dir>/stella.<name>      readers: <dir>/stella-readers.<name>
///   Windows segment: <ns>stella.<name>        readers: <ns>stella-readers.<name>
/// No segment name can produce the other's file name ("stella." vs "stella-readers.").
enum class ObjectPart : std::uint8_t { segment, readers };

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
  static MappedObject create(std::string_view name, std::size_t size, const Permissions& perms = {},
                             ObjectPart part = ObjectPart::segment);
  /// Opens and maps an existing object; its whole current size is mapped.
  static MappedObject open(std::string_view name, Access access, ObjectPart part = ObjectPart::segment);
  /// Removes the name. Existing mappings stay valid. Returns false if it did not exist.
  static bool unlink(std::string_view name, ObjectPart part = ObjectPart::segment);
  /// True when an object of that name exists.
  [[nodiscard]] static bool exists(std::string_view name, ObjectPart part = ObjectPart::segment);
  /// Mode, owner and size of the object of that name without opening it (lstat: a
  /// symbolic link is described, never followed); nullopt when there is none. Windows:
  /// always nullopt (kernel objects have no POSIX owner).
  [[nodiscard]] static std::optional<ObjectAttributes> stat(std::string_view name,
                                                          ObjectPart part = ObjectPart::segment);
  /// POSIX: the object's full path, e.g. "/dev/shm/stella.telemetry" (what /proc/<pid>/maps
  /// shows); Windows: os_name().
  [[nodiscard]] static std::string file_path(std::string_view name, ObjectPart part = ObjectPart::segment);
  /// The OS-level object name, e.g. "/stella.telemetry", for messages and docs.
  [[nodiscard]] static std::string os_name(std::string_view name, ObjectPart part = ObjectPart::segment);

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] Access access() const noexcept { return access_; }
  [[nodiscard]] ObjectPart part() const noexcept { return part_; }
  [[nodiscard]] bool valid() const noexcept { return data_ != nullptr; }

  /// Mode, owner and size of the open object (fstat on POSIX).
  [[nodiscard]] ObjectAttributes attributes() const;
  /// Applies mode, owner, group and the reader/writer group ACL entries to the open object
  /// (fchown, then the ACL or fchmod), as create() does; used by stellad to apply a
  /// reloaded config to a live segment. Refuses a world-writable mode like create().
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
  ObjectPart part_ = ObjectPart::segment;
};

}  // namespace stella::platform
