/* Writes a message to a fresh ring through the C API, reads it back, removes the ring,
 * prints "ok stella VERSION". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <stella/stella.h>

int main(void) {
  char name[64];
  snprintf(name, sizeof name, "consumer-c-%ld", (long)getpid());
  stella_writer* w = NULL;
  stella_reader* r = NULL;
  if (stella_writer_open(name, STELLA_CREATE, 4096, STELLA_OVERWRITE, NULL, &w) != STELLA_OK ||
      stella_reader_open(name, NULL, &r) != STELLA_OK) {
    fprintf(stderr, "%s\n", stella_last_error_message());
    stella_ring_remove(name);
    return 1;
  }
  char buf[32];
  size_t n = 0;
  const int wrote = stella_writer_write(w, "installed", 9, 0);
  const int got = stella_reader_try_read(r, buf, sizeof buf, &n);
  stella_reader_close(r);
  stella_writer_close(w);
  stella_ring_remove(name);
  if (wrote != STELLA_OK || got != STELLA_OK || n != 9 || memcmp(buf, "installed", 9) != 0) {
    fprintf(stderr, "round trip failed: %s / %s\n", stella_status_name(wrote), stella_status_name(got));
    return 1;
  }
  printf("ok stella %s\n", stella_version());
  return 0;
}
