/* The other process of the C API tests (compiled as C, started by capi_test with fork/exec).
 *
 *   capi_peer write NAME WRITER COUNT    opens the ring, writes COUNT messages of writer WRITER
 *                                        (even ones with stella_writer_write, odd ones by claim
 *                                        and commit)
 *   capi_peer read NAME COUNT READY_FD   opens a reader, writes "ready\n" to READY_FD, then
 *                                        receives COUNT messages of writer 0, in order, by peek
 *                                        and release, checking every byte
 *   capi_peer blob NAME                  reads the blob (must be "ping"), writes "pong"
 *
 * Exit status 0 when everything was as expected; otherwise the reason is on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capi_messages.h"
#include "stella/stella.h"

static int failed(const char* what, int status) {
  fprintf(stderr, "capi_peer: %s: %s (%s)\n", what, stella_status_name(status), stella_last_error_message());
  return 1;
}

static int write_messages(const char* name, uint32_t writer_id, uint32_t count) {
  stella_writer* w = NULL;
  int s = stella_writer_open(name, STELLA_OPEN, 0, STELLA_OVERWRITE, NULL, &w);
  if (s != STELLA_OK) return failed("stella_writer_open", s);
  uint8_t buf[CAPI_MAX_MESSAGE];
  for (uint32_t i = 0; i < count; ++i) {
    const size_t n = capi_make_message(writer_id, i, buf);
    if (i % 2 == 0) {
      s = stella_writer_write(w, buf, n, 30 * 1000000000LL);
      if (s != STELLA_OK) return failed("stella_writer_write", s);
    } else {
      void* place = NULL;
      s = stella_writer_claim(w, n, 30 * 1000000000LL, &place);
      if (s != STELLA_OK) return failed("stella_writer_claim", s);
      memcpy(place, buf, n);
      s = stella_writer_commit(w);
      if (s != STELLA_OK) return failed("stella_writer_commit", s);
    }
  }
  if (stella_writer_messages_written(w) != count) {
    fprintf(stderr, "capi_peer: messages_written is %llu, expected %u\n",
            (unsigned long long)stella_writer_messages_written(w), count);
    return 1;
  }
  stella_writer_close(w);
  return 0;
}

static int read_messages(const char* name, uint32_t count, int ready_fd) {
  stella_reader* r = NULL;
  int s = stella_reader_open(name, NULL, &r);
  if (s != STELLA_OK) return failed("stella_reader_open", s);
  if (write(ready_fd, "ready\n", 6) != 6) return failed("writing the ready line", STELLA_IO);
  close(ready_fd);
  for (uint32_t expected = 0; expected < count; ++expected) {
    stella_view v;
    s = stella_reader_peek(r, &v, 30 * 1000000000LL);
    if (s != STELLA_OK) return failed("stella_reader_peek", s);
    uint32_t w = 0, i = 0;
    if (!capi_check_message((const uint8_t*)v.data, v.length, &w, &i) || w != 0 || i != expected) {
      fprintf(stderr, "capi_peer: message %u is wrong (writer %u, index %u, %zu bytes)\n", expected, w, i, v.length);
      return 1;
    }
    s = stella_reader_release(r);
    if (s != STELLA_OK) return failed("stella_reader_release", s);
  }
  if (stella_reader_messages_read(r) != count || stella_reader_messages_lost(r) != 0) {
    fprintf(stderr, "capi_peer: counters read=%llu lost=%llu\n", (unsigned long long)stella_reader_messages_read(r),
            (unsigned long long)stella_reader_messages_lost(r));
    return 1;
  }
  stella_reader_close(r);
  return 0;
}

static int blob_pong(const char* name) {
  stella_blob* b = NULL;
  int s = stella_blob_open(name, STELLA_OPEN, 0, NULL, &b);
  if (s != STELLA_OK) return failed("stella_blob_open", s);
  char buf[16];
  size_t n = 0;
  s = stella_blob_read(b, buf, sizeof buf, &n);
  if (s != STELLA_OK) return failed("stella_blob_read", s);
  if (n != 4 || memcmp(buf, "ping", 4) != 0) {
    fprintf(stderr, "capi_peer: the blob holds %zu bytes, not \"ping\"\n", n);
    return 1;
  }
  s = stella_blob_write(b, "pong", 4);
  if (s != STELLA_OK) return failed("stella_blob_write", s);
  stella_blob_close(b);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 5 && strcmp(argv[1], "write") == 0) {
    return write_messages(argv[2], (uint32_t)strtoul(argv[3], NULL, 10), (uint32_t)strtoul(argv[4], NULL, 10));
  }
  if (argc == 5 && strcmp(argv[1], "read") == 0) {
    return read_messages(argv[2], (uint32_t)strtoul(argv[3], NULL, 10), atoi(argv[4]));
  }
  if (argc == 3 && strcmp(argv[1], "blob") == 0) return blob_pong(argv[2]);
  fprintf(stderr, "usage: capi_peer write NAME WRITER COUNT | read NAME COUNT READY_FD | blob NAME\n");
  return 2;
}
