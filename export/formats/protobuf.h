/* protobuf.h — a minimal Protocol Buffers wire-format encoder (for the pprof writer).
 *
 * pprof's profile.proto needs only varints (wire type 0) and length-delimited fields (wire
 * type 2: strings, packed repeated integers, nested messages), so this is a growable byte
 * buffer with those few appenders instead of a generated protobuf-c binding (docs/CLI.md,
 * "pprof" says why). Nested messages are encoded into their own buffer and appended with
 * ms_pb_message(); a failed allocation latches `failed` and turns later calls into no-ops,
 * so callers check once at the end.
 */
#ifndef MEMSCOPE_CLI_PROTOBUF_H
#define MEMSCOPE_CLI_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_pb {
  uint8_t *data;
  size_t len, cap;
  int failed;        /* 1 after an allocation failure: the buffer is incomplete */
} ms_pb_t;

void ms_pb_init(ms_pb_t *b);
void ms_pb_free(ms_pb_t *b);
void ms_pb_reset(ms_pb_t *b);           /* len = 0, keeps the memory */

/* field = varint (int32/int64/uint64/bool; negative int64 takes 10 bytes, as protobuf says). */
void ms_pb_varint_field(ms_pb_t *b, uint32_t field, uint64_t v);
/* field = bytes / string of len bytes. */
void ms_pb_bytes_field(ms_pb_t *b, uint32_t field, const void *p, size_t len);
/* field = the encoded message m (a nested message). */
void ms_pb_message(ms_pb_t *b, uint32_t field, const ms_pb_t *m);
/* field = packed repeated varints. */
void ms_pb_packed(ms_pb_t *b, uint32_t field, const uint64_t *v, size_t n);

#endif /* MEMSCOPE_CLI_PROTOBUF_H */
