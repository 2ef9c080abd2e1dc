// SharedMemory: one value shared between processes, through a named blob segment.
//
//   // Process A
//   stella::SharedMemory shm("MySharedData", stella::SharedMemoryMode::Create, 1024);
//   shm.write(Greeting{"Hello from Process A", 42}, stella::JsonSerializer{});
//   // Process B
//   stella::SharedMemory shm("MySharedData", stella::SharedMemoryMode::Open);
//   auto data = shm.read<nlohmann::json>(stella::JsonSerializer{});
//
// Writers exclude each other with a lock the kernel releases when its holder dies, so a
// crashed writer never blocks the next one. Readers take no lock, never wait for a
// writer and never see a half-written value (see stella/common/blob.hpp for the
// algorithm). Destroying a SharedMemory unmaps it; the segment lives on until remove().
//
// Thread safety: one object may be shared by threads (writes are serialised by a mutex,
// reads are lock-free); the scratch buffers used by write()/read() are thread_local.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stella/common/error.hpp"
#include "stella/common/export.h"
#include "stella/common/platform/shm.hpp"
#include "stella/serializer.hpp"

namespace stella {

class BlobSegment;

enum class SharedMemoryMode {
  Create,        ///< create a new segment; Errc::already_exists if the name is taken
  Open,          ///< open an existing segment; Errc::not_found if there is none
  OpenOrCreate,  ///< open it if it exists (its capacity must be >= the one asked), else create it
};

/// Options of a SharedMemory open.
struct SharedMemoryOptions {
  /// Map the segment read-only (Open only): write() then fails with permission_denied.
  bool read_only = false;
  /// Owner, group and mode of a segment this call creates (default 0660).
  platform::Permissions permissions{};
  /// Typed channel: the value's type tag (up to 24 of [A-Za-z0-9._:@/+-]). Create stores it;
  /// Open and OpenOrCreate, when it is not empty, refuse a segment that carries another tag
  /// or none (Errc::type_mismatch, naming both). Empty: untyped access, which opens any blob.
  std::string schema;
};

/// One value shared between processes, through a named blob segment (see the file comment).
class STELLA_API SharedMemory {
 public:
  class WriteClaim;

  /// Creates and/or opens the segment `name` (1-64 characters of [A-Za-z0-9._-]).
  /// `capacity` is the largest value in bytes; it is needed by Create and OpenOrCreate
  /// and ignored by Open. Throws stella::Error: invalid_name, not_found, already_exists,
  /// wrong_kind, truncated, bad_magic, version_mismatch, corrupt, no_space,
  /// permission_denied, invalid_argument (capacity 0, or read_only with Create).
  SharedMemory(std::string_view name, SharedMemoryMode mode, std::size_t capacity = 0,
               const SharedMemoryOptions& options = {});
  /// Opens an existing segment mapped read-only.
  [[nodiscard]] static SharedMemory open_read_only(std::string_view name);

  /// Movable: the moved-from object must not be used (invalid_argument).
  SharedMemory(SharedMemory&& other) noexcept;
  /// Movable: the moved-from object must not be used (invalid_argument).
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  ~SharedMemory();

  /// The segment's name.
  [[nodiscard]] const std::string& name() const;
  /// The segment's type tag ("" when untyped).
  [[nodiscard]] std::string_view schema() const;
  /// The largest value, in bytes, this segment holds.
  [[nodiscard]] std::size_t capacity() const;
  /// Whether it was opened read-only.
  [[nodiscard]] bool read_only() const;
  /// Number of values written so far (0 = never written): compare two readings to see
  /// whether the value changed.
  [[nodiscard]] std::uint64_t generation() const;

  // ---- Writing. Throws value_too_large (naming segment, size and capacity) when the
  // encoded value does not fit, permission_denied when opened read-only. ----

  /// Encodes `value` with `serializer` and publishes it, waiting for other writers.
  template <class T, class S>
    requires SerializerFor<S, T>
  void write(const T& value, const S& serializer) {
    std::vector<std::byte>& buffer = write_scratch();
    try {
      serializer.serialize(value, buffer);
    } catch (const Error& e) {
      rethrow_naming_segment(e);
    }
    write_bytes(buffer);
  }
  /// Publishes raw bytes, waiting for other writers.
  void write_bytes(std::span<const std::byte> bytes);
  /// Publishes raw bytes unless another writer holds the lock (then returns false at once).
  [[nodiscard]] bool try_write_bytes(std::span<const std::byte> bytes);
  /// Zero copy: locks, and returns up to `max_size` bytes of the next slot to fill in
  /// place; commit(n) publishes the first n. Abandoned (destroyed uncommitted) it is
  /// never seen by readers.
  [[nodiscard]] WriteClaim claim(std::size_t max_size);
  /// Like claim, but nullopt at once if another writer holds the lock.
  [[nodiscard]] std::optional<WriteClaim> try_claim(std::size_t max_size);

  // ---- Reading: never blocks, never takes a lock, never returns a torn value. ----

  /// Decodes the current value. Throws Errc::empty if nothing was written yet, and
  /// Errc::serialization (naming the segment) if the bytes do not decode as T.
  template <class T, class S>
    requires SerializerFor<S, T> && std::default_initializable<T>
  [[nodiscard]] T read(const S& serializer) const {
    T result{};
    if (!decode_into(serializer, result)) throw_empty();
    return result;
  }
  /// Like read, but std::nullopt when nothing was written yet.
  template <class T, class S>
    requires SerializerFor<S, T> && std::default_initializable<T>
  [[nodiscard]] std::optional<T> try_read(const S& serializer) const {
    T result{};
    if (!decode_into(serializer, result)) return std::nullopt;
    return result;
  }
  /// The current value's bytes. Throws Errc::empty if nothing was written yet.
  [[nodiscard]] std::vector<std::byte> read_bytes() const;
  /// The current value's bytes, or std::nullopt if nothing was written yet.
  [[nodiscard]] std::optional<std::vector<std::byte>> try_read_bytes() const;
  /// Copies the current value into `out` (reusing its storage); false if empty.
  [[nodiscard]] bool try_read_bytes_into(std::vector<std::byte>& out) const;

  // ---- Removal ----

  /// Removes the segment's name; mappings already open (here and elsewhere) stay valid
  /// until closed, and a new segment may be created under the name at once.
  void remove();
  /// Removes the segment `name`; false if there was none.
  static bool remove(std::string_view name);

 private:
  explicit SharedMemory(std::unique_ptr<BlobSegment> blob);

  template <class T, class S>
  bool decode_into(const S& serializer, T& result) const {
    std::vector<std::byte>& buffer = read_scratch();
    if (!try_read_bytes_into(buffer)) return false;
    try {
      serializer.deserialize(std::span<const std::byte>(buffer), result);
    } catch (const Error& e) {
      rethrow_naming_segment(e);
    }
    return true;
  }

  [[noreturn]] void throw_empty() const;
  /// Called inside a catch handler: rethrows `e`, with this segment's name if it had none.
  [[noreturn]] void rethrow_naming_segment(const Error& e) const;
  [[nodiscard]] BlobSegment& blob() const;
  static std::vector<std::byte>& write_scratch();
  static std::vector<std::byte>& read_scratch();

  std::unique_ptr<BlobSegment> blob_;
};

/// A write in progress, holding the writer lock until commit() or destruction.
class STELLA_API SharedMemory::WriteClaim {
 public:
  /// Moves the claim (and the writer lock); `other` no longer holds it.
  WriteClaim(WriteClaim&& other) noexcept;
  WriteClaim& operator=(WriteClaim&&) = delete;
  WriteClaim(const WriteClaim&) = delete;
  WriteClaim& operator=(const WriteClaim&) = delete;
  /// Aborts if not committed: readers keep seeing the previous value.
  ~WriteClaim();

  /// The bytes to fill (max_size of them). Valid until commit or abort.
  [[nodiscard]] std::span<std::byte> data() const noexcept { return data_; }
  /// Publishes the first `size` bytes (default: all of data()) and releases the lock.
  void commit(std::size_t size);
  /// Publishes all of data().
  void commit() { commit(data_.size()); }
  /// Abandons the write and releases the lock.
  void abort() noexcept;

 private:
  friend class SharedMemory;
  WriteClaim(BlobSegment* blob, std::span<std::byte> data) noexcept : blob_(blob), data_(data) {}
  BlobSegment* blob_ = nullptr;
  std::span<std::byte> data_;
};

}  // namespace stella
