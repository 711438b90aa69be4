/* protobuf.c — the Protocol Buffers wire-format encoder behind pprof output (see protobuf.h).
 * Reference: https://protobuf.dev/programming-guides/encoding/ (varints, tags = field << 3 |
 * wire type, length-delimited records). */
#include "protobuf.h"

#include <stdlib.h>
#include <string.h>

enum { WT_VARINT = 0, WT_LEN = 2 };

void ms_pb_init(ms_pb_t *b) { memset(b, 0, sizeof *b); }

void ms_pb_free(ms_pb_t *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void ms_pb_reset(ms_pb_t *b) { b->len = 0; }

static int reserve(ms_pb_t *b, size_t more) {
  if (b->failed) return -1;
  if (b->cap - b->len >= more) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < more) {
    if (cap > SIZE_MAX / 2) {
      b->failed = 1;
      return -1;
    }
    cap *= 2;
  }
  uint8_t *d = realloc(b->data, cap);
  if (!d) {
    b->failed = 1;
    return -1;
  }
  b->data = d;
  b->cap = cap;
  return 0;
}

static void put_varint(ms_pb_t *b, uint64_t v) {
  if (reserve(b, 10) != 0) return;
  while (v >= 0x80) {
    b->data[b->len++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  b->data[b->len++] = (uint8_t)v;
}

static void put_tag(ms_pb_t *b, uint32_t field, unsigned wt) {
  put_varint(b, ((uint64_t)field << 3) | wt);
}

void ms_pb_varint_field(ms_pb_t *b, uint32_t field, uint64_t v) {
  put_tag(b, field, WT_VARINT);
  put_varint(b, v);
}

void ms_pb_bytes_field(ms_pb_t *b, uint32_t field, const void *p, size_t len) {
  put_tag(b, field, WT_LEN);
  put_varint(b, len);
  if (len && reserve(b, len) == 0) {
    memcpy(b->data + b->len, p, len);
    b->len += len;
  }
}

void ms_pb_message(ms_pb_t *b, uint32_t field, const ms_pb_t *m) {
  if (m->failed) b->failed = 1;
  ms_pb_bytes_field(b, field, m->data, m->len);
}

static size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

void ms_pb_packed(ms_pb_t *b, uint32_t field, const uint64_t *v, size_t n) {
  if (!n) return;   /* an empty packed field is the same as an absent one */
  size_t len = 0;
  for (size_t i = 0; i < n; i++) len += varint_size(v[i]);
  put_tag(b, field, WT_LEN);
  put_varint(b, len);
  for (size_t i = 0; i < n; i++) put_varint(b, v[i]);
}
