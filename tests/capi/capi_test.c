/* The C API (stella/stella.h), compiled as C11: a round trip across real processes (fork/exec
 * of capi_peer) in both directions, a blob ping-pong, and the error catalogue: every code the
 * C API can produce from C, with a message that names the segment.
 *
 * The same messages also cross between languages: a C++ writer process (capi_cxx_peer, the
 * C++ API) into this C reader, and this C writer into a C++ reader process.
 *
 *   capi_test PEER_PATH CXX_PEER_PATH */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capi_messages.h"
#include "stella/stella.h"

static int failures = 0;
static const char* peer_path = NULL;
static const char* cxx_peer_path = NULL;

#define CHECK(cond)                                                                                  \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond,        \
              stella_last_error_message());                                                          \
      ++failures;                                                                                    \
    }                                                                                                \
  } while (0)

/* Checks that `expr` returns `want` (a stella_status). */
#define CHECK_STATUS(expr, want)                                                                     \
  do {                                                                                               \
    const int got_ = (expr);                                                                         \
    if (got_ != (want)) {                                                                            \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s; last error: %s\n", __FILE__, __LINE__,    \
              #expr, stella_status_name(got_), stella_status_name(want), stella_last_error_message()); \
      ++failures;                                                                                    \
    }                                                                                                \
  } while (0)

/* ---- unique names, removed at exit whatever happened ---- */

#define MAX_NAMES 64
static char names[MAX_NAMES][STELLA_MAX_NAME_LENGTH + 1];
static int name_count = 0;

static const char* unique_name(const char* tag) {
  if (name_count == MAX_NAMES) abort();
  char* n = names[name_count++];
  snprintf(n, STELLA_MAX_NAME_LENGTH + 1, "capi-%ld-%d-%s", (long)getpid(), name_count, tag);
  return n;
}

static void remove_names(void) {
  for (int i = 0; i < name_count; ++i) {
    (void)stella_ring_remove(names[i]);
    (void)stella_blob_remove(names[i]);
  }
}

/* A hang (SIGALRM), an abort or an interrupt still removes the names (a test process, so the
 * not strictly async-signal-safe unlink calls are acceptable here). */
static void on_fatal_signal(int sig) {
  remove_names();
  fprintf(stderr, "capi_test: signal %d\n", sig);
  _exit(1);
}

/* ---- child processes ---- */

/* Starts args[0] (one of the peers) with args. */
static pid_t spawn(const char* const* args, int keep_fd) {
  const pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    abort();
  }
  if (pid == 0) {
    (void)keep_fd;  /* inherited: no FD_CLOEXEC on the pipe */
    execv(args[0], (char* const*)args);
    perror("execv");
    _exit(127);
  }
  return pid;
}

static int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Status and message of the last failure must agree, and name `segment`. */
static void check_message_names(const char* segment, int code) {
  stella_error e;
  CHECK(stella_last_error(&e) == code);
  CHECK(e.code == code);
  CHECK(stella_last_error_code() == code);
  CHECK(strcmp(e.message, stella_last_error_message()) == 0);
  char want[STELLA_MAX_NAME_LENGTH + 32];
  snprintf(want, sizeof want, "segment '%s'", segment);
  if (strstr(e.message, want) == NULL) {
    fprintf(stderr, "the message of %s does not name %s: %s\n", stella_status_name(code), want, e.message);
    ++failures;
  }
  CHECK(strcmp(e.segment, segment) == 0);
  CHECK(strcmp(stella_last_error_segment(), segment) == 0);
}

/* ---- round trips ---- */

enum { WRITERS = 2, PER_WRITER = 3000 };

/* Two writer processes -> this process, Block mode on a small ring (so writers wait for us),
 * every message checked byte by byte and in order per writer; every 7th read first with a
 * buffer too small, which must leave the message in place. `writer_path` is the C peer, or
 * the C++ one (then the messages cross from the C++ API to the C API). */
static void test_writers_to_reader(const char* writer_path) {
  const char* name = unique_name("w2r");
  stella_writer* w = NULL;
  CHECK_STATUS(stella_writer_open(name, STELLA_CREATE, 4096, STELLA_BLOCK, NULL, &w), STELLA_OK);
  stella_reader* r = NULL;
  CHECK_STATUS(stella_reader_open(name, NULL, &r), STELLA_OK);
  if (w == NULL || r == NULL) return;
  CHECK(stella_writer_behavior(w) == STELLA_BLOCK);
  CHECK(stella_writer_capacity(w) == 4096);
  CHECK(stella_writer_max_message_size(w) == 4096 / 2 - 32);
  CHECK(stella_reader_max_message_size(r) == 4096 / 2 - 32);
  CHECK(strcmp(stella_reader_name(r), name) == 0);

  pid_t pids[WRITERS];
  char count[16];
  snprintf(count, sizeof count, "%d", PER_WRITER);
  for (int k = 0; k < WRITERS; ++k) {
    char id[16];
    snprintf(id, sizeof id, "%d", k);
    const char* args[] = {writer_path, "write", name, id, count, NULL};
    pids[k] = spawn(args, -1);
  }
  uint32_t next[WRITERS] = {0};
  uint8_t buf[CAPI_MAX_MESSAGE];
  int bad = 0;
  for (int n = 0; n < WRITERS * PER_WRITER && !bad; ++n) {
    size_t len = 0;
    int s;
    if (n % 7 == 0) {
      s = stella_reader_read(r, buf, 4, &len, 30 * 1000000000LL);
      if (s == STELLA_BUFFER_TOO_SMALL) {
        CHECK(len >= 8);
        size_t again = 0;
        s = stella_reader_try_read(r, buf, sizeof buf, &again);  /* it is still there */
        CHECK(again == len);
        len = again;
      } else if (s == STELLA_OK) {
        s = -1;  /* every message is at least 8 bytes: 4 cannot have held it */
      }
    } else {
      s = stella_reader_read(r, buf, sizeof buf, &len, 30 * 1000000000LL);
    }
    if (s != STELLA_OK) {
      fprintf(stderr, "read %d: %s (%s)\n", n, stella_status_name(s), stella_last_error_message());
      ++failures;
      break;
    }
    uint32_t wid = 0, i = 0;
    if (!capi_check_message(buf, len, &wid, &i) || wid >= WRITERS || i != next[wid]) {
      fprintf(stderr, "message %d is wrong: writer %u index %u (%zu bytes)\n", n, wid, i, len);
      ++failures;
      bad = 1;
      break;
    }
    ++next[wid];
  }
  for (int k = 0; k < WRITERS; ++k) CHECK(wait_exit(pids[k]) == 0);
  for (int k = 0; k < WRITERS; ++k) CHECK(next[k] == PER_WRITER);
  CHECK(stella_reader_messages_read(r) == (uint64_t)(WRITERS * PER_WRITER));
  CHECK(stella_reader_messages_lost(r) == 0);
  size_t len = 0;
  CHECK_STATUS(stella_reader_try_read(r, buf, sizeof buf, &len), STELLA_EMPTY);
  stella_reader_close(r);
  stella_writer_close(w);
}

/* This process writes (write and claim/commit) -> a reader process: the C peer (peek/release)
 * or the C++ one (read_bytes). */
static void test_writer_to_reader_process(const char* reader_path) {
  const char* name = unique_name("w2p");
  stella_writer* w = NULL;
  CHECK_STATUS(stella_writer_open(name, STELLA_CREATE, 4096, STELLA_BLOCK, NULL, &w), STELLA_OK);
  if (w == NULL) return;
  int fds[2];
  if (pipe(fds) != 0) abort();
  char fd[16], count[16];
  snprintf(fd, sizeof fd, "%d", fds[1]);
  snprintf(count, sizeof count, "%d", PER_WRITER);
  const char* args[] = {reader_path, "read", name, count, fd, NULL};
  const pid_t pid = spawn(args, fds[1]);
  close(fds[1]);
  /* Wait until the reader holds its slot: a Block ring only waits for registered readers. */
  struct pollfd p = {fds[0], POLLIN, 0};
  char line[8] = {0};
  CHECK(poll(&p, 1, 30000) == 1 && read(fds[0], line, 6) == 6 && strncmp(line, "ready\n", 6) == 0);
  close(fds[0]);
  uint8_t buf[CAPI_MAX_MESSAGE];
  for (uint32_t i = 0; i < PER_WRITER; ++i) {
    const size_t n = capi_make_message(0, i, buf);
    int s;
    if (i % 3 == 0) {
      void* place = NULL;
      s = stella_writer_claim(w, n, 30 * 1000000000LL, &place);
      if (s == STELLA_OK) {
        memcpy(place, buf, n);
        s = stella_writer_commit(w);
      }
    } else {
      s = stella_writer_write(w, buf, n, 30 * 1000000000LL);
    }
    if (s != STELLA_OK) {
      fprintf(stderr, "write %u: %s (%s)\n", i, stella_status_name(s), stella_last_error_message());
      ++failures;
      break;
    }
  }
  CHECK(stella_writer_messages_written(w) == PER_WRITER);
  CHECK(wait_exit(pid) == 0);
  stella_writer_close(w);
}

static void test_blob_ping_pong(void) {
  const char* name = unique_name("blob");
  stella_blob* b = NULL;
  CHECK_STATUS(stella_blob_open(name, STELLA_CREATE, 64, NULL, &b), STELLA_OK);
  if (b == NULL) return;
  CHECK(stella_blob_capacity(b) == 64);
  CHECK(stella_blob_generation(b) == 0);
  char buf[64];
  size_t n = 99;
  CHECK_STATUS(stella_blob_read(b, buf, sizeof buf, &n), STELLA_EMPTY);
  CHECK(n == 0);
  void* place = NULL;
  CHECK_STATUS(stella_blob_claim(b, 16, &place), STELLA_OK);
  CHECK(place != NULL);
  if (place != NULL) memcpy(place, "pingXXXX", 8);
  CHECK_STATUS(stella_blob_commit(b, 4), STELLA_OK);
  CHECK(stella_blob_generation(b) == 1);
  const char* args[] = {peer_path, "blob", name, NULL};
  CHECK(wait_exit(spawn(args, -1)) == 0);
  CHECK_STATUS(stella_blob_read(b, buf, sizeof buf, &n), STELLA_OK);
  CHECK(n == 4 && memcmp(buf, "pong", 4) == 0);
  CHECK(stella_blob_generation(b) == 2);
  stella_blob_close(b);
}

/* ---- the error catalogue ---- */

/* Writes `bytes` at `offset` of the segment file /dev/shm/stella.NAME (or truncates it). */
static void poke_segment(const char* name, off_t offset, const void* bytes, size_t n, off_t truncate_to) {
  char path[128];
  snprintf(path, sizeof path, "/dev/shm/stella.%s", name);
  const int fd = open(path, O_RDWR);
  CHECK(fd >= 0);
  if (fd < 0) return;
  if (n > 0) CHECK(pwrite(fd, bytes, n, offset) == (ssize_t)n);
  if (truncate_to >= 0) CHECK(ftruncate(fd, truncate_to) == 0);
  close(fd);
}

static void test_open_errors(void) {
  stella_writer* w = NULL;
  stella_reader* r = NULL;
  stella_blob* b = NULL;

  CHECK_STATUS(stella_writer_open("bad/name", STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_INVALID_NAME);
  CHECK(w == NULL);
  check_message_names("bad/name", STELLA_INVALID_NAME);
  CHECK_STATUS(stella_reader_open("", NULL, &r), STELLA_INVALID_NAME);

  const char* missing = unique_name("missing");
  CHECK_STATUS(stella_reader_open(missing, NULL, &r), STELLA_NOT_FOUND);
  check_message_names(missing, STELLA_NOT_FOUND);
  CHECK_STATUS(stella_writer_open(missing, STELLA_OPEN, 0, STELLA_OVERWRITE, NULL, &w), STELLA_NOT_FOUND);
  CHECK_STATUS(stella_blob_open(missing, STELLA_OPEN, 0, NULL, &b), STELLA_NOT_FOUND);
  check_message_names(missing, STELLA_NOT_FOUND);
  CHECK_STATUS(stella_ring_remove(missing), STELLA_NOT_FOUND);
  check_message_names(missing, STELLA_NOT_FOUND);

  const char* ring = unique_name("ring");
  CHECK_STATUS(stella_writer_open(ring, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_OK);
  stella_writer* again = NULL;
  CHECK_STATUS(stella_writer_open(ring, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &again), STELLA_ALREADY_EXISTS);
  check_message_names(ring, STELLA_ALREADY_EXISTS);
  /* Open-or-create of an existing ring opens it: the example that runs twice in a row. */
  CHECK_STATUS(stella_writer_open(ring, STELLA_OPEN_OR_CREATE, 4096, STELLA_OVERWRITE, NULL, &again), STELLA_OK);
  stella_writer_close(again);
  CHECK_STATUS(stella_blob_open(ring, STELLA_OPEN, 0, NULL, &b), STELLA_WRONG_KIND);
  check_message_names(ring, STELLA_WRONG_KIND);
  stella_writer_close(w);
  w = NULL;

  const char* blob = unique_name("blob-kind");
  CHECK_STATUS(stella_blob_open(blob, STELLA_CREATE, 16, NULL, &b), STELLA_OK);
  CHECK_STATUS(stella_reader_open(blob, NULL, &r), STELLA_WRONG_KIND);
  check_message_names(blob, STELLA_WRONG_KIND);
  stella_blob_close(b);
  b = NULL;

  /* Bad capacities and options. */
  const char* cap = unique_name("cap");
  CHECK_STATUS(stella_writer_open(cap, STELLA_CREATE, 5000, STELLA_OVERWRITE, NULL, &w), STELLA_INVALID_ARGUMENT);
  check_message_names(cap, STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_blob_open(cap, STELLA_CREATE, 0, NULL, &b), STELLA_INVALID_ARGUMENT);
  check_message_names(cap, STELLA_INVALID_ARGUMENT);
  stella_ring_options ro;
  memset(&ro, 0, sizeof ro); /* struct_size 0: not initialised */
  CHECK_STATUS(stella_writer_open(cap, STELLA_CREATE, 4096, STELLA_OVERWRITE, &ro, &w), STELLA_INVALID_ARGUMENT);
  CHECK(strstr(stella_last_error_message(), "stella_ring_options_init") != NULL);
  CHECK_STATUS(stella_writer_open(cap, (stella_mode)7, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_INVALID_ARGUMENT);
  stella_ring_options_init(&ro);
  ro.recovery_timeout_ns = 0;
  CHECK_STATUS(stella_writer_open(cap, STELLA_CREATE, 4096, STELLA_OVERWRITE, &ro, &w), STELLA_INVALID_ARGUMENT);
  check_message_names(cap, STELLA_INVALID_ARGUMENT);
  stella_reader_options rdo;
  stella_reader_options_init(&rdo);
  rdo.start = 5;
  CHECK_STATUS(stella_reader_open(cap, &rdo, &r), STELLA_INVALID_ARGUMENT);
  /* An older caller's shorter struct: the fields it lacks take their defaults. */
  stella_ring_options_init(&ro);
  ro.struct_size = 8; /* knows struct_size and max_readers only */
  ro.max_readers = 3;
  ro.recovery_timeout_ns = -5; /* beyond its struct_size: ignored */
  CHECK_STATUS(stella_writer_open(cap, STELLA_CREATE, 4096, STELLA_OVERWRITE, &ro, &w), STELLA_OK);
  stella_writer_close(w);
  w = NULL;
  CHECK_STATUS(stella_ring_remove(cap), STELLA_OK);
  CHECK_STATUS(stella_writer_open(cap, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, NULL), STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_writer_open(NULL, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_INVALID_ARGUMENT);
  stella_blob_options bo;
  stella_blob_options_init(&bo);
  bo.read_only = 1;
  CHECK_STATUS(stella_blob_open(cap, STELLA_CREATE, 16, &bo, &b), STELLA_INVALID_ARGUMENT);
  check_message_names(cap, STELLA_INVALID_ARGUMENT);

  /* Reader slots. */
  const char* slots = unique_name("slots");
  stella_ring_options_init(&ro);
  ro.max_readers = 1;
  CHECK_STATUS(stella_writer_open(slots, STELLA_CREATE, 4096, STELLA_OVERWRITE, &ro, &w), STELLA_OK);
  CHECK_STATUS(stella_reader_open(slots, NULL, &r), STELLA_OK);
  stella_reader* second = NULL;
  CHECK_STATUS(stella_reader_open(slots, NULL, &second), STELLA_SLOTS_FULL);
  check_message_names(slots, STELLA_SLOTS_FULL);
  stella_reader_close(r);
  CHECK_STATUS(stella_reader_open(slots, NULL, &second), STELLA_OK); /* the slot was freed */
  stella_reader_close(second);
  stella_writer_close(w);
  w = NULL;
}

static void test_damaged_segments(void) {
  stella_writer* w = NULL;
  stella_reader* r = NULL;
  const uint32_t version = 99;
  const uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};

  const char* magic = unique_name("magic");
  CHECK_STATUS(stella_writer_open(magic, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_OK);
  stella_writer_close(w);
  poke_segment(magic, 0, junk, sizeof junk, -1); /* SegmentHeader.magic */
  CHECK_STATUS(stella_reader_open(magic, NULL, &r), STELLA_BAD_MAGIC);
  check_message_names(magic, STELLA_BAD_MAGIC);

  const char* vers = unique_name("version");
  CHECK_STATUS(stella_writer_open(vers, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_OK);
  stella_writer_close(w);
  poke_segment(vers, 8, &version, sizeof version, -1); /* SegmentHeader.layout_version */
  CHECK_STATUS(stella_reader_open(vers, NULL, &r), STELLA_VERSION_MISMATCH);
  check_message_names(vers, STELLA_VERSION_MISMATCH);

  const char* corrupt = unique_name("corrupt");
  CHECK_STATUS(stella_writer_open(corrupt, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_OK);
  stella_writer_close(w);
  poke_segment(corrupt, 40, junk, sizeof junk, -1); /* SegmentHeader.params: checksum no longer matches */
  CHECK_STATUS(stella_writer_open(corrupt, STELLA_OPEN, 0, STELLA_OVERWRITE, NULL, &w), STELLA_CORRUPT);
  check_message_names(corrupt, STELLA_CORRUPT);

  const char* trunc = unique_name("truncated");
  CHECK_STATUS(stella_writer_open(trunc, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_OK);
  stella_writer_close(w);
  poke_segment(trunc, 0, NULL, 0, 200);
  CHECK_STATUS(stella_reader_open(trunc, NULL, &r), STELLA_TRUNCATED);
  check_message_names(trunc, STELLA_TRUNCATED);
}

static void test_ring_operations(void) {
  const char* name = unique_name("ops");
  stella_writer* w = NULL;
  stella_reader* r = NULL;
  CHECK_STATUS(stella_writer_open(name, STELLA_CREATE, 4096, STELLA_BLOCK, NULL, &w), STELLA_OK);
  CHECK_STATUS(stella_reader_open(name, NULL, &r), STELLA_OK);
  if (w == NULL || r == NULL) return;
  uint8_t big[4096];
  memset(big, 7, sizeof big);
  uint8_t buf[4096];
  size_t len = 0;
  stella_view v;

  /* Outcomes do not touch the last error. */
  stella_clear_error();
  CHECK_STATUS(stella_reader_try_read(r, buf, sizeof buf, &len), STELLA_EMPTY);
  CHECK_STATUS(stella_reader_read(r, buf, sizeof buf, &len, 1000000), STELLA_TIMEOUT);
  CHECK_STATUS(stella_reader_try_peek(r, &v), STELLA_EMPTY);
  CHECK_STATUS(stella_reader_peek(r, &v, 0), STELLA_TIMEOUT);
  CHECK(stella_last_error_code() == STELLA_OK && stella_last_error_message()[0] == '\0');

  CHECK_STATUS(stella_writer_write(w, big, 2033, 0), STELLA_VALUE_TOO_LARGE);
  check_message_names(name, STELLA_VALUE_TOO_LARGE);
  void* place = NULL;
  CHECK_STATUS(stella_writer_claim(w, 2033, 0, &place), STELLA_VALUE_TOO_LARGE);
  CHECK_STATUS(stella_writer_write(w, NULL, 3, 0), STELLA_INVALID_ARGUMENT);
  check_message_names(name, STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_writer_commit(w), STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_writer_abort(w), STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_reader_release(r), STELLA_INVALID_ARGUMENT);
  check_message_names(name, STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_reader_try_read(r, buf, sizeof buf, NULL), STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_writer_write(NULL, big, 1, 0), STELLA_INVALID_ARGUMENT);

  /* An empty message is a message. */
  CHECK_STATUS(stella_writer_write(w, NULL, 0, 0), STELLA_OK);
  CHECK_STATUS(stella_reader_try_read(r, NULL, 0, &len), STELLA_OK);
  CHECK(len == 0);

  /* Claim then abort: readers skip it. Claim twice: refused. */
  CHECK_STATUS(stella_writer_try_claim(w, 100, &place), STELLA_OK);
  CHECK_STATUS(stella_writer_claim(w, 100, 0, &place), STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_writer_try_write(w, big, 1), STELLA_INVALID_ARGUMENT); /* claim pending */
  CHECK_STATUS(stella_writer_abort(w), STELLA_OK);
  CHECK_STATUS(stella_writer_write(w, "abc", 3, 0), STELLA_OK);
  CHECK_STATUS(stella_reader_try_peek(r, &v), STELLA_OK);
  CHECK(v.length == 3 && memcmp(v.data, "abc", 3) == 0);
  /* A read while a view is pending gives the same message; the view is then gone. */
  CHECK_STATUS(stella_reader_try_read(r, buf, sizeof buf, &len), STELLA_OK);
  CHECK(len == 3 && memcmp(buf, "abc", 3) == 0);
  CHECK_STATUS(stella_reader_release(r), STELLA_INVALID_ARGUMENT);

  /* Block: fill the ring until a write would wait. */
  int written = 0;
  int s;
  while ((s = stella_writer_try_write(w, big, 1000)) == STELLA_OK) ++written;
  CHECK_STATUS(s, STELLA_WOULD_BLOCK);
  CHECK(written >= 2);
  CHECK_STATUS(stella_writer_write(w, big, 1000, 1000000), STELLA_TIMEOUT);
  CHECK_STATUS(stella_writer_try_claim(w, 1000, &place), STELLA_WOULD_BLOCK);
  CHECK_STATUS(stella_writer_claim(w, 1000, 1000000, &place), STELLA_TIMEOUT);
  for (int i = 0; i < written; ++i) {
    CHECK_STATUS(stella_reader_read(r, buf, 999, &len, 0), STELLA_BUFFER_TOO_SMALL);
    CHECK(len == 1000);
    check_message_names(name, STELLA_BUFFER_TOO_SMALL);
    CHECK_STATUS(stella_reader_read(r, buf, sizeof buf, &len, 0), STELLA_OK);
  }
  CHECK_STATUS(stella_writer_try_write(w, big, 1000), STELLA_OK);
  CHECK_STATUS(stella_reader_try_read(r, buf, sizeof buf, &len), STELLA_OK);
  stella_reader_close(r);
  stella_writer_close(w);

  /* Overwrite: a peeked message overwritten before release. */
  const char* ow = unique_name("overwrite");
  CHECK_STATUS(stella_writer_open(ow, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w), STELLA_OK);
  CHECK_STATUS(stella_reader_open(ow, NULL, &r), STELLA_OK);
  if (w == NULL || r == NULL) return;
  CHECK_STATUS(stella_writer_write(w, big, 100, 0), STELLA_OK);
  CHECK_STATUS(stella_reader_try_peek(r, &v), STELLA_OK);
  for (int i = 0; i < 10; ++i) CHECK_STATUS(stella_writer_write(w, big, 1000, 0), STELLA_OK);
  CHECK_STATUS(stella_reader_release(r), STELLA_OVERWRITTEN);
  check_message_names(ow, STELLA_OVERWRITTEN);
  int got = 0;
  while (stella_reader_try_read(r, buf, sizeof buf, &len) == STELLA_OK) ++got;
  CHECK(got >= 1);
  CHECK(stella_reader_messages_lost(r) > 0);
  CHECK(stella_reader_messages_read(r) == (uint64_t)got);
  CHECK(stella_reader_evictions(r) == 0);
  stella_reader_close(r);
  stella_writer_close(w);
}

static void test_blob_errors(void) {
  const char* name = unique_name("blob-err");
  stella_blob* b = NULL;
  CHECK_STATUS(stella_blob_open(name, STELLA_CREATE, 8, NULL, &b), STELLA_OK);
  if (b == NULL) return;
  char buf[16];
  size_t n = 0;
  CHECK_STATUS(stella_blob_read(b, buf, sizeof buf, &n), STELLA_EMPTY);
  CHECK_STATUS(stella_blob_write(b, "123456789", 9), STELLA_VALUE_TOO_LARGE);
  check_message_names(name, STELLA_VALUE_TOO_LARGE);
  CHECK_STATUS(stella_blob_write(b, "12345678", 8), STELLA_OK);
  CHECK_STATUS(stella_blob_read(b, buf, 3, &n), STELLA_BUFFER_TOO_SMALL);
  CHECK(n == 8);
  check_message_names(name, STELLA_BUFFER_TOO_SMALL);

  /* A second handle's claim holds the writer lock: try_write and try_claim would wait. */
  stella_blob* other = NULL;
  CHECK_STATUS(stella_blob_open(name, STELLA_OPEN_OR_CREATE, 8, NULL, &other), STELLA_OK);
  void* place = NULL;
  CHECK_STATUS(stella_blob_claim(other, 8, &place), STELLA_OK);
  CHECK_STATUS(stella_blob_claim(other, 8, &place), STELLA_INVALID_ARGUMENT); /* this thread holds it */
  CHECK_STATUS(stella_blob_try_write(b, "x", 1), STELLA_WOULD_BLOCK);
  CHECK_STATUS(stella_blob_try_claim(b, 1, &place), STELLA_WOULD_BLOCK);
  CHECK_STATUS(stella_blob_commit(other, 9), STELLA_INVALID_ARGUMENT); /* more than claimed: aborted */
  CHECK_STATUS(stella_blob_abort(other), STELLA_INVALID_ARGUMENT);     /* nothing left to abort */
  CHECK_STATUS(stella_blob_try_write(b, "x", 1), STELLA_OK);            /* the lock was released */
  CHECK_STATUS(stella_blob_read(other, buf, sizeof buf, &n), STELLA_OK);
  CHECK(n == 1 && buf[0] == 'x');
  stella_blob* bigger = NULL;
  CHECK_STATUS(stella_blob_open(name, STELLA_OPEN_OR_CREATE, 9, NULL, &bigger), STELLA_INVALID_ARGUMENT);
  CHECK(bigger == NULL); /* it exists, smaller than asked */
  check_message_names(name, STELLA_INVALID_ARGUMENT);
  stella_blob_close(other);

  stella_blob_options o;
  stella_blob_options_init(&o);
  o.read_only = 1;
  stella_blob* ro = NULL;
  CHECK_STATUS(stella_blob_open(name, STELLA_OPEN, 0, &o, &ro), STELLA_OK);
  CHECK(ro != NULL && stella_blob_read_only(ro));
  CHECK_STATUS(stella_blob_write(ro, "y", 1), STELLA_PERMISSION_DENIED);
  check_message_names(name, STELLA_PERMISSION_DENIED);
  stella_blob_close(ro);
  stella_blob_close(b);
  CHECK_STATUS(stella_blob_remove(name), STELLA_OK);
  CHECK_STATUS(stella_blob_remove(name), STELLA_NOT_FOUND);
}

static void test_status_names(void) {
  static const char* const expected[] = {
      "ok", "invalid_name", "not_found", "already_exists", "truncated", "bad_magic", "version_mismatch",
      "wrong_kind", "corrupt", "no_space", "permission_denied", "value_too_large", "empty", "serialization",
      "timeout", "slots_full", "invalid_argument", "io", "evicted", "type_mismatch"};
  for (int i = 0; i <= STELLA_TYPE_MISMATCH; ++i) CHECK(strcmp(stella_status_name(i), expected[i]) == 0);
  CHECK(strcmp(stella_status_name(STELLA_WOULD_BLOCK), "would_block") == 0);
  CHECK(strcmp(stella_status_name(STELLA_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
  CHECK(strcmp(stella_status_name(STELLA_OVERWRITTEN), "overwritten") == 0);
  CHECK(strcmp(stella_status_name(STELLA_OUT_OF_MEMORY), "out_of_memory") == 0);
  CHECK(strcmp(stella_status_name(STELLA_INTERNAL), "internal") == 0);
  CHECK(strcmp(stella_status_name(20), "unknown") == 0);
  CHECK(strcmp(stella_status_name(-1), "unknown") == 0);
  CHECK(strlen(stella_version()) >= 5);
}

/* Typed channels: the *_open_typed functions store the tag (CREATE) and require it (opens). */
static void test_typed(void) {
  const char* name = unique_name("typed");
  stella_writer* w = NULL;
  CHECK_STATUS(stella_writer_open_typed(name, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, "market.Quote@2", &w),
               STELLA_OK);
  stella_reader* same = NULL;
  CHECK_STATUS(stella_reader_open_typed(name, NULL, "market.Quote@2", &same), STELLA_OK);
  stella_reader* untyped = NULL;
  CHECK_STATUS(stella_reader_open(name, NULL, &untyped), STELLA_OK);
  stella_reader* untyped2 = NULL;
  CHECK_STATUS(stella_reader_open_typed(name, NULL, "", &untyped2), STELLA_OK);
  stella_reader* other = NULL;
  CHECK_STATUS(stella_reader_open_typed(name, NULL, "market.Quote@3", &other), STELLA_TYPE_MISMATCH);
  CHECK(other == NULL);
  check_message_names(name, STELLA_TYPE_MISMATCH);
  CHECK(strstr(stella_last_error_message(), "carries type 'market.Quote@2', but this type 'market.Quote@3'") != NULL);
  stella_writer* bad = NULL;
  const char* bad_name = unique_name("badtag");
  CHECK_STATUS(stella_writer_open_typed(bad_name, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, "bad tag", &bad),
               STELLA_INVALID_ARGUMENT);
  CHECK_STATUS(stella_reader_open(bad_name, NULL, &other), STELLA_NOT_FOUND); /* nothing was created */
  stella_reader_close(untyped2);
  stella_reader_close(untyped);
  stella_reader_close(same);
  stella_writer_close(w);

  const char* blob_name = unique_name("typedblob");
  stella_blob* b = NULL;
  CHECK_STATUS(stella_blob_open_typed(blob_name, STELLA_CREATE, 64, NULL, "config.Limits@1", &b), STELLA_OK);
  stella_blob* b2 = NULL;
  CHECK_STATUS(stella_blob_open_typed(blob_name, STELLA_OPEN, 0, NULL, "config.Limits@2", &b2), STELLA_TYPE_MISMATCH);
  check_message_names(blob_name, STELLA_TYPE_MISMATCH);
  stella_blob_close(b);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: capi_test PEER_PATH CXX_PEER_PATH\n");
    return 2;
  }
  peer_path = argv[1];
  cxx_peer_path = argv[2];
  atexit(remove_names);
  signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill us before the clean-up */
  signal(SIGALRM, on_fatal_signal);
  signal(SIGINT, on_fatal_signal);
  signal(SIGTERM, on_fatal_signal);
  signal(SIGABRT, on_fatal_signal); /* a sanitizer report or a failed assert */
  alarm(240); /* a hang fails the test instead of stalling CI */

  test_status_names();
  test_open_errors();
  test_damaged_segments();
  test_ring_operations();
  test_blob_errors();
  test_typed();
  test_blob_ping_pong();
  test_writers_to_reader(peer_path);
  test_writer_to_reader_process(peer_path);
  test_writers_to_reader(cxx_peer_path);      /* C++ writers -> C reader */
  test_writer_to_reader_process(cxx_peer_path); /* C writer -> C++ reader */

  if (failures > 0) {
    fprintf(stderr, "capi_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("capi_test: all checks passed\n");
  return 0;
}
