/* dump_read.c — parse a MessagePack dump (docs/FORMAT.md) into an ms_dump_t. Untrusted input.
 *
 * Why a hand-written cursor and not msgpack_unpack(): msgpack-c first builds a complete object
 * tree in a zone (a 24-byte msgpack_object per value plus array storage) that we would then
 * walk and copy a second time; for a dump of a million live allocations that is ~200 MB of
 * temporary tree for ~35 MB of file, and its errors say "parse error" without saying where.
 * The cursor below decodes exactly the MessagePack subset the format needs in one pass,
 * straight into the final arrays, checks every length against the bytes that remain before
 * reading or allocating anything, and keeps a cheap location path (section, row, field) so
 * that an error can name the field: "sites[3].stack: index 99 out of range (5 stacks)".
 *
 * Guarantees: no read outside [data, data+len); no recursion except skipping unknown values
 * (depth-limited); every array count is checked against MS_DUMP_MAX_COUNT and against the
 * bytes left (each element needs at least its minimal encoded size), so memory stays
 * proportional to the input (worst case ~16x the file, typical ~3x); every index into another
 * table is checked after the whole file is parsed (sections may come in any order).
 * On error the partial dump is freed and *out is left zeroed.
 *
 * Which fields there are, their types, the version that added them and the tables their
 * indexes point into come from the schema (dump_schema.h, as data in dump_schema.c): records
 * are read by walking it, so nothing here names a field or counts a row's columns.
 */
#include "dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memscope.h"

#define RD_MAX_LEVELS 4
#define RD_MAX_SKIP_DEPTH 32 /* nesting allowed inside values we do not know and skip */

typedef enum rd_kind {
  K_NIL, K_BOOL, K_UINT, K_NINT, K_FLOAT, K_STR, K_BIN, K_ARRAY, K_MAP, K_EXT,
} rd_kind_t;

static const char *const kind_names[] = {
  "nil", "boolean", "unsigned integer", "negative integer", "float",
  "string", "binary", "array", "map", "extension",
};

typedef struct rd_loc {
  const char *name;   /* NULL: only the index is printed ("stacks[3][7]") */
  uint32_t index;     /* MS_DUMP_NONE: no index */
} rd_loc_t;

typedef struct rd {
  const uint8_t *base, *p, *end;
  char *err;
  size_t errlen;
  int failed;
  int code;           /* MS_EINVAL or MS_ENOMEM once failed */
  int nloc;
  rd_loc_t loc[RD_MAX_LEVELS];
  char keybuf[RD_MAX_LEVELS][40];  /* unknown keys, for error paths */
} rd_t;

/* ---------------------------------------------------------------- errors and locations */

static void at(rd_t *r, int level, const char *name, uint32_t index) {
  r->loc[level].name = name;
  r->loc[level].index = index;
  r->nloc = level + 1;
}

static size_t fmt_path(const rd_t *r, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = 0;
  for (int i = 0; i < r->nloc && n < cap; i++) {
    const rd_loc_t *l = &r->loc[i];
    int w = 0;
    if (l->name) w = snprintf(buf + n, cap - n, "%s%s", i ? "." : "", l->name);
    if (w > 0) n += (size_t)w;
    if (n < cap && l->index != MS_DUMP_NONE) {
      w = snprintf(buf + n, cap - n, "[%u]", l->index);
      if (w > 0) n += (size_t)w;
    }
  }
  return n < cap ? n : cap - 1;
}

/* Record the first error only: "<path>: <message>" (or just the message at top level). */
__attribute__((format(printf, 2, 3))) static int fail(rd_t *r, const char *fmt, ...) {
  if (r->failed) return 0;
  r->failed = 1;
  r->code = MS_EINVAL;
  if (!r->err || r->errlen == 0) return 0;
  char path[160];
  size_t pl = fmt_path(r, path, sizeof path);
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (pl) snprintf(r->err, r->errlen, "%s: %s", path, msg);
  else snprintf(r->err, r->errlen, "%s", msg);
  return 0;
}

static int fail_nomem(rd_t *r) {
  fail(r, "out of memory");
  r->code = MS_ENOMEM;
  return 0;
}

/* fail() prefixes the path itself; truncated() puts it in the message instead. */
static int fail_truncated(rd_t *r) {
  int n = r->nloc;
  char path[160];
  fmt_path(r, path, sizeof path);
  r->nloc = 0;
  fail(r, "truncated file (at byte %zu of %zu%s%s)", (size_t)(r->p - r->base),
       (size_t)(r->end - r->base), path[0] ? ", reading " : "", path);
  r->nloc = n;
  return 0;
}

static inline size_t left(const rd_t *r) { return (size_t)(r->end - r->p); }

/* ---------------------------------------------------------------- MessagePack decoding */

static inline uint64_t be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

/* Decode one value header. For K_UINT/K_NINT *val is the integer (two's complement for
 * K_NINT), for K_STR/K_BIN/K_EXT the payload length (not yet consumed, but checked to be
 * present), for K_ARRAY/K_MAP the element count, for K_BOOL 0/1. */
static int head(rd_t *r, rd_kind_t *kind, uint64_t *val) {
  if (r->p >= r->end) return fail_truncated(r);
  uint8_t t = *r->p;
  const uint8_t *q = r->p + 1;
  int extra = 0;       /* bytes of the header after the type byte */
  int lenbytes = 0;    /* of which: big-endian length/value */
  if (t <= 0x7f) { *kind = K_UINT; *val = t; r->p = q; return 1; }
  if (t >= 0xe0) { *kind = K_NINT; *val = (uint64_t)(int64_t)(int8_t)t; r->p = q; return 1; }
  if (t >= 0xa0 && t <= 0xbf) { *kind = K_STR; *val = t & 0x1f; goto body; }
  if (t >= 0x90 && t <= 0x9f) { *kind = K_ARRAY; *val = t & 0x0f; r->p = q; return 1; }
  if (t >= 0x80 && t <= 0x8f) { *kind = K_MAP; *val = t & 0x0f; r->p = q; return 1; }
  switch (t) {
  case 0xc0: *kind = K_NIL; *val = 0; r->p = q; return 1;
  case 0xc2: case 0xc3: *kind = K_BOOL; *val = t == 0xc3; r->p = q; return 1;
  case 0xcc: case 0xcd: case 0xce: case 0xcf:
    *kind = K_UINT; lenbytes = extra = 1 << (t - 0xcc); break;
  case 0xd0: case 0xd1: case 0xd2: case 0xd3:
    *kind = K_NINT; lenbytes = extra = 1 << (t - 0xd0); break;
  case 0xca: *kind = K_FLOAT; extra = 4; break;
  case 0xcb: *kind = K_FLOAT; extra = 8; break;
  case 0xd9: case 0xda: case 0xdb: *kind = K_STR; lenbytes = extra = 1 << (t - 0xd9); break;
  case 0xc4: case 0xc5: case 0xc6: *kind = K_BIN; lenbytes = extra = 1 << (t - 0xc4); break;
  case 0xdc: case 0xdd: *kind = K_ARRAY; lenbytes = extra = 2 << (t - 0xdc); break;
  case 0xde: case 0xdf: *kind = K_MAP; lenbytes = extra = 2 << (t - 0xde); break;
  case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
    *kind = K_EXT; *val = 1u << (t - 0xd4); extra = 1; break;        /* fixext: type byte */
  case 0xc7: case 0xc8: case 0xc9:
    *kind = K_EXT; lenbytes = 1 << (t - 0xc7); extra = lenbytes + 1; break;
  default:
    return fail(r, "invalid MessagePack type byte 0x%02x at byte %zu", t,
                (size_t)(r->p - r->base));
  }
  if ((size_t)(r->end - q) < (size_t)extra) return fail_truncated(r);
  if (lenbytes) *val = be(q, lenbytes);
  if (*kind == K_NINT) {  /* sign-extend int8..int64 */
    int bits = lenbytes * 8;
    if (bits < 64 && (*val >> (bits - 1)) & 1) *val |= ~(uint64_t)0 << bits;
    if ((int64_t)*val >= 0) *kind = K_UINT;  /* non-negative signed encodings are fine */
  }
  q += extra;
  if (*kind == K_FLOAT) { r->p = q; return 1; }
  if (*kind != K_STR && *kind != K_BIN && *kind != K_EXT) { r->p = q; return 1; }
  r->p = q;
  if (*val > left(r)) return fail_truncated(r);
  return 1;
body:
  r->p = q;
  if (*val > left(r)) return fail_truncated(r);
  return 1;
}

static int type_error(rd_t *r, const char *want, rd_kind_t got) {
  return fail(r, "expected %s, got %s", want, kind_names[got]);
}

static int skip(rd_t *r, int depth) {
  rd_kind_t k;
  uint64_t v;
  if (depth > RD_MAX_SKIP_DEPTH) return fail(r, "values nested too deeply");
  if (!head(r, &k, &v)) return 0;
  switch (k) {
  case K_STR: case K_BIN: r->p += v; return 1;
  case K_EXT: r->p += v; return 1;  /* head() checked the payload is present */
  case K_ARRAY:
    for (uint64_t i = 0; i < v; i++)
      if (!skip(r, depth + 1)) return 0;
    return 1;
  case K_MAP:
    for (uint64_t i = 0; i < 2 * v; i++)
      if (!skip(r, depth + 1)) return 0;
    return 1;
  default: return 1;
  }
}

static int rd_u64(rd_t *r, uint64_t *out) {
  /* fast path: positive fixint, the most common value in a dump */
  if (r->p < r->end && *r->p <= 0x7f) { *out = *r->p++; return 1; }
  rd_kind_t k;
  uint64_t v;
  if (!head(r, &k, &v)) return 0;
  if (k == K_UINT) { *out = v; return 1; }
  if (k == K_NINT) return fail(r, "negative value %lld not allowed", (long long)(int64_t)v);
  return type_error(r, "unsigned integer", k);
}

static int rd_u32(rd_t *r, uint32_t *out) {
  uint64_t v;
  if (!rd_u64(r, &v)) return 0;
  if (v > UINT32_MAX) return fail(r, "value %llu too large (at most %u)",
                                  (unsigned long long)v, UINT32_MAX);
  *out = (uint32_t)v;
  return 1;
}

static int rd_i64(rd_t *r, int64_t *out) {
  rd_kind_t k;
  uint64_t v;
  if (!head(r, &k, &v)) return 0;
  if (k == K_NINT) { *out = (int64_t)v; return 1; }
  if (k != K_UINT) return type_error(r, "integer", k);
  if (v > INT64_MAX) return fail(r, "value %llu too large for a signed count",
                                 (unsigned long long)v);
  *out = (int64_t)v;
  return 1;
}

/* An index into another table, or nil for MS_DUMP_NONE. Range is checked later. */
static int rd_index(rd_t *r, uint32_t *out) {
  if (r->p < r->end && *r->p == 0xc0) { r->p++; *out = MS_DUMP_NONE; return 1; }
  if (!rd_u32(r, out)) return 0;
  if (*out == MS_DUMP_NONE) return fail(r, "index %u out of range", *out);
  return 1;
}

static int rd_bool(rd_t *r, uint32_t *out) {
  rd_kind_t k;
  uint64_t v;
  if (!head(r, &k, &v)) return 0;
  if (k != K_BOOL) return type_error(r, "boolean", k);
  *out = (uint32_t)v;
  return 1;
}

/* A string or nil (-> NULL). Copied and NUL-terminated; embedded NULs are rejected because
 * every consumer treats these as C strings. */
static int rd_str(rd_t *r, char **out) {
  rd_kind_t k;
  uint64_t n;
  if (!head(r, &k, &n)) return 0;
  if (k == K_NIL) { *out = NULL; return 1; }
  if (k != K_STR) return type_error(r, "string or nil", k);
  if (n > MS_DUMP_MAX_STRING)
    return fail(r, "string of %llu bytes exceeds the limit of %u", (unsigned long long)n,
                MS_DUMP_MAX_STRING);
  if (memchr(r->p, 0, n)) return fail(r, "string contains a NUL byte");
  char *s = malloc(n + 1);
  if (!s) return fail_nomem(r);
  memcpy(s, r->p, n);
  s[n] = 0;
  r->p += n;
  *out = s;
  return 1;
}

/* An array header of at most MS_DUMP_MAX_COUNT elements, each needing at least min_bytes
 * of encoding: a count the remaining input cannot hold is rejected before any allocation. */
static int rd_array(rd_t *r, uint32_t *n, size_t min_bytes) {
  rd_kind_t k;
  uint64_t v;
  if (!head(r, &k, &v)) return 0;
  if (k != K_ARRAY) return type_error(r, "array", k);
  if (v > MS_DUMP_MAX_COUNT)
    return fail(r, "count %llu exceeds the limit of %u elements", (unsigned long long)v,
                MS_DUMP_MAX_COUNT);
  if (v * min_bytes > left(r))
    return fail(r, "count %llu needs at least %llu bytes but only %zu remain (truncated or "
                "corrupt file)", (unsigned long long)v, (unsigned long long)(v * min_bytes),
                left(r));
  *n = (uint32_t)v;
  return 1;
}

/* One table row: an array of exactly nfields values. */
static int rd_row(rd_t *r, uint32_t nfields) {
  if (r->p < r->end && *r->p == (0x90 | nfields) && nfields <= 15) { r->p++; return 1; }
  rd_kind_t k;
  uint64_t v;
  if (!head(r, &k, &v)) return 0;
  if (k != K_ARRAY) return type_error(r, "array (a table row)", k);
  if (v != nfields)
    return fail(r, "row has %llu fields, expected %u", (unsigned long long)v, nfields);
  return 1;
}

static void *alloc_table(rd_t *r, uint32_t n, size_t size) {
  if (n == 0) return NULL;
  void *p = calloc(n, size);
  if (!p) fail_nomem(r);
  return p;
}

/* Key of a map entry, as a pointer into the input. */
static int rd_key(rd_t *r, const char **key, size_t *klen) {
  rd_kind_t k;
  uint64_t n;
  if (!head(r, &k, &n)) return 0;
  if (k != K_STR) return type_error(r, "string key", k);
  *key = (const char *)r->p;
  *klen = (size_t)n;
  r->p += n;
  return 1;
}

static int key_is(const char *key, size_t klen, const char *name) {
  return strlen(name) == klen && memcmp(key, name, klen) == 0;
}

/* Remember an unknown key (cut) so that an error while skipping its value can name it. */
static const char *key_copy(rd_t *r, int level, const char *key, size_t klen) {
  char *b = r->keybuf[level];
  size_t n = klen < sizeof r->keybuf[0] - 1 ? klen : sizeof r->keybuf[0] - 1;
  for (size_t i = 0; i < n; i++) b[i] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
  b[n] = 0;
  return b;
}

/* ---------------------------------------------------------------- records
 * Every record is read by walking its descriptor (dump_schema.c): singletons are maps (unknown
 * keys skipped, duplicates rejected), table rows fixed-length arrays of the fields their
 * version has. The location is set to each field before it is read, so an error names it:
 * "sites[3].lifetime[2]", "variables[0].events[5].stack". */

#define MEMBER(T, base, off) ((T *)((char *)(base) + (off)))

/* Smallest encoding of a row of rec at this version: the array header and a byte a field
 * (U64S: a header and a byte an element). Lets rd_array() refuse absurd counts early. */
static size_t row_min_bytes(const ms_dump_record_t *rec, uint32_t version) {
  uint32_t n = ms_dump_row_fields(rec, version);
  size_t b = 1;
  for (uint32_t i = 0; i < n; i++)
    b += rec->fields[i].type == MS_DT_U64S ? 1 + rec->fields[i].aux : 1;
  return b;
}

static int rd_record_row(rd_t *r, const ms_dump_record_t *rec, void *base, int level,
                         uint32_t version);

/* An array of rows of rec into a calloc'd table (*arr, *count set together, so that a failure
 * half-way leaves something ms_dump_free() can release); row i is located as name[i]. */
static int rd_rows(rd_t *r, const ms_dump_record_t *rec, void **arr, uint32_t *count, int level,
                   const char *name, uint32_t version) {
  uint32_t n;
  if (!rd_array(r, &n, row_min_bytes(rec, version))) return 0;
  char *rows = alloc_table(r, n, rec->size);
  if (n && !rows) return 0;
  *arr = rows;
  *count = n;
  for (uint32_t i = 0; i < n; i++) {
    at(r, level, name, i);
    if (!rd_record_row(r, rec, rows + (size_t)i * rec->size, level + 1, version)) return 0;
  }
  return 1;
}

static int rd_strs(rd_t *r, char ***argv, uint32_t *argc, int level, const char *name) {
  uint32_t n;
  if (!rd_array(r, &n, 1)) return 0;
  *argv = alloc_table(r, n, sizeof(char *));
  if (n && !*argv) return 0;
  *argc = n;
  for (uint32_t i = 0; i < n; i++) {
    at(r, level, name, i);
    if (!rd_str(r, &(*argv)[i])) return 0;
  }
  return 1;
}

static int rd_bin32(rd_t *r, uint8_t *out, uint32_t *len) {
  rd_kind_t k;
  uint64_t n;
  if (!head(r, &k, &n)) return 0;
  if (k != K_BIN) return type_error(r, "binary", k);
  if (n > 32) return fail(r, "%llu bytes, at most 32 allowed", (unsigned long long)n);
  memcpy(out, r->p, n);
  *len = (uint32_t)n;
  r->p += n;
  return 1;
}

/* One field of a record into its member, located as name at level. */
static int rd_field(rd_t *r, const ms_dump_field_t *f, void *base, int level, uint32_t version) {
  void *p = MEMBER(char, base, f->off);
  at(r, level, f->name, MS_DUMP_NONE);
  switch ((ms_dump_type_t)f->type) {
  case MS_DT_U64: return rd_u64(r, p);
  case MS_DT_U32: return rd_u32(r, p);
  case MS_DT_I64: return rd_i64(r, p);
  case MS_DT_BOOL: return rd_bool(r, p);
  case MS_DT_STR: return rd_str(r, p);
  case MS_DT_IDX: return rd_index(r, p);
  case MS_DT_ENUM:
    if (!rd_u32(r, p)) return 0;
    if (*(uint32_t *)p > f->aux)
      return fail(r, "unknown value %u (at most %u)", *(uint32_t *)p, f->aux);
    return 1;
  case MS_DT_U64S:
    if (!rd_row(r, f->aux)) return 0;
    for (uint32_t i = 0; i < f->aux; i++) {
      at(r, level, f->name, i);
      if (!rd_u64(r, (uint64_t *)p + i)) return 0;
    }
    return 1;
  case MS_DT_STRS: return rd_strs(r, p, MEMBER(uint32_t, base, f->aux_off), level, f->name);
  case MS_DT_BIN32: return rd_bin32(r, p, MEMBER(uint32_t, base, f->aux_off));
  case MS_DT_OPT_U64:
    if (r->p < r->end && *r->p == 0xc0) {  /* nil: absent (e.g. not freed yet) */
      r->p++;
      *(uint64_t *)p = 0;
      *MEMBER(uint32_t, base, f->aux_off) = 0;
      return 1;
    }
    *MEMBER(uint32_t, base, f->aux_off) = 1;
    return rd_u64(r, p);
  case MS_DT_ROWS:
    return rd_rows(r, f->rows, p, MEMBER(uint32_t, base, f->aux_off), level, f->name, version);
  }
  return fail(r, "unknown field type %u", f->type);  /* not reached: the schema is ours */
}

/* One table row: an array of exactly the fields its version has. */
static int rd_record_row(rd_t *r, const ms_dump_record_t *rec, void *base, int level,
                         uint32_t version) {
  uint32_t n = ms_dump_row_fields(rec, version);
  r->nloc = level;  /* a wrong row length is the row's error, not its last field's */
  if (!rd_row(r, n)) return 0;
  for (uint32_t i = 0; i < n; i++)
    if (!rd_field(r, &rec->fields[i], base, level, version)) return 0;
  return 1;
}

/* A singleton: a map of field name to value, any order, any known key (whatever version
 * added it); unknown keys are skipped (FORMAT.md "Versioning"). */
static int rd_record_map(rd_t *r, const ms_dump_record_t *rec, void *base, uint32_t version) {
  rd_kind_t k;
  uint64_t n;
  uint64_t seen = 0;  /* records have at most 64 fields (checked by dump_schema_doc) */
  if (!head(r, &k, &n)) return 0;
  if (k != K_MAP) return type_error(r, "map", k);
  for (uint64_t i = 0; i < n; i++) {
    const char *key;
    size_t klen;
    at(r, 1, NULL, MS_DUMP_NONE);
    if (!rd_key(r, &key, &klen)) return 0;
    uint32_t j = 0;
    while (j < rec->n_fields && !key_is(key, klen, rec->fields[j].name)) j++;
    if (j == rec->n_fields) {
      at(r, 1, key_copy(r, 1, key, klen), MS_DUMP_NONE);
      if (!skip(r, 0)) return 0;
      continue;
    }
    at(r, 1, rec->fields[j].name, MS_DUMP_NONE);
    if (seen & (1ull << j)) return fail(r, "duplicate key");
    seen |= 1ull << j;
    if (!rd_field(r, &rec->fields[j], base, 1, version)) return 0;
  }
  return 1;
}

/* ---------------------------------------------------------------- the two tables of non-records */

static int rd_stacks(rd_t *r, ms_dump_t *d) {
  uint32_t n;
  if (!rd_array(r, &n, 1)) return 0;
  d->stacks = alloc_table(r, n, sizeof *d->stacks);
  if (n && !d->stacks) return 0;
  d->n_stacks = n;
  for (uint32_t i = 0; i < n; i++) {
    ms_dump_stack_t *s = &d->stacks[i];
    uint32_t depth;
    at(r, 0, "stacks", i);
    if (!rd_array(r, &depth, 1)) return 0;
    if (depth > MS_DUMP_MAX_DEPTH)
      return fail(r, "depth %u exceeds the limit of %u frames", depth, MS_DUMP_MAX_DEPTH);
    if (depth) {
      s->frames = malloc((size_t)depth * sizeof *s->frames);
      if (!s->frames) return fail_nomem(r);
      s->depth = depth;
    }
    for (uint32_t j = 0; j < depth; j++) {
      at(r, 1, NULL, j);
      if (!rd_u64(r, &s->frames[j])) return 0;
    }
  }
  return 1;
}

static int rd_section(rd_t *r, const ms_dump_section_t *s, ms_dump_t *d) {
  void *member = MEMBER(char, d, s->off);
  switch ((ms_dump_section_kind_t)s->kind) {
  case MS_DS_MAP: return rd_record_map(r, s->rec, member, d->format_version);
  case MS_DS_TABLE:
    return rd_rows(r, s->rec, member, MEMBER(uint32_t, d, s->count_off), 0, s->name,
                   d->format_version);
  case MS_DS_STACKS: return rd_stacks(r, d);
  case MS_DS_TAGS: return rd_strs(r, &d->tags, &d->n_tags, 0, s->name);
  }
  return fail(r, "unknown section kind %u", s->kind);  /* not reached */
}

/* ---------------------------------------------------------------- cross-checks
 * Indexes into other tables are checked once the whole file is read (sections come in any
 * order): every IDX field of every record, nested rows included. */

static int check_record(rd_t *r, const ms_dump_t *d, const ms_dump_record_t *rec,
                        const void *base, int level) {
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    const ms_dump_field_t *f = &rec->fields[i];
    const void *p = (const char *)base + f->off;
    if (f->type == MS_DT_IDX) {
      uint32_t idx = *(const uint32_t *)p;
      uint32_t n = *(const uint32_t *)((const char *)d + f->aux_off);
      if (idx == MS_DUMP_NONE || idx < n) continue;
      at(r, level, f->name, MS_DUMP_NONE);
      return fail(r, "index %u out of range (%u %s)", idx, n, f->aux_name);
    }
    if (f->type == MS_DT_ROWS) {
      const char *rows = *(const char *const *)p;
      uint32_t n = *(const uint32_t *)((const char *)base + f->aux_off);
      for (uint32_t j = 0; j < n; j++) {
        at(r, level, f->name, j);
        if (!check_record(r, d, f->rows, rows + (size_t)j * f->rows->size, level + 1)) return 0;
      }
    }
  }
  return 1;
}

static int validate(rd_t *r, const ms_dump_t *d) {
  for (uint32_t s = 0; s < ms_dump_n_sections; s++) {
    const ms_dump_section_t *sec = &ms_dump_sections[s];
    const char *member = (const char *)d + sec->off;
    if (sec->kind == MS_DS_MAP) {
      at(r, 0, sec->name, MS_DUMP_NONE);
      if (!check_record(r, d, sec->rec, member, 1)) return 0;
    } else if (sec->kind == MS_DS_TABLE) {
      const char *rows = *(const char *const *)member;
      uint32_t n = *(const uint32_t *)((const char *)d + sec->count_off);
      for (uint32_t i = 0; i < n; i++) {
        at(r, 0, sec->name, i);
        if (!check_record(r, d, sec->rec, rows + (size_t)i * sec->rec->size, 1)) return 0;
      }
    }
  }
  return 1;
}

/* ---------------------------------------------------------------- entry points */

/* The header: ["MEMSCOPE", version, ...]; *top_len gets the top-level array length. */
static int parse_header(rd_t *r, ms_dump_t *d, uint64_t *top_len) {
  rd_kind_t k;
  uint64_t n;
  if (r->p == r->end) return fail(r, "empty file (not a memscope dump)");
  /* Anything that does not start like ["MEMSCOPE", ...] is a foreign file: say so rather
   * than reporting a type error deep inside it. */
  if (!head(r, &k, &n)) return 0;
  if (k != K_ARRAY || n < 2) return fail(r, "not a memscope dump (bad magic)");
  *top_len = n;
  const size_t ml = sizeof MS_DUMP_MAGIC - 1;
  if (!head(r, &k, &n)) return 0;
  if (k != K_STR || n != ml || memcmp(r->p, MS_DUMP_MAGIC, ml) != 0)
    return fail(r, "not a memscope dump (bad magic)");
  r->p += n;
  uint64_t version;
  if (!head(r, &k, &version)) return 0;
  if (k != K_UINT) return fail(r, "bad format version (expected an integer, got %s)",
                               kind_names[k]);
  if (version > MS_DUMP_FORMAT_VERSION)
    return fail(r, "format version %llu is newer than supported %d (upgrade memscope)",
                (unsigned long long)version, MS_DUMP_FORMAT_VERSION);
  if (version < 1) return fail(r, "unsupported format version %llu", (unsigned long long)version);
  d->format_version = (uint32_t)version;
  return 1;
}

static int parse_sections(rd_t *r, ms_dump_t *d, uint64_t top_len) {
  if (top_len != 3)
    return fail(r, "bad top-level array: %llu elements, expected 3", (unsigned long long)top_len);
  rd_kind_t k;
  uint64_t n;
  if (!head(r, &k, &n)) return 0;
  if (k != K_MAP) return fail(r, "sections: expected map, got %s", kind_names[k]);
  uint64_t seen = 0;
  for (uint64_t i = 0; i < n; i++) {
    const char *key;
    size_t klen;
    r->nloc = 0;
    if (!rd_key(r, &key, &klen)) return 0;
    uint32_t j = 0;
    while (j < ms_dump_n_sections && !key_is(key, klen, ms_dump_sections[j].name)) j++;
    if (j == ms_dump_n_sections) {  /* unknown section: skipped (FORMAT.md "Versioning") */
      at(r, 0, key_copy(r, 0, key, klen), MS_DUMP_NONE);
      if (!skip(r, 0)) return 0;
      continue;
    }
    at(r, 0, ms_dump_sections[j].name, MS_DUMP_NONE);
    if (seen & (1ull << j)) return fail(r, "duplicate section");
    seen |= 1ull << j;
    if (!rd_section(r, &ms_dump_sections[j], d)) return 0;
  }
  r->nloc = 0;
  if (r->p != r->end)
    return fail(r, "trailing garbage: %zu bytes after the end of the dump at byte %zu",
                left(r), (size_t)(r->p - r->base));
  return validate(r, d);
}

int ms_dump_read_buffer(const void *data, size_t len, ms_dump_t *out, char *err,
                        size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out) return MS_EINVAL;
  memset(out, 0, sizeof *out);
  rd_t r = {.base = data, .p = data, .end = (const uint8_t *)data + len,
            .err = err, .errlen = errlen};
  if (!data && len) {
    fail(&r, "no data");
    return MS_EINVAL;
  }
  if ((uint64_t)len > MS_DUMP_MAX_FILE) {
    fail(&r, "dump too large (%zu bytes, limit %llu)", len,
         (unsigned long long)MS_DUMP_MAX_FILE);
    return MS_EINVAL;
  }
  uint64_t top_len = 0;
  if (!parse_header(&r, out, &top_len) || !parse_sections(&r, out, top_len)) {
    ms_dump_free(out);
    return r.code ? r.code : MS_EINVAL;
  }
  return 0;
}

int ms_dump_read_file(const char *path, ms_dump_t *out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out) return MS_EINVAL;
  memset(out, 0, sizeof *out);
  /* read(2) into a buffer rather than mmap: a file truncated by someone else while we
   * parse it would turn an mmap read into SIGBUS, and we promise never to crash. */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (err && errlen) snprintf(err, errlen, "cannot open: %s", strerror(errno));
    return MS_EIO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (err && errlen) snprintf(err, errlen, "not a regular file");
    close(fd);
    return MS_EIO;
  }
  if ((uint64_t)st.st_size > MS_DUMP_MAX_FILE) {
    if (err && errlen)
      snprintf(err, errlen, "file too large (%llu bytes, limit %llu)",
               (unsigned long long)st.st_size, (unsigned long long)MS_DUMP_MAX_FILE);
    close(fd);
    return MS_EINVAL;
  }
  size_t cap = (size_t)st.st_size;
  unsigned char *buf = malloc(cap ? cap : 1);
  if (!buf) {
    if (err && errlen) snprintf(err, errlen, "out of memory reading %zu bytes", cap);
    close(fd);
    return MS_ENOMEM;
  }
  size_t len = 0;
  while (len < cap) {
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (err && errlen) snprintf(err, errlen, "read error: %s", strerror(errno));
      free(buf);
      close(fd);
      return MS_EIO;
    }
    if (n == 0) break;  /* file shrank meanwhile: parse what we got (it will say truncated) */
    len += (size_t)n;
  }
  close(fd);
  int rc = ms_dump_read_buffer(buf, len, out, err, errlen);
  free(buf);
  return rc;
}
