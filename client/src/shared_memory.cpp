#include "stella/shared_memory.hpp"

#include <string>
#include <utility>

#include "stella/common/blob.hpp"
#include "stella/common/names.hpp"
#include "naming.hpp"

namespace stella {

namespace {

std::unique_ptr<BlobSegment> open_or_create(std::string_view name, SharedMemoryMode mode, std::size_t capacity,
                                            const SharedMemoryOptions& options) {
  validate_segment_name(name);
  const std::string seg(name);
  const auto access = options.read_only ? platform::Access::read_only : platform::Access::read_write;
  if (options.read_only && mode != SharedMemoryMode::Open) {
    throw Error(Errc::invalid_argument, seg, "a read-only SharedMemory can only Open an existing segment");
  }
  switch (mode) {
    case SharedMemoryMode::Create:
      return BlobSegment::create(name, capacity, options.permissions, options.schema);
    case SharedMemoryMode::Open:
      return BlobSegment::open(name, access);
    case SharedMemoryMode::OpenOrCreate:
      break;
  }
  if (capacity == 0) throw Error(Errc::invalid_argument, seg, "a blob capacity must be at least 1 byte");
  // Another process may create or remove the name between our two attempts: a few
  // rounds settle it (each round means someone else made progress).
  for (int round = 0;; ++round) {
    try {
      auto blob = BlobSegment::open(name, access);
      if (blob->capacity() < capacity) {
        throw Error(Errc::invalid_argument, seg,
                    "exists with a capacity of " + std::to_string(blob->capacity()) + " bytes, " +
                        std::to_string(capacity) + " were asked for");
      }
      return blob;
    } catch (const Error& e) {
      if (e.code() != Errc::not_found || round >= 8) throw;
    }
    try {
      return BlobSegment::create(name, capacity, options.permissions, options.schema);
    } catch (const Error& e) {
      if (e.code() != Errc::already_exists || round >= 8) throw;
    }
  }
}

}  // namespace

SharedMemory::SharedMemory(std::string_view name, SharedMemoryMode mode, std::size_t capacity,
                           const SharedMemoryOptions& options)
    : blob_((check_schema_tag(name, options.schema), open_or_create(name, mode, capacity, options))) {
  require_schema(blob_->name(), blob_->schema(), options.schema);
}

SharedMemory::SharedMemory(std::unique_ptr<BlobSegment> blob) : blob_(std::move(blob)) {}

SharedMemory SharedMemory::open_read_only(std::string_view name) {
  SharedMemoryOptions options;
  options.read_only = true;
  return SharedMemory(name, SharedMemoryMode::Open, 0, options);
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept = default;
SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept = default;
SharedMemory::~SharedMemory() = default;

BlobSegment& SharedMemory::blob() const {
  if (!blob_) throw Error(Errc::invalid_argument, std::string(), "use of a moved-from SharedMemory");
  return *blob_;
}

const std::string& SharedMemory::name() const { return blob().name(); }
std::string_view SharedMemory::schema() const { return blob().schema(); }
std::size_t SharedMemory::capacity() const { return static_cast<std::size_t>(blob().capacity()); }
bool SharedMemory::read_only() const { return blob().read_only(); }
std::uint64_t SharedMemory::generation() const { return blob().generation(); }

void SharedMemory::write_bytes(std::span<const std::byte> bytes) { blob().write(bytes); }

bool SharedMemory::try_write_bytes(std::span<const std::byte> bytes) { return blob().try_write(bytes); }

SharedMemory::WriteClaim SharedMemory::claim(std::size_t max_size) {
  BlobSegment& b = blob();
  b.check_fits(max_size);
  b.lock_writer();
  try {
    return WriteClaim(&b, b.begin_write(max_size));
  } catch (...) {
    b.unlock_writer();
    throw;
  }
}

std::optional<SharedMemory::WriteClaim> SharedMemory::try_claim(std::size_t max_size) {
  BlobSegment& b = blob();
  b.check_fits(max_size);
  if (!b.try_lock_writer()) return std::nullopt;
  try {
    return WriteClaim(&b, b.begin_write(max_size));
  } catch (...) {
    b.unlock_writer();
    throw;
  }
}

bool SharedMemory::try_read_bytes_into(std::vector<std::byte>& out) const { return blob().read(out); }

std::optional<std::vector<std::byte>> SharedMemory::try_read_bytes() const {
  std::vector<std::byte> out;
  if (!blob().read(out)) return std::nullopt;
  return out;
}

std::vector<std::byte> SharedMemory::read_bytes() const {
  std::vector<std::byte> out;
  if (!blob().read(out)) throw_empty();
  return out;
}

void SharedMemory::throw_empty() const {
  throw Error(Errc::empty, name(), "empty: nothing has been written to this segment yet");
}

void SharedMemory::rethrow_naming_segment(const Error& e) const { detail::rethrow_naming(e, name()); }

void SharedMemory::remove() { platform::MappedObject::unlink(name()); }

bool SharedMemory::remove(std::string_view name) { return platform::MappedObject::unlink(name); }

std::vector<std::byte>& SharedMemory::write_scratch() {
  thread_local std::vector<std::byte> buffer;
  return buffer;
}

std::vector<std::byte>& SharedMemory::read_scratch() {
  thread_local std::vector<std::byte> buffer;
  return buffer;
}

// ---- WriteClaim ----

SharedMemory::WriteClaim::WriteClaim(WriteClaim&& other) noexcept
    : blob_(std::exchange(other.blob_, nullptr)), data_(std::exchange(other.data_, {})) {}

SharedMemory::WriteClaim::~WriteClaim() { abort(); }

void SharedMemory::WriteClaim::commit(std::size_t size) {
  if (blob_ == nullptr) throw Error(Errc::invalid_argument, std::string(), "commit of a finished WriteClaim");
  BlobSegment* b = blob_;
  try {
    b->commit_write(size);
  } catch (...) {
    abort();
    throw;
  }
  blob_ = nullptr;
  data_ = {};
  b->unlock_writer();
}

void SharedMemory::WriteClaim::abort() noexcept {
  if (blob_ == nullptr) return;
  blob_->abort_write();
  blob_->unlock_writer();
  blob_ = nullptr;
  data_ = {};
}

}  // namespace stella
