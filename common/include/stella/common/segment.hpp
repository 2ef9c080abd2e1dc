// Every Stella segment starts with a SegmentHeader. This file is the layout spec of that
// header; the kind-specific area (blob or ring) starts at header.area_offset.
//
// Creation protocol: the creator reserves and zeroes the memory, writes every field, then
// stores layout_version last with release order. An opener that sees layout_version == 0
// waits a little for the creator (it is still initialising) and then reports the segment
// as corrupt; any other version than kLayoutVersion is a version mismatch naming both.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "stella/common/platform/shm.hpp"

namespace stella {

inline constexpr std::size_t kCacheLineSize = 64;
/// "STELLA" followed by 0x5E, 0x6D: never a valid value of anything else we write.
inline constexpr std::uint64_t kSegmentMagic = 0x6D5E414C4C455453ull;
/// Bump on any change to a shared layout (header, blob or ring). tests/common/layout_guard
/// fails when a layout changes without this number changing.
inline constexpr std::uint32_t kLayoutVersion = 4;

enum class SegmentKind : std::uint32_t { blob = 1, ring = 2 };

[[nodiscard]] std::string_view to_string(SegmentKind kind) noexcept;

struct SegmentHeader {
  std::uint64_t magic;                        // kSegmentMagic
  std::atomic<std::uint32_t> layout_version;  // stored last by the creator (release)
  std::uint32_t kind;                         // SegmentKind
  std::uint64_t total_size;                   // bytes of the whole object
  std::uint64_t area_offset;                  // where the kind-specific area starts
  std::uint64_t area_size;                    // bytes of the kind-specific area
  std::uint64_t params[4];                    // kind-specific immutable parameters
  std::uint64_t creator_pid;
  std::uint64_t creator_start_time;
  std::uint64_t created_unix_ns;
  std::uint64_t checksum;                     // FNV-1a over every other byte, with layout_version as 0
  /// The payload type tag (typed channels): up to kMaxSchemaLength characters of
  /// [A-Za-z0-9._:@/+-], NUL-padded; all NUL: untyped. Set at creation, covered by the checksum.
  char schema[24];
};
inline constexpr std::size_t kMaxSchemaLength = 24;

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<SegmentHeader>);
static_assert(sizeof(SegmentHeader) == 128, "the header is two cache lines; change kLayoutVersion with it");
static_assert(offsetof(SegmentHeader, layout_version) == 8);
static_assert(offsetof(SegmentHeader, kind) == 12);
static_assert(offsetof(SegmentHeader, area_offset) == 24);
static_assert(offsetof(SegmentHeader, params) == 40);
static_assert(offsetof(SegmentHeader, checksum) == 96);
static_assert(offsetof(SegmentHeader, schema) == 104);

/// What a creator asks for. area_offset is rounded up to `area_alignment`.
struct SegmentSpec {
  SegmentKind kind = SegmentKind::blob;
  std::uint64_t area_size = 0;
  std::uint64_t params[4] = {0, 0, 0, 0};
  std::size_t area_alignment = kCacheLineSize;
  std::string_view schema;  // the type tag to store, empty for none (checked by check_schema_tag)
};

/// Throws Error(invalid_argument) naming `segment` unless `tag` is empty or 1..24 characters
/// of [A-Za-z0-9._:@/+-].
void check_schema_tag(std::string_view segment, std::string_view tag);

/// Throws Error(type_mismatch) naming both tags when `expected` is not empty and differs
/// from the segment's (an untyped segment has the empty tag). An empty `expected` accepts any.
void require_schema(std::string_view segment, std::string_view carried, std::string_view expected);

/// A mapped segment whose header has been written (create) or validated (open).
class Segment {
 public:
  Segment() = default;
  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;

  /// Creates `name`, reserves its memory and writes the header, unpublished: initialise
  /// the area, then call publish().
  static Segment create(std::string_view name, const SegmentSpec& spec, const platform::Permissions& perms = {});
  /// Makes a created segment visible to openers: stores layout_version last, with
  /// release order, after the caller has initialised its area.
  void publish() noexcept;
  /// Opens `name` and validates its header against `expected` kind. Fails with a clear
  /// Error naming the segment for: missing, truncated, bad magic, other version, other
  /// kind, inconsistent or corrupt header. `init_wait` bounds the wait for a creator
  /// that has not published the header yet.
  static Segment open(std::string_view name, SegmentKind expected, platform::Access access,
                      std::chrono::milliseconds init_wait = std::chrono::milliseconds(500));
  /// Validates a header held in `bytes` (any bytes at all). Throws like open(); used by
  /// open() and by the fuzzer.
  static void validate(std::string_view name, const void* bytes, std::size_t size, SegmentKind expected);

  /// The header as validated at open (or written at create): a private copy. Nothing in it
  /// is re-read from the mapping, so a process that scribbles over the shared header
  /// afterwards cannot move the area or change a size under this process.
  [[nodiscard]] const SegmentHeader& header() const noexcept { return header_; }
  /// The segment's type tag ("" when untyped), from the private copy of the header.
  [[nodiscard]] std::string_view schema() const noexcept;
  [[nodiscard]] std::byte* area() const noexcept {
    return static_cast<std::byte*>(object_.data()) + header_.area_offset;
  }
  [[nodiscard]] std::size_t area_size() const noexcept { return header_.area_size; }
  /// The header as it is in the mapping now (anyone may have written it): for checks only.
  [[nodiscard]] const SegmentHeader& shared_header() const noexcept {
    return *static_cast<const SegmentHeader*>(object_.data());
  }
  [[nodiscard]] const std::string& name() const noexcept { return object_.name(); }
  [[nodiscard]] platform::MappedObject& object() noexcept { return object_; }
  [[nodiscard]] bool valid() const noexcept { return object_.valid(); }

 private:
  explicit Segment(platform::MappedObject object);
  platform::MappedObject object_;
  SegmentHeader header_{};  // private copy, see header()
};

/// The checksum stored in a header (exposed for tests that forge headers).
[[nodiscard]] std::uint64_t header_checksum(const SegmentHeader& header) noexcept;

}  // namespace stella
