/* Checksummed test messages shared by capi_test.c and capi_peer.c (both compiled as C).
 * Message (writer w, index i): 4 bytes w, 4 bytes i, then a payload of (i * 37) % 251 bytes
 * whose every byte is derived from (w, i, position), so a torn, mixed or misdelivered
 * message is caught byte by byte. */
#ifndef STELLA_TESTS_CAPI_MESSAGES_H
#define STELLA_TESTS_CAPI_MESSAGES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CAPI_MAX_MESSAGE (8 + 251)

static inline uint8_t capi_byte(uint32_t w, uint32_t i, size_t k) {
  return (uint8_t)((w * 131u + i * 7u + (uint32_t)k * 13u) & 0xffu);
}

/* Fills buf (CAPI_MAX_MESSAGE bytes) with message (w, i); returns its length. */
static inline size_t capi_make_message(uint32_t w, uint32_t i, uint8_t* buf) {
  const size_t payload = (size_t)((i * 37u) % 251u);
  memcpy(buf, &w, 4);
  memcpy(buf + 4, &i, 4);
  for (size_t k = 0; k < payload; ++k) buf[8 + k] = capi_byte(w, i, k);
  return 8 + payload;
}

/* 1 if buf[0, length) is a well-formed message; stores its writer and index. */
static inline int capi_check_message(const uint8_t* buf, size_t length, uint32_t* w, uint32_t* i) {
  if (length < 8) return 0;
  memcpy(w, buf, 4);
  memcpy(i, buf + 4, 4);
  if (length != 8 + (size_t)((*i * 37u) % 251u)) return 0;
  for (size_t k = 0; k + 8 < length; ++k) {
    if (buf[8 + k] != capi_byte(*w, *i, k)) return 0;
  }
  return 1;
}

#endif
