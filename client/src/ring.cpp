#include "stella/ring.hpp"

#include <cstring>

#include "stella/common/error.hpp"
#include "stella/common/platform/shm.hpp"
#include "naming.hpp"

namespace stella {

namespace {

ring::Timing timing_of(std::chrono::nanoseconds recovery, std::uint32_t spins) {
  ring::Timing t;
  t.recovery_timeout = recovery;
  t.spin_iterations = spins;
  return t;
}

Segment open_ring(std::string_view name, platform::Access access) {
  return Segment::open(name, SegmentKind::ring, access);
}

Segment create_ring(std::string_view name, std::size_t capacity, WriteBehavior behavior, const RingOptions& o) {
  ring::RingParams p;
  p.capacity = capacity;
  p.max_readers = o.max_readers;
  p.max_writers = o.max_writers;
  p.behavior = behavior == WriteBehavior::Block ? ring::WriteBehavior::block : ring::WriteBehavior::overwrite;
  p.schema = o.schema;
  return ring::create_segment(name, p, o.permissions);
}

}  // namespace

MultiWriterCircularBuffer::MultiWriterCircularBuffer(std::string_view name, SharedMemoryMode mode,
                                                     std::size_t capacity, WriteBehavior behavior,
                                                     const RingOptions& options) {
  check_schema_tag(name, options.schema);
  switch (mode) {
    case SharedMemoryMode::Create:
      segment_ = create_ring(name, capacity, behavior, options);
      break;
    case SharedMemoryMode::Open:
      segment_ = open_ring(name, platform::Access::read_write);
      break;
    case SharedMemoryMode::OpenOrCreate:
      try {
        segment_ = create_ring(name, capacity, behavior, options);
      } catch (const Error& e) {
        if (e.code() != Errc::already_exists) throw;
        segment_ = open_ring(name, platform::Access::read_write);
      }
      break;
  }
  require_schema(segment_.name(), segment_.schema(), options.schema);
  writer_ = std::make_unique<ring::RingWriter>(ring::attach(segment_),
                                               timing_of(options.recovery_timeout, options.spin_iterations));
}

MultiWriterCircularBuffer::~MultiWriterCircularBuffer() = default;
MultiWriterCircularBuffer::MultiWriterCircularBuffer(MultiWriterCircularBuffer&&) noexcept = default;
MultiWriterCircularBuffer& MultiWriterCircularBuffer::operator=(MultiWriterCircularBuffer&&) noexcept = default;

namespace {
[[noreturn]] void throw_corrupt_tail(const std::string& name) {
  throw Error(Errc::corrupt, name, "corrupt ring: its write position is not a record boundary (nothing was written)");
}
}  // namespace

WriteResult MultiWriterCircularBuffer::write_impl(std::span<const std::byte> bytes,
                                                  std::optional<ring::Clock::time_point> deadline, bool try_only) {
  if (bytes.size() > max_message_size()) {
    throw Error(Errc::value_too_large, name(),
                "message of " + std::to_string(bytes.size()) + " bytes exceeds the largest allowed, " +
                    std::to_string(max_message_size()) + " bytes (capacity/2 - 32)");
  }
  ring::Reservation r;
  switch (writer_->reserve(static_cast<std::uint32_t>(bytes.size()), deadline, try_only, r)) {
    case ring::WriteStatus::ok: break;
    case ring::WriteStatus::timeout: return WriteResult::Timeout;
    case ring::WriteStatus::would_block: return WriteResult::WouldBlock;
    case ring::WriteStatus::too_large: return WriteResult::WouldBlock;  // unreachable: checked above
    case ring::WriteStatus::corrupt: throw_corrupt_tail(name());
  }
  if (!bytes.empty()) ring::copy_into_record(r.payload, bytes.data(), bytes.size());
  writer_->commit(r);
  return WriteResult::Ok;
}

WriteResult MultiWriterCircularBuffer::write_bytes(std::span<const std::byte> bytes,
                                                   std::optional<std::chrono::nanoseconds> timeout) {
  std::optional<ring::Clock::time_point> deadline;
  if (timeout) deadline = ring::Clock::now() + *timeout;
  return write_impl(bytes, deadline, false);
}

WriteResult MultiWriterCircularBuffer::try_write_bytes(std::span<const std::byte> bytes) {
  return write_impl(bytes, std::nullopt, true);
}

std::optional<MultiWriterCircularBuffer::Claim> MultiWriterCircularBuffer::claim_impl(
    std::size_t size, std::optional<ring::Clock::time_point> deadline, bool try_only) {
  if (size > max_message_size()) {
    throw Error(Errc::value_too_large, name(),
                "claim of " + std::to_string(size) + " bytes exceeds the largest allowed, " +
                    std::to_string(max_message_size()) + " bytes (capacity/2 - 32)");
  }
  ring::Reservation r;
  const ring::WriteStatus s = writer_->reserve(static_cast<std::uint32_t>(size), deadline, try_only, r);
  if (s == ring::WriteStatus::corrupt) throw_corrupt_tail(name());
  if (s != ring::WriteStatus::ok) return std::nullopt;
  return Claim(writer_.get(), r);
}

std::optional<MultiWriterCircularBuffer::Claim> MultiWriterCircularBuffer::claim(
    std::size_t size, std::optional<std::chrono::nanoseconds> timeout) {
  std::optional<ring::Clock::time_point> deadline;
  if (timeout) deadline = ring::Clock::now() + *timeout;
  return claim_impl(size, deadline, false);
}

std::optional<MultiWriterCircularBuffer::Claim> MultiWriterCircularBuffer::try_claim(std::size_t size) {
  return claim_impl(size, std::nullopt, true);
}

const std::string& MultiWriterCircularBuffer::name() const noexcept { return segment_.name(); }
std::string_view MultiWriterCircularBuffer::schema() const noexcept { return segment_.schema(); }
std::size_t MultiWriterCircularBuffer::capacity() const noexcept { return writer_->view().geo.capacity; }
std::size_t MultiWriterCircularBuffer::max_message_size() const noexcept {
  return writer_->view().geo.max_message;
}
WriteBehavior MultiWriterCircularBuffer::behavior() const noexcept {
  return writer_->view().geo.block()
             ? WriteBehavior::Block
             : WriteBehavior::Overwrite;
}

// Out of line so that the shared library need not export the ring core.
void MultiWriterCircularBuffer::Claim::commit() noexcept { writer_->commit(r_); }
void MultiWriterCircularBuffer::Claim::abort() noexcept { writer_->abort(r_); }

void MultiWriterCircularBuffer::rethrow_naming_segment(const Error& e) const { detail::rethrow_naming(e, name()); }

bool MultiWriterCircularBuffer::remove(std::string_view name) { return platform::MappedObject::unlink(name); }

// --- reader ------------------------------------------------------------------------------

LockFreeBufferReader::LockFreeBufferReader(std::string_view name, const ReaderOptions& options) {
  // Readers write their own slot (cursor), so they map the segment read-write.
  segment_ = open_ring(name, platform::Access::read_write);
  check_schema_tag(name, options.schema);
  require_schema(segment_.name(), segment_.schema(), options.schema);
  ring::ReaderOptions ro;
  ro.start = options.start == StartPosition::Latest ? ring::StartPosition::latest : ring::StartPosition::oldest;
  ro.timing = timing_of(options.recovery_timeout, options.spin_iterations);
  reader_ = std::make_unique<ring::RingReader>(ring::attach(segment_), ro);
}

LockFreeBufferReader::~LockFreeBufferReader() = default;
LockFreeBufferReader::LockFreeBufferReader(LockFreeBufferReader&&) noexcept = default;
LockFreeBufferReader& LockFreeBufferReader::operator=(LockFreeBufferReader&&) noexcept = default;

namespace {
[[noreturn]] void throw_read_error(const std::string& name, ring::ReadStatus s) {
  if (s == ring::ReadStatus::evicted) {
    throw Error(Errc::evicted, name, "this reader was evicted for stalling; it resumes at the oldest message");
  }
  throw Error(Errc::corrupt, name, "corrupt ring: a record header is inconsistent");
}
}  // namespace

bool LockFreeBufferReader::try_read_bytes(std::vector<std::byte>& out) {
  const auto s = reader_->try_read(out);
  if (s == ring::ReadStatus::ok) return true;
  if (s == ring::ReadStatus::empty) return false;
  throw_read_error(name(), s);
}

ReadResult LockFreeBufferReader::read_bytes(std::vector<std::byte>& out, std::optional<std::chrono::nanoseconds> timeout) {
  switch (const auto s = reader_->read(out, timeout)) {
    case ring::ReadStatus::ok: return ReadResult::Ok;
    case ring::ReadStatus::empty: return ReadResult::Empty;
    case ring::ReadStatus::timeout: return ReadResult::Timeout;
    case ring::ReadStatus::evicted: return ReadResult::Evicted;
    default: throw_read_error(name(), s);
  }
}

std::optional<LockFreeBufferReader::View> LockFreeBufferReader::try_peek() {
  ring::RecordView rv;
  const auto s = reader_->try_peek(rv);
  if (s == ring::ReadStatus::empty) return std::nullopt;
  if (s != ring::ReadStatus::ok) throw_read_error(name(), s);
  return View(rv.payload, rv.position);
}

std::optional<LockFreeBufferReader::View> LockFreeBufferReader::peek(std::optional<std::chrono::nanoseconds> timeout) {
  ring::RecordView rv;
  const auto s = reader_->peek(rv, timeout);
  if (s == ring::ReadStatus::timeout || s == ring::ReadStatus::empty) return std::nullopt;
  if (s != ring::ReadStatus::ok) throw_read_error(name(), s);
  return View(rv.payload, rv.position);
}

void LockFreeBufferReader::rethrow_naming_segment(const Error& e) const { detail::rethrow_naming(e, name()); }

bool LockFreeBufferReader::release() noexcept { return reader_->release(); }
std::uint64_t LockFreeBufferReader::messages_read() const noexcept { return reader_->messages_read(); }
std::uint64_t LockFreeBufferReader::messages_lost() const noexcept { return reader_->messages_lost(); }
std::uint64_t LockFreeBufferReader::records_skipped() const noexcept { return reader_->records_skipped(); }
const std::string& LockFreeBufferReader::name() const noexcept { return segment_.name(); }
std::string_view LockFreeBufferReader::schema() const noexcept { return segment_.schema(); }
// From the geometry kept privately at open (the mask), not re-read from the mapping.
std::size_t LockFreeBufferReader::max_message_size() const noexcept {
  return static_cast<std::size_t>(reader_->view().geo.max_message);
}

std::string_view to_string(WriteResult r) noexcept {
  switch (r) {
    case WriteResult::Ok: return "ok";
    case WriteResult::Timeout: return "timeout";
    case WriteResult::WouldBlock: return "would_block";
  }
  return "unknown";
}

std::string_view to_string(ReadResult r) noexcept {
  switch (r) {
    case ReadResult::Ok: return "ok";
    case ReadResult::Empty: return "empty";
    case ReadResult::Timeout: return "timeout";
    case ReadResult::Evicted: return "evicted";
  }
  return "unknown";
}

}  // namespace stella
