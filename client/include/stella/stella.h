/**
 * @file stella.h
 * @brief The C API of Stella: shared-memory rings and blobs for C and for language bindings.
 *
 * The same objects as the C++ API (stella/stella.hpp), behind opaque handles:
 *
 * | C handle        | C++ object                         |
 * | --------------- | ---------------------------------- |
 * | stella_writer   | stella::MultiWriterCircularBuffer  |
 * | stella_reader   | stella::LockFreeBufferReader       |
 * | stella_blob     | stella::SharedMemory               |
 *
 * A C program and a C++ program (or a Python or .NET one through this API) exchange
 * messages through the same ring. C11; no C++ type appears here. Link libstella.so
 * (pkg-config `stella-c`, or CMake `stella::stella`).
 *
 * @par Results
 * Every fallible function returns an `int` that is a ::stella_status: ::STELLA_OK (0) on
 * success, otherwise a code. Codes 1..18 mirror `stella::Errc` (value + 1); codes from
 * 100 exist only in C. Three codes are *outcomes*, not failures, and are returned on hot
 * paths without touching the last error: ::STELLA_EMPTY, ::STELLA_TIMEOUT and
 * ::STELLA_WOULD_BLOCK. Every other non-zero code is a *failure* and records the thread's
 * last error: its code, the segment it concerns, and a message that names the segment
 * ("stella: segment 'NAME': ...") — see stella_last_error_message() and stella_last_error().
 *
 * @par Waiting
 * Functions with a `timeout_ns` wait at most that many nanoseconds; a negative value
 * (::STELLA_WAIT_FOREVER) waits without limit; 0 checks once. Waiters spin briefly, then
 * sleep on a futex: an idle waiter uses no CPU. A signal does not cut a wait short, so a
 * binding that must react to signals (Python's Ctrl-C) waits in slices (e.g. 100 ms).
 *
 * @par Memory
 * No function allocates on the hot path: writes copy from the caller's memory, reads copy
 * into the caller's buffer (and report the size needed when it is too small), claims and
 * peeks hand out pointers into the mapping. Opening a handle allocates; closing frees it.
 * Recording a failure writes into fixed thread-local storage.
 *
 * @par Thread safety
 * - Functions without a handle (open, remove, error and version queries) may be called from
 *   any thread at any time. The last error is per thread.
 * - A ::stella_writer or ::stella_reader must not be used by two threads at once (as in C++):
 *   open one per thread, or serialise the calls yourself. A handle may move between
 *   threads between calls.
 * - A ::stella_blob may be used by many threads at once: writes are serialised, reads take
 *   no lock. A blob claim is held by the thread that made it: that thread (and only it)
 *   commits or aborts it, and it may not claim again on the same handle before then.
 * - Closing a handle must not race with any other call on it. Handles are not inherited
 *   across fork(): a child process opens its own.
 * - Different handles are independent, also on the same segment.
 *
 * @par Example
 * @code
 * stella_writer* w;
 * if (stella_writer_open("MyLogBuffer", STELLA_OPEN_OR_CREATE, 65536, STELLA_OVERWRITE, NULL, &w) != STELLA_OK) {
 *   fprintf(stderr, "%s\n", stella_last_error_message());
 *   return 1;
 * }
 * stella_writer_write(w, "hello", 5, STELLA_WAIT_FOREVER);
 * stella_writer_close(w);
 *
 * stella_reader* r;
 * stella_reader_open("MyLogBuffer", NULL, &r);
 * char buf[256];
 * size_t n;
 * while (stella_reader_try_read(r, buf, sizeof buf, &n) == STELLA_OK) fwrite(buf, 1, n, stdout);
 * stella_reader_close(r);
 * @endcode
 */
#ifndef STELLA_STELLA_H
#define STELLA_STELLA_H

#include <stddef.h>
#include <stdint.h>

#include "stella/common/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @name Results */
/** @{ */

/**
 * @brief What a call did. Functions return it as `int` (a stable 32-bit value for bindings).
 *
 * Codes 1..19 are `stella::Errc` values plus one, in the same order; names are
 * `stella::to_string(Errc)` (see stella_status_name()).
 */
typedef enum stella_status {
  STELLA_OK = 0,                 /**< success */
  STELLA_INVALID_NAME = 1,       /**< the segment name breaks the rule: 1-64 of [A-Za-z0-9._-], not "." or ".." */
  STELLA_NOT_FOUND = 2,          /**< no segment of that name (STELLA_OPEN, remove) */
  STELLA_ALREADY_EXISTS = 3,     /**< STELLA_CREATE of a name that exists */
  STELLA_TRUNCATED = 4,          /**< the segment is smaller than its header says */
  STELLA_BAD_MAGIC = 5,          /**< not a Stella segment */
  STELLA_VERSION_MISMATCH = 6,   /**< written by another layout version (the message names both) */
  STELLA_WRONG_KIND = 7,         /**< a blob opened as a ring, or the reverse */
  STELLA_CORRUPT = 8,            /**< inconsistent header or ring contents */
  STELLA_NO_SPACE = 9,           /**< the memory could not be reserved (full /dev/shm) */
  STELLA_PERMISSION_DENIED = 10, /**< the OS refused access, or a write through a read-only blob */
  STELLA_VALUE_TOO_LARGE = 11,   /**< a message or value larger than the segment allows */
  STELLA_EMPTY = 12,             /**< outcome: nothing to read now (try_read, try_peek, blob never written) */
  STELLA_SERIALIZATION = 13,     /**< a serializer failed (C++ only; listed to mirror Errc) */
  STELLA_TIMEOUT = 14,           /**< outcome: the wait ended before data or space came */
  STELLA_SLOTS_FULL = 15,        /**< every reader (or writer) slot of the ring is taken */
  STELLA_INVALID_ARGUMENT = 16,  /**< a parameter out of its documented range (NULL handle, capacity, ...) */
  STELLA_IO = 17,                /**< any other OS error */
  STELLA_EVICTED = 18,           /**< this reader stalled past the ring's limit and was evicted; it has
                                      resumed at the oldest message (call again) */
  STELLA_TYPE_MISMATCH = 19,     /**< a typed open (options.schema set) of a segment that carries another
                                      type tag, or none (the message names both) */
  STELLA_WOULD_BLOCK = 100,      /**< outcome: try_write/try_claim would have had to wait; nothing written */
  STELLA_BUFFER_TOO_SMALL = 101, /**< the message is larger than the buffer: the size needed is stored in
                                      `*length` and the message stays next to read */
  STELLA_OVERWRITTEN = 102,      /**< stella_reader_release(): a writer overwrote the peeked message while
                                      it was looked at (Overwrite mode): discard what was read from it */
  STELLA_OUT_OF_MEMORY = 103,    /**< the process ran out of memory */
  STELLA_INTERNAL = 104          /**< an unexpected failure inside Stella (a bug: please report it) */
} stella_status;

/** @brief Stable short name of a code: "ok", "not_found", "would_block", ... ("unknown" otherwise). */
STELLA_API const char* stella_status_name(int status);

/** @brief Largest segment name, in bytes (without the terminating NUL). */
#define STELLA_MAX_NAME_LENGTH 64
/** @brief Size of stella_error::message; longer messages are cut (NUL-terminated). */
#define STELLA_ERROR_MESSAGE_SIZE 1024

/** @brief A copy of a thread's last failure (see stella_last_error()). */
typedef struct stella_error {
  int32_t code;                                /**< a ::stella_status; STELLA_OK if none was recorded */
  char segment[STELLA_MAX_NAME_LENGTH + 8];   /**< the segment concerned, "" if none */
  char message[STELLA_ERROR_MESSAGE_SIZE];    /**< "stella: segment 'NAME': what went wrong" */
} stella_error;

/** @brief Code of this thread's last failure (STELLA_OK if none since stella_clear_error()). */
STELLA_API int stella_last_error_code(void);
/**
 * @brief Message of this thread's last failure ("" if none). It names the segment:
 * "stella: segment 'NAME': ...". Valid until this thread's next failing call.
 */
STELLA_API const char* stella_last_error_message(void);
/** @brief Segment of this thread's last failure ("" if none or not about a segment). */
STELLA_API const char* stella_last_error_segment(void);
/** @brief Copies this thread's last failure into `*out` (if not NULL); returns its code. */
STELLA_API int stella_last_error(stella_error* out);
/** @brief Forgets this thread's last failure. */
STELLA_API void stella_clear_error(void);

/** @} */

/** @name Common options */
/** @{ */

/** @brief `timeout_ns` value that waits without limit (any negative value does). */
#define STELLA_WAIT_FOREVER ((int64_t)-1)

/** @brief How an open treats an existing name (stella::SharedMemoryMode). */
typedef enum stella_mode {
  STELLA_CREATE = 0,         /**< create; STELLA_ALREADY_EXISTS if the name is taken */
  STELLA_OPEN = 1,           /**< open; STELLA_NOT_FOUND if there is none */
  STELLA_OPEN_OR_CREATE = 2  /**< open if it exists, else create (rings: several processes may race) */
} stella_mode;

/** @brief What a ring writer does when the ring is full (stella::WriteBehavior). Fixed at creation. */
typedef enum stella_behavior {
  STELLA_OVERWRITE = 0, /**< never wait for readers: overwrite the oldest messages (default) */
  STELLA_BLOCK = 1      /**< never overwrite what a live registered reader has not read: wait */
} stella_behavior;

/** @brief Where a new reader starts (stella::StartPosition). */
typedef enum stella_start {
  STELLA_START_OLDEST = 0, /**< the oldest message still in the ring (default) */
  STELLA_START_LATEST = 1  /**< only messages written after the reader opened */
} stella_start;

/** @brief Owner, group and mode of a segment a call creates (stella::platform::Permissions). */
typedef struct stella_permissions {
  uint32_t mode;   /**< permission bits, default 0660 */
  uint32_t flags;  /**< reserved, 0 */
  int64_t uid;     /**< chown the new segment to this user; -1 (default): do not */
  int64_t gid;     /**< chgrp the new segment to this group; -1 (default): do not */
} stella_permissions;

/** @} */

/** @name Rings: writers */
/** @{ */

/** @brief A ring writer (stella::MultiWriterCircularBuffer). Opaque. */
typedef struct stella_writer stella_writer;

/**
 * @brief Options of a ring writer (stella::RingOptions). Initialise with
 * stella_ring_options_init(), then change fields; or pass NULL for the defaults.
 *
 * `struct_size` lets the struct grow: fields beyond it take their defaults.
 */
typedef struct stella_ring_options {
  uint32_t struct_size;         /**< sizeof(stella_ring_options), set by stella_ring_options_init() */
  uint32_t max_readers;         /**< reader slots (when creating), 1-1024, default 32 */
  uint32_t max_writers;         /**< writer slots (when creating), 1-1024, default 64 */
  uint32_t spin_iterations;     /**< busy checks before a waiting writer sleeps, default 20 */
  int64_t recovery_timeout_ns;  /**< no progress this long triggers crash recovery, default 1 s; > 0 */
  stella_permissions permissions; /**< of a ring this call creates */
} stella_ring_options;

/** @brief Fills `*options` with the defaults (and sets struct_size). */
STELLA_API void stella_ring_options_init(stella_ring_options* options);

/**
 * @brief Creates and/or opens the ring `name` for writing.
 *
 * @param name      segment name (NUL-terminated)
 * @param mode      ::stella_mode
 * @param capacity  bytes of record data (create): a power of two, 4096 to 2^40; ignored by STELLA_OPEN.
 *                  The largest message is capacity/2 - 32 bytes.
 * @param behavior  ::stella_behavior, applied when creating; an opened ring keeps its own
 * @param options   NULL for the defaults
 * @param[out] out  the new handle (NULL on failure)
 * @return STELLA_OK, or a failure: INVALID_NAME, NOT_FOUND, ALREADY_EXISTS, WRONG_KIND, CORRUPT,
 *         VERSION_MISMATCH, TRUNCATED, BAD_MAGIC, INVALID_ARGUMENT, NO_SPACE, SLOTS_FULL,
 *         PERMISSION_DENIED, IO, OUT_OF_MEMORY.
 */
STELLA_API int stella_writer_open(const char* name, stella_mode mode, size_t capacity, stella_behavior behavior,
                                  const stella_ring_options* options, stella_writer** out);
/**
 * @brief stella_writer_open() of a typed channel: STELLA_CREATE stores `schema`, the payload's
 *        type tag (up to 24 of [A-Za-z0-9._:@/+-]), in the ring's header; an open fails with
 *        STELLA_TYPE_MISMATCH (the message names both tags) when the ring carries another tag
 *        or none. NULL or "" is stella_writer_open(): untyped, opens any ring. A bad tag is
 *        STELLA_INVALID_ARGUMENT, and nothing is created.
 */
STELLA_API int stella_writer_open_typed(const char* name, stella_mode mode, size_t capacity, stella_behavior behavior,
                                        const stella_ring_options* options, const char* schema, stella_writer** out);
/** @brief Closes the writer (aborting an uncommitted claim) and frees it. NULL is ignored. */
STELLA_API void stella_writer_close(stella_writer* writer);

/**
 * @brief Writes one message of `length` bytes from `data` (NULL allowed when length is 0).
 *
 * Overwrite rings never wait. Block rings wait for space at most `timeout_ns`.
 * @return STELLA_OK, STELLA_TIMEOUT (Block, nothing written), or a failure:
 *         VALUE_TOO_LARGE (length > stella_writer_max_message_size()), INVALID_ARGUMENT.
 */
STELLA_API int stella_writer_write(stella_writer* writer, const void* data, size_t length, int64_t timeout_ns);
/** @brief Like stella_writer_write() but never waits: STELLA_WOULD_BLOCK instead. */
STELLA_API int stella_writer_try_write(stella_writer* writer, const void* data, size_t length);

/**
 * @brief Zero copy: reserves a record of exactly `length` bytes and stores its address in
 * `*data`; fill it in place, then stella_writer_commit() (or stella_writer_abort()).
 *
 * One claim at a time per writer. Readers wait at an uncommitted record, so commit promptly.
 * `*data` is valid until commit, abort or close.
 * @return STELLA_OK, STELLA_TIMEOUT (Block), or a failure: VALUE_TOO_LARGE, INVALID_ARGUMENT
 *         (a claim is already pending).
 */
STELLA_API int stella_writer_claim(stella_writer* writer, size_t length, int64_t timeout_ns, void** data);
/** @brief Like stella_writer_claim() but never waits: STELLA_WOULD_BLOCK instead. */
STELLA_API int stella_writer_try_claim(stella_writer* writer, size_t length, void** data);
/** @brief Publishes the pending claim to readers. INVALID_ARGUMENT if there is none. */
STELLA_API int stella_writer_commit(stella_writer* writer);
/** @brief Withdraws the pending claim (readers skip it). INVALID_ARGUMENT if there is none. */
STELLA_API int stella_writer_abort(stella_writer* writer);

/** @brief The ring's name (valid until close). */
STELLA_API const char* stella_writer_name(const stella_writer* writer);
/** @brief Bytes of record data. */
STELLA_API size_t stella_writer_capacity(const stella_writer* writer);
/** @brief The largest message, capacity/2 - 32 bytes. */
STELLA_API size_t stella_writer_max_message_size(const stella_writer* writer);
/** @brief The ring's ::stella_behavior (fixed when it was created). */
STELLA_API stella_behavior stella_writer_behavior(const stella_writer* writer);
/** @brief Messages this handle has written and committed (writes and claims). */
STELLA_API uint64_t stella_writer_messages_written(const stella_writer* writer);

/** @brief Removes the ring's name (mapped handles keep working). STELLA_OK or STELLA_NOT_FOUND. */
STELLA_API int stella_ring_remove(const char* name);

/** @} */

/** @name Rings: readers */
/** @{ */

/** @brief A ring reader with its own cursor (stella::LockFreeBufferReader). Opaque. */
typedef struct stella_reader stella_reader;

/** @brief Options of a reader (stella::ReaderOptions): stella_reader_options_init() or NULL. */
typedef struct stella_reader_options {
  uint32_t struct_size;         /**< sizeof(stella_reader_options), set by stella_reader_options_init() */
  uint32_t start;               /**< a ::stella_start, default STELLA_START_OLDEST */
  uint32_t spin_iterations;     /**< busy checks before a waiting reader sleeps, default 200 */
  uint32_t reserved;            /**< 0 */
  int64_t recovery_timeout_ns;  /**< no progress this long triggers crash recovery, default 1 s; > 0 */
} stella_reader_options;

/** @brief Fills `*options` with the defaults (and sets struct_size). */
STELLA_API void stella_reader_options_init(stella_reader_options* options);

/**
 * @brief Opens the ring `name` and takes a reader slot.
 * @return STELLA_OK, or a failure: INVALID_NAME, NOT_FOUND, WRONG_KIND, CORRUPT, VERSION_MISMATCH,
 *         TRUNCATED, BAD_MAGIC, SLOTS_FULL (all max_readers slots taken), INVALID_ARGUMENT,
 *         PERMISSION_DENIED, IO, OUT_OF_MEMORY.
 */
STELLA_API int stella_reader_open(const char* name, const stella_reader_options* options, stella_reader** out);
/** @brief stella_reader_open() of a typed channel: STELLA_TYPE_MISMATCH unless the ring carries
 *         `schema` (see stella_writer_open_typed()); NULL or "": untyped. */
STELLA_API int stella_reader_open_typed(const char* name, const stella_reader_options* options, const char* schema,
                                        stella_reader** out);
/** @brief Frees the reader slot and the handle. NULL is ignored. */
STELLA_API void stella_reader_close(stella_reader* reader);

/**
 * @brief Never waits: copies the next message into `buffer` (`capacity` bytes) and stores its
 * size in `*length`.
 *
 * @return STELLA_OK; STELLA_EMPTY (nothing now); STELLA_BUFFER_TOO_SMALL (`*length` = the size
 *         needed; the message stays next, so call again with a larger buffer —
 *         stella_reader_max_message_size() always suffices); STELLA_EVICTED (this reader was
 *         evicted and resumed at the oldest message; messages_lost counts the gap); or a
 *         failure: CORRUPT, INVALID_ARGUMENT.
 */
STELLA_API int stella_reader_try_read(stella_reader* reader, void* buffer, size_t capacity, size_t* length);
/** @brief Like stella_reader_try_read(), but waits up to `timeout_ns` for a message: STELLA_TIMEOUT. */
STELLA_API int stella_reader_read(stella_reader* reader, void* buffer, size_t capacity, size_t* length,
                                  int64_t timeout_ns);

/** @brief A message in place (zero copy), from stella_reader_try_peek() or stella_reader_peek(). */
typedef struct stella_view {
  const void* data;   /**< first byte, inside the mapping; valid until release, the next read or peek, or close */
  size_t length;      /**< bytes */
  uint64_t sequence;  /**< the message's sequence number in the ring */
} stella_view;

/**
 * @brief Zero copy: the next message in place, without consuming it. Never waits.
 *
 * Then stella_reader_release() moves past it. Until then the message stays next (a read or
 * a new peek returns it again). In Overwrite mode a writer may overwrite it while you look:
 * release() then says STELLA_OVERWRITTEN and what you read from the view must be discarded.
 * @return STELLA_OK, STELLA_EMPTY, STELLA_EVICTED, or a failure: CORRUPT, INVALID_ARGUMENT.
 */
STELLA_API int stella_reader_try_peek(stella_reader* reader, stella_view* view);
/** @brief Like stella_reader_try_peek(), but waits up to `timeout_ns`: STELLA_TIMEOUT. */
STELLA_API int stella_reader_peek(stella_reader* reader, stella_view* view, int64_t timeout_ns);
/**
 * @brief Moves past the peeked message.
 * @return STELLA_OK; STELLA_OVERWRITTEN (Overwrite mode: it was overwritten while you looked;
 *         discard it; the reader has moved on and counts the loss); or INVALID_ARGUMENT if no
 *         message is being peeked.
 */
STELLA_API int stella_reader_release(stella_reader* reader);

/** @brief The ring's name (valid until close). */
STELLA_API const char* stella_reader_name(const stella_reader* reader);
/** @brief The largest message of this ring: a buffer of this size always suffices. */
STELLA_API size_t stella_reader_max_message_size(const stella_reader* reader);
/** @brief Messages read (or released after a peek) so far. */
STELLA_API uint64_t stella_reader_messages_read(const stella_reader* reader);
/** @brief Messages overwritten before this reader could read them (Overwrite mode). */
STELLA_API uint64_t stella_reader_messages_lost(const stella_reader* reader);
/** @brief Times this reader was evicted for stalling (STELLA_EVICTED results). */
STELLA_API uint64_t stella_reader_evictions(const stella_reader* reader);

/** @} */

/** @name Blobs: one value shared between processes */
/** @{ */

/** @brief A blob segment (stella::SharedMemory). Opaque. */
typedef struct stella_blob stella_blob;

/** @brief Options of a blob (stella::SharedMemoryOptions): stella_blob_options_init() or NULL. */
typedef struct stella_blob_options {
  uint32_t struct_size;            /**< sizeof(stella_blob_options), set by stella_blob_options_init() */
  uint32_t read_only;              /**< non-zero: map read-only (STELLA_OPEN only); writes then fail */
  stella_permissions permissions;  /**< of a blob this call creates */
} stella_blob_options;

/** @brief Fills `*options` with the defaults (and sets struct_size). */
STELLA_API void stella_blob_options_init(stella_blob_options* options);

/**
 * @brief Creates and/or opens the blob `name`.
 * @param name     segment name (NUL-terminated)
 * @param mode     ::stella_mode
 * @param capacity the largest value in bytes (create and open-or-create; an existing blob must
 *                 be at least this large); ignored by STELLA_OPEN
 * @param options  NULL for the defaults
 * @param[out] out the new handle (NULL on failure)
 * @return STELLA_OK, or a failure: INVALID_NAME, NOT_FOUND, ALREADY_EXISTS, WRONG_KIND, TRUNCATED,
 *         BAD_MAGIC, VERSION_MISMATCH, CORRUPT, NO_SPACE, PERMISSION_DENIED, INVALID_ARGUMENT, IO,
 *         OUT_OF_MEMORY.
 */
STELLA_API int stella_blob_open(const char* name, stella_mode mode, size_t capacity, const stella_blob_options* options,
                                stella_blob** out);
/** @brief stella_blob_open() of a typed value: the type tag `schema` as in stella_writer_open_typed(). */
STELLA_API int stella_blob_open_typed(const char* name, stella_mode mode, size_t capacity,
                                      const stella_blob_options* options, const char* schema, stella_blob** out);
/** @brief Unmaps and frees the handle (the segment and its value live on). NULL is ignored. */
STELLA_API void stella_blob_close(stella_blob* blob);

/**
 * @brief Publishes `length` bytes as the new value, waiting for other writers.
 * @return STELLA_OK, or a failure: VALUE_TOO_LARGE (naming size and capacity), PERMISSION_DENIED
 *         (read-only), INVALID_ARGUMENT, IO.
 */
STELLA_API int stella_blob_write(stella_blob* blob, const void* data, size_t length);
/** @brief Like stella_blob_write() but STELLA_WOULD_BLOCK if another writer holds the lock. */
STELLA_API int stella_blob_try_write(stella_blob* blob, const void* data, size_t length);

/**
 * @brief Copies the current value into `buffer` and stores its size in `*length`. Never waits,
 * never takes a lock, never returns a torn value. (The value passes through a thread-local
 * buffer, which grows to the largest value read and is then reused: no allocation after.)
 * @return STELLA_OK; STELLA_EMPTY (never written); STELLA_BUFFER_TOO_SMALL (`*length` = the size
 *         needed; stella_blob_capacity() always suffices); or a failure: CORRUPT, INVALID_ARGUMENT.
 */
STELLA_API int stella_blob_read(const stella_blob* blob, void* buffer, size_t capacity, size_t* length);

/**
 * @brief Zero copy: takes the writer lock (waiting for other writers) and stores in `*data`
 * the address of `max_size` bytes to fill in place; stella_blob_commit() publishes the first
 * `length` of them. Until commit or abort, readers keep seeing the previous value.
 * @return STELLA_OK, or a failure: VALUE_TOO_LARGE, PERMISSION_DENIED, INVALID_ARGUMENT (this
 *         thread already holds a claim on this handle).
 */
STELLA_API int stella_blob_claim(stella_blob* blob, size_t max_size, void** data);
/** @brief Like stella_blob_claim() but STELLA_WOULD_BLOCK if another writer holds the lock. */
STELLA_API int stella_blob_try_claim(stella_blob* blob, size_t max_size, void** data);
/** @brief Publishes the first `length` bytes of this thread's claim and releases the lock. */
STELLA_API int stella_blob_commit(stella_blob* blob, size_t length);
/** @brief Abandons this thread's claim and releases the lock. */
STELLA_API int stella_blob_abort(stella_blob* blob);

/** @brief The blob's name (valid until close). */
STELLA_API const char* stella_blob_name(const stella_blob* blob);
/** @brief The largest value, in bytes. */
STELLA_API size_t stella_blob_capacity(const stella_blob* blob);
/** @brief Values written so far (0: never written): compare two readings to see a change. */
STELLA_API uint64_t stella_blob_generation(const stella_blob* blob);
/** @brief Non-zero if the blob was opened read-only. */
STELLA_API int stella_blob_read_only(const stella_blob* blob);
/** @brief Removes the blob's name (mapped handles keep working). STELLA_OK or STELLA_NOT_FOUND. */
STELLA_API int stella_blob_remove(const char* name);

/** @} */

/** @name Version */
/** @{ */

/** @brief The library version, "MAJOR.MINOR.PATCH" (the same as stella::version()). */
STELLA_API const char* stella_version(void);

/** @} */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STELLA_STELLA_H */
