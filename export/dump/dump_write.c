/* dump_write.c — serialise an ms_dump_t as a MessagePack dump (docs/FORMAT.md).
 *
 * This file is compiled into libmemscope.so, i.e. it runs inside the tracked process, possibly
 * at exit or from a helper thread while other threads allocate. So: no stdio, no locks, no
 * realloc-growing buffers. msgpack-c's packer is driven through a custom write callback that
 * fills one fixed 64 KiB buffer (plain malloc, which the library's re-entrancy guard routes to
 * mimalloc untracked) and flushes it with write(2), retrying on EINTR and short writes. The
 * packer's inline functions ignore some callback results, so the first error is kept sticky in
 * the writer state and every later write becomes a no-op; it is reported once at the end.
 *
 * The writer trusts its input (the snapshot code builds it), but it never writes something
 * the reader would reject for size reasons: strings are cut to MS_DUMP_MAX_STRING bytes and
 * stacks to MS_DUMP_MAX_DEPTH frames. NULL strings are written as nil, MS_DUMP_NONE indexes
 * as nil.
 *
 * What is written comes from the schema (dump_schema.h, as data in dump_schema.c): the
 * sections in order, each record's fields in order, so the bytes follow the table and nothing
 * here names a field.
 */
#include "dump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "memscope.h"

#define MS_DUMP_WBUF_SIZE (64u * 1024u)

typedef struct ms_wstate {
  int fd;
  int err;        /* 0 or the first negative MS_* code */
  size_t used;
  unsigned char *buf;
} ms_wstate_t;

static int wflush(ms_wstate_t *w) {
  size_t off = 0;
  while (off < w->used && w->err == 0) {
    ssize_t n = write(w->fd, w->buf + off, w->used - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      w->err = MS_EIO;
    } else if (n == 0) {
      w->err = MS_EIO; /* write(2) returning 0 for a non-empty request: no progress possible */
    } else {
      off += (size_t)n;
    }
  }
  w->used = 0;
  return w->err;
}

/* msgpack_packer_write callback. */
static int wcallback(void *data, const char *p, size_t len) {
  ms_wstate_t *w = data;
  if (w->err) return -1;
  while (len > 0) {
    if (w->used == MS_DUMP_WBUF_SIZE && wflush(w)) return -1;
    size_t room = MS_DUMP_WBUF_SIZE - w->used;
    size_t n = len < room ? len : room;
    memcpy(w->buf + w->used, p, n);
    w->used += n;
    p += n;
    len -= n;
  }
  return 0;
}

/* ---- small helpers that keep the section writers readable ---- */

static void put_u64(msgpack_packer *pk, uint64_t v) { msgpack_pack_uint64(pk, v); }

static void put_index(msgpack_packer *pk, uint32_t v) {
  if (v == MS_DUMP_NONE) msgpack_pack_nil(pk);
  else msgpack_pack_uint32(pk, v);
}

static void put_str(msgpack_packer *pk, const char *s) {
  if (!s) {
    msgpack_pack_nil(pk);
    return;
  }
  size_t n = strlen(s);
  if (n > MS_DUMP_MAX_STRING) n = MS_DUMP_MAX_STRING;
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

static void put_key(msgpack_packer *pk, const char *k) {
  size_t n = strlen(k);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, k, n);
}

/* A table's array header. NULL rows with a count are written empty (defensive: better an
 * empty section than a crash inside the tracked process). */
static uint32_t put_table(msgpack_packer *pk, uint32_t n, const void *rows) {
  if (!rows) n = 0;
  msgpack_pack_array(pk, n);
  return n;
}

/* ---- fields, records and sections, as the schema describes them (dump_schema.h) ---- */

static void put_rows(msgpack_packer *pk, const ms_dump_record_t *rec, const void *rows, uint32_t n);

#define MEMBER(T, base, off) ((const T *)((const char *)(base) + (off)))

static void put_field(msgpack_packer *pk, const ms_dump_field_t *f, const void *base) {
  const void *p = MEMBER(char, base, f->off);
  switch ((ms_dump_type_t)f->type) {
  case MS_DT_U64: put_u64(pk, *(const uint64_t *)p); break;
  case MS_DT_U32: case MS_DT_ENUM: put_u64(pk, *(const uint32_t *)p); break;
  case MS_DT_IDX: put_index(pk, *(const uint32_t *)p); break;
  case MS_DT_I64: msgpack_pack_int64(pk, *(const int64_t *)p); break;
  case MS_DT_BOOL:
    if (*(const uint32_t *)p) msgpack_pack_true(pk);
    else msgpack_pack_false(pk);
    break;
  case MS_DT_STR: put_str(pk, *(char *const *)p); break;
  case MS_DT_U64S:
    msgpack_pack_array(pk, f->aux);
    for (uint32_t i = 0; i < f->aux; i++) put_u64(pk, ((const uint64_t *)p)[i]);
    break;
  case MS_DT_STRS: {
    char *const *v = *(char *const *const *)p;
    uint32_t n = put_table(pk, *MEMBER(uint32_t, base, f->aux_off), v);
    for (uint32_t i = 0; i < n; i++) put_str(pk, v[i]);
    break;
  }
  case MS_DT_BIN32: {
    uint32_t n = *MEMBER(uint32_t, base, f->aux_off);
    if (n > 32) n = 32;
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, p, n);
    break;
  }
  case MS_DT_OPT_U64:
    if (*MEMBER(uint32_t, base, f->aux_off)) put_u64(pk, *(const uint64_t *)p);
    else msgpack_pack_nil(pk);
    break;
  case MS_DT_ROWS:
    put_rows(pk, f->rows, *(const void *const *)p, *MEMBER(uint32_t, base, f->aux_off));
    break;
  }
}

/* A table row: an array of every field (the writer writes the current version). */
static void put_record_row(msgpack_packer *pk, const ms_dump_record_t *rec, const void *base) {
  msgpack_pack_array(pk, rec->n_fields);
  for (uint32_t i = 0; i < rec->n_fields; i++) put_field(pk, &rec->fields[i], base);
}

/* A table of n rows of rec. */
static void put_rows(msgpack_packer *pk, const ms_dump_record_t *rec, const void *rows, uint32_t n) {
  n = put_table(pk, n, rows);
  for (uint32_t i = 0; i < n; i++)
    put_record_row(pk, rec, (const char *)rows + (size_t)i * rec->size);
}

/* A singleton: a map from field name to value. */
static void put_record_map(msgpack_packer *pk, const ms_dump_record_t *rec, const void *base) {
  msgpack_pack_map(pk, rec->n_fields);
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    put_key(pk, rec->fields[i].name);
    put_field(pk, &rec->fields[i], base);
  }
}

static void put_stacks(msgpack_packer *pk, const ms_dump_t *d) {
  uint32_t n = put_table(pk, d->n_stacks, d->stacks);
  for (uint32_t i = 0; i < n; i++) {
    const ms_dump_stack_t *s = &d->stacks[i];
    uint32_t depth = s->frames ? s->depth : 0;
    if (depth > MS_DUMP_MAX_DEPTH) depth = MS_DUMP_MAX_DEPTH; /* keep the innermost frames */
    msgpack_pack_array(pk, depth);
    for (uint32_t j = 0; j < depth; j++) put_u64(pk, s->frames[j]);
  }
}

static void put_section(msgpack_packer *pk, const ms_dump_section_t *s, const ms_dump_t *d) {
  put_key(pk, s->name);
  const void *member = MEMBER(char, d, s->off);
  switch ((ms_dump_section_kind_t)s->kind) {
  case MS_DS_MAP: put_record_map(pk, s->rec, member); break;
  case MS_DS_STACKS: put_stacks(pk, d); break;
  case MS_DS_TAGS: {
    uint32_t n = put_table(pk, d->n_tags, d->tags);
    for (uint32_t i = 0; i < n; i++) put_str(pk, d->tags[i]);
    break;
  }
  case MS_DS_TABLE:
    put_rows(pk, s->rec, *(const void *const *)member, *MEMBER(uint32_t, d, s->count_off));
    break;
  }
}

int ms_dump_write(const ms_dump_t *d, int fd) {
  if (!d || fd < 0) return MS_EINVAL;
  ms_wstate_t w = {.fd = fd, .err = 0, .used = 0, .buf = malloc(MS_DUMP_WBUF_SIZE)};
  if (!w.buf) return MS_ENOMEM;
  msgpack_packer pk;
  msgpack_packer_init(&pk, &w, wcallback);

  msgpack_pack_array(&pk, 3);
  msgpack_pack_str(&pk, sizeof MS_DUMP_MAGIC - 1);
  msgpack_pack_str_body(&pk, MS_DUMP_MAGIC, sizeof MS_DUMP_MAGIC - 1);
  msgpack_pack_uint32(&pk, MS_DUMP_FORMAT_VERSION);
  msgpack_pack_map(&pk, ms_dump_n_sections);
  for (uint32_t i = 0; i < ms_dump_n_sections; i++) put_section(&pk, &ms_dump_sections[i], d);

  int rc = w.err ? w.err : wflush(&w);
  free(w.buf);
  return rc;
}
