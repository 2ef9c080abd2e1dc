// The C API (stella/stella.h) over the public C++ classes. Every entry point catches
// everything: no exception crosses into C. Failures are recorded in fixed thread-local
// storage, so recording one never allocates.
#include "stella/stella.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "stella/common/error.hpp"
#include "stella/ring.hpp"
#include "stella/shared_memory.hpp"
#include "stella/version.hpp"

// Codes 1..18 are Errc + 1, in Errc's order.
#define STELLA_CHECK_CODE(c_code, errc) \
  static_assert(c_code == static_cast<int>(stella::Errc::errc) + 1, #c_code " must be Errc::" #errc " + 1")
STELLA_CHECK_CODE(STELLA_INVALID_NAME, invalid_name);
STELLA_CHECK_CODE(STELLA_NOT_FOUND, not_found);
STELLA_CHECK_CODE(STELLA_ALREADY_EXISTS, already_exists);
STELLA_CHECK_CODE(STELLA_TRUNCATED, truncated);
STELLA_CHECK_CODE(STELLA_BAD_MAGIC, bad_magic);
STELLA_CHECK_CODE(STELLA_VERSION_MISMATCH, version_mismatch);
STELLA_CHECK_CODE(STELLA_WRONG_KIND, wrong_kind);
STELLA_CHECK_CODE(STELLA_CORRUPT, corrupt);
STELLA_CHECK_CODE(STELLA_NO_SPACE, no_space);
STELLA_CHECK_CODE(STELLA_PERMISSION_DENIED, permission_denied);
STELLA_CHECK_CODE(STELLA_VALUE_TOO_LARGE, value_too_large);
STELLA_CHECK_CODE(STELLA_EMPTY, empty);
STELLA_CHECK_CODE(STELLA_SERIALIZATION, serialization);
STELLA_CHECK_CODE(STELLA_TIMEOUT, timeout);
STELLA_CHECK_CODE(STELLA_SLOTS_FULL, slots_full);
STELLA_CHECK_CODE(STELLA_INVALID_ARGUMENT, invalid_argument);
STELLA_CHECK_CODE(STELLA_IO, io);
STELLA_CHECK_CODE(STELLA_EVICTED, evicted);
STELLA_CHECK_CODE(STELLA_TYPE_MISMATCH, type_mismatch);
#undef STELLA_CHECK_CODE
// The last Errc: a code appended to Errc needs a C code too (and this check moved).
static_assert(static_cast<int>(stella::Errc::type_mismatch) + 1 == STELLA_TYPE_MISMATCH &&
              STELLA_TYPE_MISMATCH < STELLA_WOULD_BLOCK);

// Layouts bindings copy (.NET StructLayout, Python ctypes-free but documented): keep them fixed.
static_assert(sizeof(stella_permissions) == 24);
static_assert(sizeof(stella_ring_options) == 48 && offsetof(stella_ring_options, permissions) == 24);
static_assert(sizeof(stella_reader_options) == 24);
static_assert(sizeof(stella_blob_options) == 32);
static_assert(sizeof(stella_view) == 24 || sizeof(void*) != 8);

struct stella_writer {
  stella::MultiWriterCircularBuffer buffer;
  std::optional<stella::MultiWriterCircularBuffer::Claim> claim;
  std::uint64_t written = 0;
};

struct stella_reader {
  stella::LockFreeBufferReader reader;
  std::size_t max_message = 0;
  bool peeking = false;  // the user holds a view (stella_reader_*peek) not yet released
  std::uint64_t evictions = 0;
};

struct stella_blob {
  stella::SharedMemory shm;
  // The claim of the thread in claim_owner. Only that thread touches `claim` between its
  // claim and its commit/abort: every other writer is held off by the blob's writer lock.
  std::optional<stella::SharedMemory::WriteClaim> claim;
  std::atomic<std::thread::id> claim_owner{};
};

namespace {

using stella::Errc;
using stella::Error;

// ---- the thread's last failure -----------------------------------------------------------

thread_local stella_error t_last{STELLA_OK, {}, {}};

void copy_cut(char* dst, std::size_t size, std::string_view src) noexcept {
  const std::size_t n = std::min(size - 1, src.size());
  if (n > 0) std::memcpy(dst, src.data(), n);  // src.data() may be null when empty
  dst[n] = '\0';
}

int record(int code, std::string_view segment, std::string_view message) noexcept {
  t_last.code = code;
  copy_cut(t_last.segment, sizeof t_last.segment, segment);
  copy_cut(t_last.message, sizeof t_last.message, message);
  return code;
}

int code_of(Errc e) noexcept { return static_cast<int>(e) + 1; }

// A failure found by the C layer itself, worded like stella::Error ("stella: segment 'X': ...").
int fail(int code, std::string_view segment, std::string_view what) noexcept {
  char text[STELLA_ERROR_MESSAGE_SIZE];
  std::string_view seg = segment.substr(0, STELLA_MAX_NAME_LENGTH + 1);
  const std::string_view w = what.substr(0, sizeof text - 100);
  const int n = seg.empty() ? std::snprintf(text, sizeof text, "stella: %.*s", static_cast<int>(w.size()), w.data())
                            : std::snprintf(text, sizeof text, "stella: segment '%.*s': %.*s",
                                            static_cast<int>(seg.size()), seg.data(), static_cast<int>(w.size()),
                                            w.data());
  return record(code, segment, std::string_view(text, n > 0 ? std::min<std::size_t>(static_cast<std::size_t>(n), sizeof text - 1) : 0));
}

// Runs `f` (returning a stella_status), turning every exception into a recorded failure.
// `segment` names the segment for failures that are not stella::Error (which names its own).
template <class F>
int guarded(std::string_view segment, F&& f) noexcept {
  try {
    return f();
  } catch (const Error& e) {
    return record(code_of(e.code()), e.segment().empty() ? segment : std::string_view(e.segment()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(STELLA_OUT_OF_MEMORY, segment, "out of memory");
  } catch (const std::exception& e) {
    return fail(STELLA_INTERNAL, segment, e.what());
  } catch (...) {
    return fail(STELLA_INTERNAL, segment, "unknown exception");
  }
}

std::string_view safe_name(const char* name) noexcept {
  if (name == nullptr) return {};
  return std::string_view(name, strnlen(name, STELLA_MAX_NAME_LENGTH + 1));
}

int null_argument(std::string_view segment, const char* function, const char* argument) noexcept {
  char what[160];
  std::snprintf(what, sizeof what, "%s: %s must not be NULL", function, argument);
  return fail(STELLA_INVALID_ARGUMENT, segment, what);
}

std::optional<std::chrono::nanoseconds> timeout_of(std::int64_t timeout_ns) noexcept {
  if (timeout_ns < 0) return std::nullopt;
  return std::chrono::nanoseconds(timeout_ns);
}

std::optional<stella::SharedMemoryMode> mode_of(stella_mode mode) noexcept {
  switch (mode) {
    case STELLA_CREATE: return stella::SharedMemoryMode::Create;
    case STELLA_OPEN: return stella::SharedMemoryMode::Open;
    case STELLA_OPEN_OR_CREATE: return stella::SharedMemoryMode::OpenOrCreate;
  }
  return std::nullopt;
}

stella::platform::Permissions permissions_of(const stella_permissions& p) {
  stella::platform::Permissions out;
  out.mode = p.mode;
  if (p.uid >= 0) out.uid = static_cast<std::uint32_t>(p.uid);
  if (p.gid >= 0) out.gid = static_cast<std::uint32_t>(p.gid);
  return out;
}

constexpr stella_permissions kDefaultPermissions{0660, 0, -1, -1};

// Copies the caller's options over the defaults: only the struct_size bytes it knows of
// (an older caller's struct is shorter; a newer one's extra fields are not ours to read).
template <class Options>
bool merge_options(const Options* given, Options& out) noexcept {
  if (given == nullptr) return true;
  if (given->struct_size < sizeof(std::uint32_t)) return false;
  const std::size_t n = std::min<std::size_t>(given->struct_size, sizeof(Options));
  std::memcpy(static_cast<void*>(&out), given, n);
  out.struct_size = sizeof(Options);
  return true;
}

int bad_struct_size(std::string_view segment, const char* what) noexcept {
  char text[160];
  std::snprintf(text, sizeof text, "%s.struct_size is 0: initialise the options with %s_init()", what, what);
  return fail(STELLA_INVALID_ARGUMENT, segment, text);
}

}  // namespace

// The definitions below have C linkage from their declarations in stella.h.

// ---- results and errors ----------------------------------------------------------------------

const char* stella_status_name(int status) {
  switch (status) {
    case STELLA_OK: return "ok";
    case STELLA_WOULD_BLOCK: return "would_block";
    case STELLA_BUFFER_TOO_SMALL: return "buffer_too_small";
    case STELLA_OVERWRITTEN: return "overwritten";
    case STELLA_OUT_OF_MEMORY: return "out_of_memory";
    case STELLA_INTERNAL: return "internal";
    default: break;
  }
  if (status >= STELLA_INVALID_NAME && status <= STELLA_TYPE_MISMATCH) {
    return stella::to_string(static_cast<Errc>(status - 1)).data();  // literals: NUL-terminated
  }
  return "unknown";
}

int stella_last_error_code(void) { return t_last.code; }
const char* stella_last_error_message(void) { return t_last.message; }
const char* stella_last_error_segment(void) { return t_last.segment; }
int stella_last_error(stella_error* out) {
  if (out != nullptr) *out = t_last;
  return t_last.code;
}
void stella_clear_error(void) { record(STELLA_OK, {}, {}); }

const char* stella_version(void) { return stella::version().data(); }  // a literal: NUL-terminated

// ---- ring writers -----------------------------------------------------------------------------

void stella_ring_options_init(stella_ring_options* options) {
  if (options == nullptr) return;
  const stella::RingOptions d;
  *options = stella_ring_options{};
  options->struct_size = sizeof(stella_ring_options);
  options->max_readers = d.max_readers;
  options->max_writers = d.max_writers;
  options->spin_iterations = d.spin_iterations;
  options->recovery_timeout_ns = d.recovery_timeout.count();
  options->permissions = kDefaultPermissions;
  options->permissions.mode = d.permissions.mode;
}

int stella_writer_open(const char* name, stella_mode mode, size_t capacity, stella_behavior behavior,
                       const stella_ring_options* options, stella_writer** out) {
  return stella_writer_open_typed(name, mode, capacity, behavior, options, nullptr, out);
}

int stella_writer_open_typed(const char* name, stella_mode mode, size_t capacity, stella_behavior behavior,
                             const stella_ring_options* options, const char* schema, stella_writer** out) {
  const std::string_view seg = safe_name(name);
  if (out == nullptr) return null_argument(seg, "stella_writer_open", "out");
  *out = nullptr;
  if (name == nullptr) return null_argument(seg, "stella_writer_open", "name");
  const auto m = mode_of(mode);
  if (!m) return fail(STELLA_INVALID_ARGUMENT, seg, "stella_writer_open: mode is not a stella_mode");
  if (behavior != STELLA_OVERWRITE && behavior != STELLA_BLOCK) {
    return fail(STELLA_INVALID_ARGUMENT, seg, "stella_writer_open: behavior is not a stella_behavior");
  }
  stella_ring_options o;
  stella_ring_options_init(&o);
  if (!merge_options(options, o)) return bad_struct_size(seg, "stella_ring_options");
  if (o.recovery_timeout_ns <= 0) {
    return fail(STELLA_INVALID_ARGUMENT, seg, "stella_writer_open: options.recovery_timeout_ns must be positive");
  }
  return guarded(seg, [&]() -> int {
    stella::RingOptions ro;
    ro.max_readers = o.max_readers;
    ro.max_writers = o.max_writers;
    ro.spin_iterations = o.spin_iterations;
    ro.recovery_timeout = std::chrono::nanoseconds(o.recovery_timeout_ns);
    ro.permissions = permissions_of(o.permissions);
    if (schema != nullptr) ro.schema = schema;
    const auto b = behavior == STELLA_BLOCK ? stella::WriteBehavior::Block : stella::WriteBehavior::Overwrite;
    *out = new stella_writer{stella::MultiWriterCircularBuffer(seg, *m, capacity, b, ro), std::nullopt, 0};
    return STELLA_OK;
  });
}

void stella_writer_close(stella_writer* writer) {
  delete writer;  // ~Claim aborts a pending claim; nothing here throws
}

namespace {
int write_impl(stella_writer* w, const void* data, size_t length, std::optional<std::int64_t> timeout_ns,
               const char* function) noexcept {
  if (w == nullptr) return null_argument({}, function, "writer");
  if (data == nullptr && length > 0) return null_argument(w->buffer.name(), function, "data");
  if (w->claim) {
    char what[160];
    std::snprintf(what, sizeof what, "%s: a claim is pending (commit or abort it first)", function);
    return fail(STELLA_INVALID_ARGUMENT, w->buffer.name(), what);
  }
  return guarded(w->buffer.name(), [&]() -> int {
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(data), length);
    const stella::WriteResult r = timeout_ns ? w->buffer.write_bytes(bytes, timeout_of(*timeout_ns))
                                             : w->buffer.try_write_bytes(bytes);
    switch (r) {
      case stella::WriteResult::Ok: ++w->written; return STELLA_OK;
      case stella::WriteResult::Timeout: return STELLA_TIMEOUT;
      case stella::WriteResult::WouldBlock: return STELLA_WOULD_BLOCK;
    }
    return fail(STELLA_INTERNAL, w->buffer.name(), "unknown WriteResult");
  });
}

int claim_impl(stella_writer* w, size_t length, std::optional<std::int64_t> timeout_ns, void** data,
               const char* function) noexcept {
  if (w == nullptr) return null_argument({}, function, "writer");
  if (data == nullptr) return null_argument(w->buffer.name(), function, "data");
  *data = nullptr;
  if (w->claim) return fail(STELLA_INVALID_ARGUMENT, w->buffer.name(), "a claim is already pending (commit or abort it first)");
  return guarded(w->buffer.name(), [&]() -> int {
    auto c = timeout_ns ? w->buffer.claim(length, timeout_of(*timeout_ns)) : w->buffer.try_claim(length);
    if (!c) return timeout_ns ? STELLA_TIMEOUT : STELLA_WOULD_BLOCK;
    w->claim.emplace(std::move(*c));
    *data = w->claim->data().data();
    return STELLA_OK;
  });
}
}  // namespace

int stella_writer_write(stella_writer* writer, const void* data, size_t length, int64_t timeout_ns) {
  return write_impl(writer, data, length, timeout_ns, "stella_writer_write");
}

int stella_writer_try_write(stella_writer* writer, const void* data, size_t length) {
  return write_impl(writer, data, length, std::nullopt, "stella_writer_try_write");
}

int stella_writer_claim(stella_writer* writer, size_t length, int64_t timeout_ns, void** data) {
  return claim_impl(writer, length, timeout_ns, data, "stella_writer_claim");
}

int stella_writer_try_claim(stella_writer* writer, size_t length, void** data) {
  return claim_impl(writer, length, std::nullopt, data, "stella_writer_try_claim");
}

int stella_writer_commit(stella_writer* writer) {
  if (writer == nullptr) return null_argument({}, "stella_writer_commit", "writer");
  if (!writer->claim) return fail(STELLA_INVALID_ARGUMENT, writer->buffer.name(), "stella_writer_commit: no claim is pending");
  writer->claim->commit();
  writer->claim.reset();  // a committed claim's destructor does nothing more
  ++writer->written;
  return STELLA_OK;
}

int stella_writer_abort(stella_writer* writer) {
  if (writer == nullptr) return null_argument({}, "stella_writer_abort", "writer");
  if (!writer->claim) return fail(STELLA_INVALID_ARGUMENT, writer->buffer.name(), "stella_writer_abort: no claim is pending");
  writer->claim.reset();  // ~Claim aborts
  return STELLA_OK;
}

const char* stella_writer_name(const stella_writer* writer) { return writer ? writer->buffer.name().c_str() : ""; }
size_t stella_writer_capacity(const stella_writer* writer) { return writer ? writer->buffer.capacity() : 0; }
size_t stella_writer_max_message_size(const stella_writer* writer) {
  return writer ? writer->buffer.max_message_size() : 0;
}
stella_behavior stella_writer_behavior(const stella_writer* writer) {
  return writer && writer->buffer.behavior() == stella::WriteBehavior::Block ? STELLA_BLOCK : STELLA_OVERWRITE;
}
uint64_t stella_writer_messages_written(const stella_writer* writer) { return writer ? writer->written : 0; }

int stella_ring_remove(const char* name) {
  const std::string_view seg = safe_name(name);
  if (name == nullptr) return null_argument(seg, "stella_ring_remove", "name");
  return guarded(seg, [&]() -> int {
    if (stella::MultiWriterCircularBuffer::remove(seg)) return STELLA_OK;
    return fail(STELLA_NOT_FOUND, seg, "no ring of that name to remove");
  });
}

// ---- ring readers -----------------------------------------------------------------------------

void stella_reader_options_init(stella_reader_options* options) {
  if (options == nullptr) return;
  const stella::ReaderOptions d;
  *options = stella_reader_options{};
  options->struct_size = sizeof(stella_reader_options);
  options->start = d.start == stella::StartPosition::Latest ? STELLA_START_LATEST : STELLA_START_OLDEST;
  options->spin_iterations = d.spin_iterations;
  options->recovery_timeout_ns = d.recovery_timeout.count();
}

int stella_reader_open(const char* name, const stella_reader_options* options, stella_reader** out) {
  return stella_reader_open_typed(name, options, nullptr, out);
}

int stella_reader_open_typed(const char* name, const stella_reader_options* options, const char* schema,
                             stella_reader** out) {
  const std::string_view seg = safe_name(name);
  if (out == nullptr) return null_argument(seg, "stella_reader_open", "out");
  *out = nullptr;
  if (name == nullptr) return null_argument(seg, "stella_reader_open", "name");
  stella_reader_options o;
  stella_reader_options_init(&o);
  if (!merge_options(options, o)) return bad_struct_size(seg, "stella_reader_options");
  if (o.recovery_timeout_ns <= 0) {
    return fail(STELLA_INVALID_ARGUMENT, seg, "stella_reader_open: options.recovery_timeout_ns must be positive");
  }
  if (o.start != STELLA_START_OLDEST && o.start != STELLA_START_LATEST) {
    return fail(STELLA_INVALID_ARGUMENT, seg, "stella_reader_open: options.start is not a stella_start");
  }
  return guarded(seg, [&]() -> int {
    stella::ReaderOptions ro;
    ro.start = o.start == STELLA_START_LATEST ? stella::StartPosition::Latest : stella::StartPosition::Oldest;
    ro.spin_iterations = o.spin_iterations;
    ro.recovery_timeout = std::chrono::nanoseconds(o.recovery_timeout_ns);
    if (schema != nullptr) ro.schema = schema;
    stella::LockFreeBufferReader reader(seg, ro);
    const std::size_t max_message = reader.max_message_size();
    *out = new stella_reader{std::move(reader), max_message, false, 0};
    return STELLA_OK;
  });
}

void stella_reader_close(stella_reader* reader) { delete reader; }

namespace {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;
using View = stella::LockFreeBufferReader::View;

// The next message in place: try_peek (never waits) or peek until the deadline (none:
// forever). Returns OK (with *out set), EMPTY, TIMEOUT or EVICTED; throws on corrupt.
int next_view(stella_reader* r, bool wait, const Deadline& deadline, std::optional<View>& out) {
  try {
    if (!wait) {
      out = r->reader.try_peek();
    } else {
      std::optional<std::chrono::nanoseconds> left;
      if (deadline) left = std::max(std::chrono::nanoseconds(0), *deadline - std::chrono::steady_clock::now());
      out = r->reader.peek(left);
    }
  } catch (const Error& e) {
    if (e.code() != Errc::evicted) throw;
    ++r->evictions;
    record(STELLA_EVICTED, r->reader.name(), e.what());
    return STELLA_EVICTED;
  }
  if (!out) return wait ? STELLA_TIMEOUT : STELLA_EMPTY;
  return STELLA_OK;
}

Deadline deadline_of(std::int64_t timeout_ns) {
  if (timeout_ns < 0) return std::nullopt;
  return std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
}

// Reads by peek, copy, release: one copy, straight into the caller's buffer. A release that
// finds the record overwritten (Overwrite mode) means the copy may be torn: it is dropped and
// the reader, moved on to the oldest intact record by release(), tries again.
int read_impl(stella_reader* r, void* buffer, size_t capacity, size_t* length, bool wait, std::int64_t timeout_ns,
              const char* function) noexcept {
  if (r == nullptr) return null_argument({}, function, "reader");
  if (length == nullptr) return null_argument(r->reader.name(), function, "length");
  if (buffer == nullptr && capacity > 0) return null_argument(r->reader.name(), function, "buffer");
  *length = 0;
  r->peeking = false;  // a view the user did not release is given up: its message comes next
  return guarded(r->reader.name(), [&]() -> int {
    const Deadline deadline = wait ? deadline_of(timeout_ns) : std::nullopt;
    for (;;) {
      std::optional<View> v;
      const int s = next_view(r, wait, deadline, v);
      if (s != STELLA_OK) return s;
      const std::span<const std::byte> bytes = v->data();
      *length = bytes.size();
      if (bytes.size() > capacity) {
        // Not released: the message stays next, for a call with a larger buffer.
        char what[200];
        std::snprintf(what, sizeof what, "%s: the next message has %zu bytes, the buffer %zu", function, bytes.size(),
                      capacity);
        return fail(STELLA_BUFFER_TOO_SMALL, r->reader.name(), what);
      }
      if (!bytes.empty()) std::memcpy(buffer, bytes.data(), bytes.size());
      if (r->reader.release()) return STELLA_OK;
      *length = 0;
    }
  });
}

int peek_impl(stella_reader* r, stella_view* view, bool wait, std::int64_t timeout_ns, const char* function) noexcept {
  if (r == nullptr) return null_argument({}, function, "reader");
  if (view == nullptr) return null_argument(r->reader.name(), function, "view");
  *view = stella_view{nullptr, 0, 0};
  r->peeking = false;
  return guarded(r->reader.name(), [&]() -> int {
    std::optional<View> v;
    const int s = next_view(r, wait, wait ? deadline_of(timeout_ns) : std::nullopt, v);
    if (s != STELLA_OK) return s;
    view->data = v->data().data();
    view->length = v->data().size();
    view->sequence = v->sequence();
    r->peeking = true;
    return STELLA_OK;
  });
}

}  // namespace

int stella_reader_try_read(stella_reader* reader, void* buffer, size_t capacity, size_t* length) {
  return read_impl(reader, buffer, capacity, length, false, 0, "stella_reader_try_read");
}

int stella_reader_read(stella_reader* reader, void* buffer, size_t capacity, size_t* length, int64_t timeout_ns) {
  return read_impl(reader, buffer, capacity, length, true, timeout_ns, "stella_reader_read");
}

int stella_reader_try_peek(stella_reader* reader, stella_view* view) {
  return peek_impl(reader, view, false, 0, "stella_reader_try_peek");
}

int stella_reader_peek(stella_reader* reader, stella_view* view, int64_t timeout_ns) {
  return peek_impl(reader, view, true, timeout_ns, "stella_reader_peek");
}

int stella_reader_release(stella_reader* reader) {
  if (reader == nullptr) return null_argument({}, "stella_reader_release", "reader");
  if (!reader->peeking) {
    return fail(STELLA_INVALID_ARGUMENT, reader->reader.name(), "stella_reader_release: no message is being peeked");
  }
  reader->peeking = false;
  if (reader->reader.release()) return STELLA_OK;
  return fail(STELLA_OVERWRITTEN, reader->reader.name(),
              "the peeked message was overwritten while it was looked at: discard what was read from it");
}

const char* stella_reader_name(const stella_reader* reader) { return reader ? reader->reader.name().c_str() : ""; }
size_t stella_reader_max_message_size(const stella_reader* reader) { return reader ? reader->max_message : 0; }
uint64_t stella_reader_messages_read(const stella_reader* reader) { return reader ? reader->reader.messages_read() : 0; }
uint64_t stella_reader_messages_lost(const stella_reader* reader) { return reader ? reader->reader.messages_lost() : 0; }
uint64_t stella_reader_evictions(const stella_reader* reader) { return reader ? reader->evictions : 0; }

// ---- blobs ------------------------------------------------------------------------------------

void stella_blob_options_init(stella_blob_options* options) {
  if (options == nullptr) return;
  *options = stella_blob_options{};
  options->struct_size = sizeof(stella_blob_options);
  options->read_only = 0;
  options->permissions = kDefaultPermissions;
}

int stella_blob_open(const char* name, stella_mode mode, size_t capacity, const stella_blob_options* options,
                     stella_blob** out) {
  return stella_blob_open_typed(name, mode, capacity, options, nullptr, out);
}

int stella_blob_open_typed(const char* name, stella_mode mode, size_t capacity, const stella_blob_options* options,
                           const char* schema, stella_blob** out) {
  const std::string_view seg = safe_name(name);
  if (out == nullptr) return null_argument(seg, "stella_blob_open", "out");
  *out = nullptr;
  if (name == nullptr) return null_argument(seg, "stella_blob_open", "name");
  const auto m = mode_of(mode);
  if (!m) return fail(STELLA_INVALID_ARGUMENT, seg, "stella_blob_open: mode is not a stella_mode");
  stella_blob_options o;
  stella_blob_options_init(&o);
  if (!merge_options(options, o)) return bad_struct_size(seg, "stella_blob_options");
  return guarded(seg, [&]() -> int {
    stella::SharedMemoryOptions so;
    so.read_only = o.read_only != 0;
    so.permissions = permissions_of(o.permissions);
    if (schema != nullptr) so.schema = schema;
    *out = new stella_blob{stella::SharedMemory(seg, *m, capacity, so), std::nullopt, {}};
    return STELLA_OK;
  });
}

void stella_blob_close(stella_blob* blob) { delete blob; }

namespace {

int blob_write_impl(stella_blob* b, const void* data, size_t length, bool try_only, const char* function) noexcept {
  if (b == nullptr) return null_argument({}, function, "blob");
  if (data == nullptr && length > 0) return null_argument(b->shm.name(), function, "data");
  if (b->claim_owner.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    return fail(STELLA_INVALID_ARGUMENT, b->shm.name(), "this thread holds a claim on the blob: commit or abort it first");
  }
  return guarded(b->shm.name(), [&]() -> int {
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(data), length);
    if (!try_only) {
      b->shm.write_bytes(bytes);
      return STELLA_OK;
    }
    return b->shm.try_write_bytes(bytes) ? STELLA_OK : STELLA_WOULD_BLOCK;
  });
}

std::vector<std::byte>& blob_scratch() {
  thread_local std::vector<std::byte> buffer;
  return buffer;
}

int blob_claim_impl(stella_blob* b, size_t max_size, void** data, bool try_only, const char* function) noexcept {
  if (b == nullptr) return null_argument({}, function, "blob");
  if (data == nullptr) return null_argument(b->shm.name(), function, "data");
  *data = nullptr;
  // Only this thread ever stores its own id here, so the relaxed load sees it if it is ours.
  if (b->claim_owner.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    return fail(STELLA_INVALID_ARGUMENT, b->shm.name(), "this thread already holds a claim on the blob");
  }
  return guarded(b->shm.name(), [&]() -> int {
    std::optional<stella::SharedMemory::WriteClaim> c;
    if (try_only) {
      auto attempt = b->shm.try_claim(max_size);
      if (!attempt) return STELLA_WOULD_BLOCK;
      c.emplace(std::move(*attempt));
    } else {
      c.emplace(b->shm.claim(max_size));
    }
    // We hold the writer lock now: no other thread touches b->claim until we release it.
    b->claim.emplace(std::move(*c));
    b->claim_owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
    *data = b->claim->data().data();
    return STELLA_OK;
  });
}

// Takes this thread's claim out of the handle before the lock is released, so the next
// claimer (on another thread, after the lock) finds the slot empty.
std::optional<stella::SharedMemory::WriteClaim> take_claim(stella_blob* b) {
  std::optional<stella::SharedMemory::WriteClaim> c;
  c.emplace(std::move(*b->claim));
  b->claim.reset();
  b->claim_owner.store(std::thread::id(), std::memory_order_relaxed);
  return c;
}

}  // namespace

int stella_blob_write(stella_blob* blob, const void* data, size_t length) {
  return blob_write_impl(blob, data, length, false, "stella_blob_write");
}

int stella_blob_try_write(stella_blob* blob, const void* data, size_t length) {
  return blob_write_impl(blob, data, length, true, "stella_blob_try_write");
}

int stella_blob_read(const stella_blob* blob, void* buffer, size_t capacity, size_t* length) {
  if (blob == nullptr) return null_argument({}, "stella_blob_read", "blob");
  if (length == nullptr) return null_argument(blob->shm.name(), "stella_blob_read", "length");
  if (buffer == nullptr && capacity > 0) return null_argument(blob->shm.name(), "stella_blob_read", "buffer");
  *length = 0;
  return guarded(blob->shm.name(), [&]() -> int {
    std::vector<std::byte>& scratch = blob_scratch();  // keeps its storage: no allocation once grown
    if (!blob->shm.try_read_bytes_into(scratch)) return STELLA_EMPTY;
    *length = scratch.size();
    if (scratch.size() > capacity) {
      char what[200];
      std::snprintf(what, sizeof what, "stella_blob_read: the value has %zu bytes, the buffer %zu", scratch.size(),
                    capacity);
      return fail(STELLA_BUFFER_TOO_SMALL, blob->shm.name(), what);
    }
    if (!scratch.empty()) std::memcpy(buffer, scratch.data(), scratch.size());
    return STELLA_OK;
  });
}

int stella_blob_claim(stella_blob* blob, size_t max_size, void** data) {
  return blob_claim_impl(blob, max_size, data, false, "stella_blob_claim");
}

int stella_blob_try_claim(stella_blob* blob, size_t max_size, void** data) {
  return blob_claim_impl(blob, max_size, data, true, "stella_blob_try_claim");
}

int stella_blob_commit(stella_blob* blob, size_t length) {
  if (blob == nullptr) return null_argument({}, "stella_blob_commit", "blob");
  if (blob->claim_owner.load(std::memory_order_relaxed) != std::this_thread::get_id()) {
    return fail(STELLA_INVALID_ARGUMENT, blob->shm.name(), "stella_blob_commit: this thread holds no claim on the blob");
  }
  return guarded(blob->shm.name(), [&]() -> int {
    auto c = take_claim(blob);
    c->commit(length);  // throws invalid_argument for more than claimed (and then aborts)
    return STELLA_OK;
  });
}

int stella_blob_abort(stella_blob* blob) {
  if (blob == nullptr) return null_argument({}, "stella_blob_abort", "blob");
  if (blob->claim_owner.load(std::memory_order_relaxed) != std::this_thread::get_id()) {
    return fail(STELLA_INVALID_ARGUMENT, blob->shm.name(), "stella_blob_abort: this thread holds no claim on the blob");
  }
  take_claim(blob)->abort();
  return STELLA_OK;
}

const char* stella_blob_name(const stella_blob* blob) { return blob ? blob->shm.name().c_str() : ""; }
size_t stella_blob_capacity(const stella_blob* blob) { return blob ? blob->shm.capacity() : 0; }
uint64_t stella_blob_generation(const stella_blob* blob) { return blob ? blob->shm.generation() : 0; }
int stella_blob_read_only(const stella_blob* blob) { return blob && blob->shm.read_only() ? 1 : 0; }

int stella_blob_remove(const char* name) {
  const std::string_view seg = safe_name(name);
  if (name == nullptr) return null_argument(seg, "stella_blob_remove", "name");
  return guarded(seg, [&]() -> int {
    if (stella::SharedMemory::remove(seg)) return STELLA_OK;
    return fail(STELLA_NOT_FOUND, seg, "no blob of that name to remove");
  });
}

