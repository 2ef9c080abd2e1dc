#include "stella/common/segment.hpp"

#include <cstring>
#include <new>
#include <thread>

#include "stella/common/error.hpp"
#include "stella/common/platform/process.hpp"

namespace stella {

std::string_view to_string(SegmentKind kind) noexcept {
  switch (kind) {
    case SegmentKind::blob: return "blob";
    case SegmentKind::ring: return "ring";
  }
  return "unknown";
}

namespace {

std::string kind_name(std::uint32_t raw) {
  if (raw == static_cast<std::uint32_t>(SegmentKind::blob)) return "blob";
  if (raw == static_cast<std::uint32_t>(SegmentKind::ring)) return "ring";
  return "unknown kind " + std::to_string(raw);
}

std::uint64_t round_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

std::uint64_t header_checksum(const SegmentHeader& header) noexcept {
  unsigned char bytes[sizeof(SegmentHeader)];
  std::memcpy(bytes, &header, sizeof bytes);
  std::memset(bytes + offsetof(SegmentHeader, layout_version), 0, sizeof(std::uint32_t));
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < sizeof bytes; ++i) {
    if (i >= offsetof(SegmentHeader, checksum) && i < offsetof(SegmentHeader, checksum) + sizeof(std::uint64_t)) continue;
    h ^= bytes[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {
bool schema_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '@' || c == '/' || c == '+' || c == '-';
}
std::string quoted_tag(std::string_view tag) { return tag.empty() ? std::string("no type") : "type '" + std::string(tag) + "'"; }
}  // namespace

void check_schema_tag(std::string_view segment, std::string_view tag) {
  if (tag.size() > kMaxSchemaLength) {
    throw Error(Errc::invalid_argument, std::string(segment),
                "type tag '" + std::string(tag) + "' is " + std::to_string(tag.size()) + " characters; at most " +
                    std::to_string(kMaxSchemaLength));
  }
  for (const char c : tag) {
    if (!schema_char(c)) {
      throw Error(Errc::invalid_argument, std::string(segment),
                  "type tag '" + std::string(tag) + "' holds a character other than [A-Za-z0-9._:@/+-]");
    }
  }
}

void require_schema(std::string_view segment, std::string_view carried, std::string_view expected) {
  if (expected.empty() || carried == expected) return;
  throw Error(Errc::type_mismatch, std::string(segment),
              "carries " + quoted_tag(carried) + ", but this " + quoted_tag(expected) + " was asked for");
}

std::string_view Segment::schema() const noexcept {
  std::size_t n = 0;
  while (n < kMaxSchemaLength && header_.schema[n] != '\0') ++n;
  return std::string_view(header_.schema, n);
}

Segment::Segment(platform::MappedObject object) : object_(std::move(object)) {
  // A private copy of what was validated (open) or written (create); see header().
  std::memcpy(static_cast<void*>(&header_), object_.data(), sizeof header_);
}

Segment::Segment(Segment&& other) noexcept : object_(std::move(other.object_)) {
  std::memcpy(static_cast<void*>(&header_), static_cast<const void*>(&other.header_), sizeof header_);
}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    object_ = std::move(other.object_);
    std::memcpy(static_cast<void*>(&header_), static_cast<const void*>(&other.header_), sizeof header_);
  }
  return *this;
}

Segment Segment::create(std::string_view name, const SegmentSpec& spec, const platform::Permissions& perms) {
  check_schema_tag(name, spec.schema);  // before anything is created
  const std::uint64_t area_offset = round_up(sizeof(SegmentHeader), spec.area_alignment);
  const std::uint64_t total = area_offset + spec.area_size;
  if (spec.area_size == 0) throw Error(Errc::invalid_argument, std::string(name), "segment capacity must be > 0");
  auto object = platform::MappedObject::create(name, static_cast<std::size_t>(total), perms);
  // The object is zero-filled; placement-new the header so its atomic has a lifetime.
  auto* h = new (object.data()) SegmentHeader{};
  h->magic = kSegmentMagic;
  h->kind = static_cast<std::uint32_t>(spec.kind);
  h->total_size = total;
  h->area_offset = area_offset;
  h->area_size = spec.area_size;
  for (int i = 0; i < 4; ++i) h->params[i] = spec.params[i];
  if (!spec.schema.empty()) std::memcpy(h->schema, spec.schema.data(), spec.schema.size());  // data() may be null
  const auto me = platform::current_process();
  h->creator_pid = me.pid;
  h->creator_start_time = me.start_time;
  h->created_unix_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  h->checksum = header_checksum(*h);
  // Not yet published: the caller initialises its area, then calls publish (see below).
  return Segment(std::move(object));
}

void Segment::publish() noexcept {
  auto* h = static_cast<SegmentHeader*>(object_.data());
  // Pairs with the acquire load in open(): everything written before is visible to openers.
  h->layout_version.store(kLayoutVersion, std::memory_order_release);
  header_.layout_version.store(kLayoutVersion, std::memory_order_relaxed);
}

void Segment::validate(std::string_view name, const void* bytes, std::size_t size, SegmentKind expected) {
  const std::string seg(name);
  if (size < sizeof(SegmentHeader)) {
    throw Error(Errc::truncated, seg,
                "truncated: " + std::to_string(size) + " bytes, smaller than the " +
                    std::to_string(sizeof(SegmentHeader)) + "-byte header");
  }
  SegmentHeader h;  // a private copy: the shared bytes may change under us
  std::memcpy(static_cast<void*>(&h), bytes, sizeof h);
  if (h.magic != kSegmentMagic) throw Error(Errc::bad_magic, seg, "not a Stella segment (bad magic number)");
  const std::uint32_t version = h.layout_version.load(std::memory_order_relaxed);
  if (version != kLayoutVersion) {
    throw Error(Errc::version_mismatch, seg,
                "layout version " + std::to_string(version) + ", this library reads version " +
                    std::to_string(kLayoutVersion));
  }
  if (h.checksum != header_checksum(h)) throw Error(Errc::corrupt, seg, "corrupt header (checksum mismatch)");
  if (h.kind != static_cast<std::uint32_t>(expected)) {
    throw Error(Errc::wrong_kind, seg,
                "is a " + kind_name(h.kind) + " segment, expected a " + std::string(to_string(expected)));
  }
  // The tag: allowed characters, then NUL padding only (so it is always printable).
  for (std::size_t i = 0, end = kMaxSchemaLength; i < kMaxSchemaLength; ++i) {
    const char c = h.schema[i];
    if (c == '\0') {
      end = i;
    } else if (i > end || !schema_char(c)) {
      throw Error(Errc::corrupt, seg, "corrupt header (type tag)");
    }
  }
  if (h.area_offset < sizeof(SegmentHeader) || h.area_offset > h.total_size ||
      h.area_size > h.total_size - h.area_offset) {
    throw Error(Errc::corrupt, seg, "corrupt header (area outside the segment)");
  }
  if (h.total_size > size) {
    throw Error(Errc::truncated, seg,
                "truncated: header says " + std::to_string(h.total_size) + " bytes, the file has " +
                    std::to_string(size));
  }
}

Segment Segment::open(std::string_view name, SegmentKind expected, platform::Access access,
                      std::chrono::milliseconds init_wait) {
  const auto deadline = std::chrono::steady_clock::now() + init_wait;
  for (;;) {
    auto object = platform::MappedObject::open(name, access);
    bool initialising = object.size() < sizeof(SegmentHeader);
    if (!initialising) {
      const auto* h = static_cast<const SegmentHeader*>(object.data());
      // Pairs with the creator's release store in publish(): once we see the version,
      // every other header field and the initialised area are visible.
      initialising = h->magic == kSegmentMagic && h->layout_version.load(std::memory_order_acquire) == 0;
      if (!initialising) {
        // Validate the private copy the segment keeps, not the shared bytes: what was
        // checked is exactly what this process uses from now on.
        const std::size_t size = object.size();
        Segment segment(std::move(object));
        validate(name, &segment.header_, size, expected);
        return segment;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (object.size() < sizeof(SegmentHeader)) validate(name, object.data(), object.size(), expected);
      throw Error(Errc::corrupt, std::string(name),
                  "header never published (its creator died while creating it, or it is not a Stella segment)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace stella
