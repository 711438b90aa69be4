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

/* ---------------------------------------------------------------- singleton sections
 * process, options and summary are maps; their fields are described by tables so that one
 * function reads all three (unknown keys are skipped, duplicates rejected). */

typedef enum { F_U64, F_U32, F_STR, F_ARGV } rd_ftype_t;
typedef struct rd_field {
  const char *key;
  rd_ftype_t type;
  size_t off, off2;  /* off2: F_ARGV's count */
} rd_field_t;

#define FLD(T, type, name) {#name, type, offsetof(T, name), 0}
static const rd_field_t process_fields[] = {
  FLD(ms_dump_process_t, F_U64, pid), FLD(ms_dump_process_t, F_U64, ppid),
  FLD(ms_dump_process_t, F_STR, exe),
  {"argv", F_ARGV, offsetof(ms_dump_process_t, argv), offsetof(ms_dump_process_t, argc)},
  FLD(ms_dump_process_t, F_U64, start_time_unix_ns),
  FLD(ms_dump_process_t, F_U64, dump_time_ns), FLD(ms_dump_process_t, F_U32, reason),
  FLD(ms_dump_process_t, F_U32, sequence),
};
static const rd_field_t options_fields[] = {
  FLD(ms_dump_options_t, F_U64, sample_rate), FLD(ms_dump_options_t, F_U32, stack_depth),
  FLD(ms_dump_options_t, F_U32, interval_ms), FLD(ms_dump_options_t, F_STR, checks),
};
static const rd_field_t summary_fields[] = {
  FLD(ms_dump_summary_t, F_U64, total_allocations), FLD(ms_dump_summary_t, F_U64, total_frees),
  FLD(ms_dump_summary_t, F_U64, total_bytes), FLD(ms_dump_summary_t, F_U64, live_bytes),
  FLD(ms_dump_summary_t, F_U64, live_allocations),
  FLD(ms_dump_summary_t, F_U64, peak_live_bytes), FLD(ms_dump_summary_t, F_U64, peak_time_ns),
  FLD(ms_dump_summary_t, F_U64, usable_bytes), FLD(ms_dump_summary_t, F_U64, header_bytes),
  FLD(ms_dump_summary_t, F_U64, rss_bytes), FLD(ms_dump_summary_t, F_U64, peak_rss_bytes),
  FLD(ms_dump_summary_t, F_U64, sampled_allocations),
  FLD(ms_dump_summary_t, F_U32, leak_check),
};
#undef FLD

static int rd_argv(rd_t *r, char ***argv, uint32_t *argc) {
  uint32_t n;
  if (!rd_array(r, &n, 1)) return 0;
  *argv = alloc_table(r, n, sizeof(char *));
  if (n && !*argv) return 0;
  *argc = n;
  int lvl = r->nloc - 1;
  const char *name = r->loc[lvl].name;
  for (uint32_t i = 0; i < n; i++) {
    at(r, lvl, name, i);
    if (!rd_str(r, &(*argv)[i])) return 0;
  }
  return 1;
}

static int rd_struct_map(rd_t *r, const rd_field_t *f, size_t nf, void *base) {
  rd_kind_t k;
  uint64_t n;
  uint64_t seen = 0;
  if (!head(r, &k, &n)) return 0;
  if (k != K_MAP) return type_error(r, "map", k);
  for (uint64_t i = 0; i < n; i++) {
    const char *key;
    size_t klen;
    at(r, 1, NULL, MS_DUMP_NONE);
    if (!rd_key(r, &key, &klen)) return 0;
    size_t j = 0;
    while (j < nf && !key_is(key, klen, f[j].key)) j++;
    if (j == nf) {
      at(r, 1, key_copy(r, 1, key, klen), MS_DUMP_NONE);
      if (!skip(r, 0)) return 0;
      continue;
    }
    at(r, 1, f[j].key, MS_DUMP_NONE);
    if (seen & (1ull << j)) return fail(r, "duplicate key");
    seen |= 1ull << j;
    char *p = (char *)base + f[j].off;
    switch (f[j].type) {
    case F_U64: if (!rd_u64(r, (uint64_t *)p)) return 0; break;
    case F_U32: if (!rd_u32(r, (uint32_t *)p)) return 0; break;
    case F_STR: if (!rd_str(r, (char **)p)) return 0; break;
    case F_ARGV:
      if (!rd_argv(r, (char ***)p, (uint32_t *)((char *)base + f[j].off2))) return 0;
      break;
    }
  }
  return 1;
}

static int sec_process(rd_t *r, ms_dump_t *d) {
  return rd_struct_map(r, process_fields, sizeof process_fields / sizeof *process_fields,
                       &d->process);
}
static int sec_options(rd_t *r, ms_dump_t *d) {
  return rd_struct_map(r, options_fields, sizeof options_fields / sizeof *options_fields,
                       &d->options);
}
static int sec_summary(rd_t *r, ms_dump_t *d) {
  return rd_struct_map(r, summary_fields, sizeof summary_fields / sizeof *summary_fields,
                       &d->summary);
}

/* ---------------------------------------------------------------- table sections
 * Each row is a fixed-length array (FORMAT.md lists the columns). F(name, read) sets the
 * location to the column before reading it, so errors name the column. */

#define F(name, call) (at(r, 1, (name), MS_DUMP_NONE), (call))
#define TABLE(sec, minrow, arr, cnt)                                     \
  uint32_t n_;                                                          \
  if (!rd_array(r, &n_, (minrow))) return 0;                            \
  d->arr = alloc_table(r, n_, sizeof *d->arr);                          \
  if (n_ && !d->arr) return 0;                                          \
  d->cnt = n_;                                                          \
  for (uint32_t i = 0; i < n_; i++) {                                   \
    at(r, 0, (sec), i);

static int sec_modules(rd_t *r, ms_dump_t *d) {
  TABLE("modules", 6, modules, n_modules)
    ms_dump_module_t *m = &d->modules[i];
    if (!rd_row(r, 5) || !F("path", rd_str(r, &m->path)) || !F("base", rd_u64(r, &m->base)) ||
        !F("start", rd_u64(r, &m->start)) || !F("end", rd_u64(r, &m->end)))
      return 0;
    rd_kind_t k;
    uint64_t len;
    at(r, 1, "build_id", MS_DUMP_NONE);
    if (!head(r, &k, &len)) return 0;
    if (k != K_BIN) return type_error(r, "binary", k);
    if (len > sizeof m->build_id)
      return fail(r, "%llu bytes, at most %zu allowed", (unsigned long long)len,
                  sizeof m->build_id);
    memcpy(m->build_id, r->p, len);
    m->build_id_len = (uint32_t)len;
    r->p += len;
  }
  return 1;
}

static int sec_stacks(rd_t *r, ms_dump_t *d) {
  TABLE("stacks", 1, stacks, n_stacks)
    ms_dump_stack_t *s = &d->stacks[i];
    uint32_t depth;
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

static int sec_tags(rd_t *r, ms_dump_t *d) {
  TABLE("tags", 1, tags, n_tags)
    if (!rd_str(r, &d->tags[i])) return 0;
  }
  return 1;
}

static int sec_sites(rd_t *r, ms_dump_t *d) {
  TABLE("sites", 1 + 11 + 1 + MS_DUMP_LIFETIME_BUCKETS, sites, n_sites)
    ms_dump_site_t *s = &d->sites[i];
    if (!rd_row(r, 12) || !F("stack", rd_index(r, &s->stack)) ||
        !F("tag", rd_index(r, &s->tag)) || !F("live_bytes", rd_u64(r, &s->live_bytes)) ||
        !F("live_count", rd_u64(r, &s->live_count)) ||
        !F("total_bytes", rd_u64(r, &s->total_bytes)) ||
        !F("total_count", rd_u64(r, &s->total_count)) ||
        !F("peak_bytes", rd_u64(r, &s->peak_bytes)) ||
        !F("peak_count", rd_u64(r, &s->peak_count)) ||
        !F("temp_count", rd_u64(r, &s->temp_count)) ||
        !F("temp_bytes", rd_u64(r, &s->temp_bytes)) ||
        !F("realloc_count", rd_u64(r, &s->realloc_count)) ||
        !F("lifetime", rd_row(r, MS_DUMP_LIFETIME_BUCKETS)))
      return 0;
    for (uint32_t b = 0; b < MS_DUMP_LIFETIME_BUCKETS; b++) {
      at(r, 1, "lifetime", b);
      if (!rd_u64(r, &s->lifetime[b])) return 0;
    }
  }
  return 1;
}

static int sec_allocs(rd_t *r, ms_dump_t *d) {
  TABLE("allocs", 8, allocs, n_allocs)
    ms_dump_alloc_t *a = &d->allocs[i];
    int v1 = d->format_version < 2; /* version 1 rows have no kind */
    if (!rd_row(r, v1 ? 7 : 8) || !F("address", rd_u64(r, &a->address)) ||
        !F("size", rd_u64(r, &a->size)) || !F("weight_bytes", rd_u64(r, &a->weight_bytes)) ||
        !F("time_ns", rd_u64(r, &a->time_ns)) || !F("stack", rd_index(r, &a->stack)) ||
        !F("thread", rd_index(r, &a->thread)) || !F("tag", rd_index(r, &a->tag)) ||
        (!v1 && !F("kind", rd_u32(r, &a->kind))))
      return 0;
    if (a->kind >= MS_LEAK_KINDS) return fail(r, "leak kind %u is out of range", a->kind);
  }
  return 1;
}

static int sec_classes(rd_t *r, ms_dump_t *d) {
  TABLE("classes", 7, classes, n_classes)
    ms_dump_class_t *c = &d->classes[i];
    if (!rd_row(r, 6) || !F("size", rd_u64(r, &c->size)) ||
        !F("allocations", rd_u64(r, &c->allocations)) || !F("frees", rd_u64(r, &c->frees)) ||
        !F("requested_bytes", rd_u64(r, &c->requested_bytes)) ||
        !F("usable_bytes", rd_u64(r, &c->usable_bytes)) ||
        !F("total_requested", rd_u64(r, &c->total_requested)))
      return 0;
  }
  return 1;
}

static int rd_events(rd_t *r, ms_dump_variable_t *v) {
  uint32_t n;
  if (!rd_array(r, &n, 8)) return 0;
  v->events = alloc_table(r, n, sizeof *v->events);
  if (n && !v->events) return 0;
  v->n_events = n;
  for (uint32_t j = 0; j < n; j++) {
    ms_dump_event_t *e = &v->events[j];
    at(r, 1, "events", j);
#define G(name, call) (at(r, 2, (name), MS_DUMP_NONE), (call))
    if (!rd_row(r, 7) || !G("time_ns", rd_u64(r, &e->time_ns)) ||
        !G("kind", rd_u32(r, &e->kind)) || !G("thread", rd_index(r, &e->thread)) ||
        !G("count", rd_i64(r, &e->count)) || !G("address", rd_u64(r, &e->address)) ||
        !G("size", rd_u64(r, &e->size)) || !G("stack", rd_index(r, &e->stack)))
      return 0;
#undef G
  }
  return 1;
}

static int sec_variables(rd_t *r, ms_dump_t *d) {
  TABLE("variables", 13, variables, n_variables)
    ms_dump_variable_t *v = &d->variables[i];
    if (!rd_row(r, 12) || !F("name", rd_str(r, &v->name)) || !F("type", rd_str(r, &v->type)) ||
        !F("file", rd_str(r, &v->file)) || !F("line", rd_u32(r, &v->line)) ||
        !F("address", rd_u64(r, &v->address)) || !F("size", rd_u64(r, &v->size)) ||
        !F("alloc_time_ns", rd_u64(r, &v->alloc_time_ns)))
      return 0;
    at(r, 1, "free_time_ns", MS_DUMP_NONE);
    if (r->p < r->end && *r->p == 0xc0) {
      r->p++;
      v->freed = 0;
      v->free_time_ns = 0;
    } else {
      if (!rd_u64(r, &v->free_time_ns)) return 0;
      v->freed = 1;
    }
    if (!F("thread", rd_index(r, &v->thread)) ||
        !F("alloc_stack", rd_index(r, &v->alloc_stack)) ||
        !F("free_stack", rd_index(r, &v->free_stack)) || !F("events", rd_events(r, v)))
      return 0;
  }
  return 1;
}

static int sec_timeline(rd_t *r, ms_dump_t *d) {
  TABLE("timeline", 4, timeline, n_timeline)
    ms_dump_point_t *p = &d->timeline[i];
    if (!rd_row(r, 3) || !F("time_ns", rd_u64(r, &p->time_ns)) ||
        !F("live_bytes", rd_u64(r, &p->live_bytes)) ||
        !F("rss_bytes", rd_u64(r, &p->rss_bytes)))
      return 0;
  }
  return 1;
}

static int sec_errors(rd_t *r, ms_dump_t *d) {
  TABLE("errors", 10, errors, n_errors)
    ms_dump_error_t *e = &d->errors[i];
    if (!rd_row(r, 9) || !F("kind", rd_u32(r, &e->kind)) ||
        !F("thread", rd_index(r, &e->thread)) || !F("address", rd_u64(r, &e->address)) ||
        !F("size", rd_u64(r, &e->size)) || !F("time_ns", rd_u64(r, &e->time_ns)) ||
        !F("stack", rd_index(r, &e->stack)) ||
        !F("alloc_stack", rd_index(r, &e->alloc_stack)) ||
        !F("free_stack", rd_index(r, &e->free_stack)) || !F("detail", rd_str(r, &e->detail)))
      return 0;
  }
  return 1;
}

static int sec_threads(rd_t *r, ms_dump_t *d) {
  TABLE("threads", 8, threads, n_threads)
    ms_dump_thread_t *t = &d->threads[i];
    if (!rd_row(r, 7) || !F("tid", rd_u64(r, &t->tid)) || !F("name", rd_str(r, &t->name)) ||
        !F("alive", rd_bool(r, &t->alive)) || !F("allocations", rd_u64(r, &t->allocations)) ||
        !F("frees", rd_u64(r, &t->frees)) ||
        !F("allocated_bytes", rd_u64(r, &t->allocated_bytes)) ||
        !F("freed_bytes", rd_u64(r, &t->freed_bytes)))
      return 0;
  }
  return 1;
}

static int sec_crossings(rd_t *r, ms_dump_t *d) {
  TABLE("crossings", 5, crossings, n_crossings)
    ms_dump_crossing_t *c = &d->crossings[i];
    if (!rd_row(r, 4) || !F("alloc_module", rd_index(r, &c->alloc_module)) ||
        !F("free_module", rd_index(r, &c->free_module)) || !F("count", rd_u64(r, &c->count)) ||
        !F("bytes", rd_u64(r, &c->bytes)))
      return 0;
  }
  return 1;
}
#undef TABLE
#undef F

static const struct {
  const char *name;
  int (*read)(rd_t *, ms_dump_t *);
} sections[] = {
  {"process", sec_process}, {"options", sec_options}, {"summary", sec_summary},
  {"modules", sec_modules}, {"stacks", sec_stacks}, {"tags", sec_tags},
  {"sites", sec_sites}, {"allocs", sec_allocs}, {"classes", sec_classes},
  {"variables", sec_variables}, {"timeline", sec_timeline}, {"errors", sec_errors},
  {"threads", sec_threads}, {"crossings", sec_crossings},
};

/* ---------------------------------------------------------------- cross-checks */

/* idx must be < n or MS_DUMP_NONE. The location is set by the caller's at() calls. */
static int check_index(rd_t *r, uint32_t idx, uint32_t n, const char *what) {
  if (idx == MS_DUMP_NONE || idx < n) return 1;
  return fail(r, "index %u out of range (%u %s)", idx, n, what);
}

static int check_enum(rd_t *r, uint32_t v, uint32_t max) {
  if (v <= max) return 1;
  return fail(r, "unknown value %u (at most %u)", v, max);
}

#define CHK(level, name, idx, n, what) \
  (at(r, (level), (name), MS_DUMP_NONE), check_index(r, (idx), (n), (what)))

static int validate(rd_t *r, const ms_dump_t *d) {
  at(r, 0, "process", MS_DUMP_NONE);
  at(r, 1, "reason", MS_DUMP_NONE);
  if (!check_enum(r, d->process.reason, MS_DUMP_REASON_SIGNAL)) return 0;
  for (uint32_t i = 0; i < d->n_sites; i++) {
    const ms_dump_site_t *s = &d->sites[i];
    at(r, 0, "sites", i);
    if (!CHK(1, "stack", s->stack, d->n_stacks, "stacks") ||
        !CHK(1, "tag", s->tag, d->n_tags, "tags"))
      return 0;
  }
  if (d->summary.leak_check > MS_LEAK_CHECK_FAILED) {
    at(r, 0, "summary", MS_DUMP_NONE);
    return fail(r, "leak_check %u is out of range", d->summary.leak_check);
  }
  for (uint32_t i = 0; i < d->n_allocs; i++) {
    const ms_dump_alloc_t *a = &d->allocs[i];
    at(r, 0, "allocs", i);
    if (!CHK(1, "stack", a->stack, d->n_stacks, "stacks") ||
        !CHK(1, "thread", a->thread, d->n_threads, "threads") ||
        !CHK(1, "tag", a->tag, d->n_tags, "tags"))
      return 0;
  }
  for (uint32_t i = 0; i < d->n_variables; i++) {
    const ms_dump_variable_t *v = &d->variables[i];
    at(r, 0, "variables", i);
    if (!CHK(1, "thread", v->thread, d->n_threads, "threads") ||
        !CHK(1, "alloc_stack", v->alloc_stack, d->n_stacks, "stacks") ||
        !CHK(1, "free_stack", v->free_stack, d->n_stacks, "stacks"))
      return 0;
    for (uint32_t j = 0; j < v->n_events; j++) {
      const ms_dump_event_t *e = &v->events[j];
      at(r, 0, "variables", i);
      at(r, 1, "events", j);
      if (!CHK(2, "thread", e->thread, d->n_threads, "threads") ||
          !CHK(2, "stack", e->stack, d->n_stacks, "stacks"))
        return 0;
      at(r, 2, "kind", MS_DUMP_NONE);
      if (!check_enum(r, e->kind, MS_EV_REFSET)) return 0;
    }
  }
  for (uint32_t i = 0; i < d->n_errors; i++) {
    const ms_dump_error_t *e = &d->errors[i];
    at(r, 0, "errors", i);
    if (!CHK(1, "thread", e->thread, d->n_threads, "threads") ||
        !CHK(1, "stack", e->stack, d->n_stacks, "stacks") ||
        !CHK(1, "alloc_stack", e->alloc_stack, d->n_stacks, "stacks") ||
        !CHK(1, "free_stack", e->free_stack, d->n_stacks, "stacks"))
      return 0;
    at(r, 1, "kind", MS_DUMP_NONE);
    if (!check_enum(r, e->kind, MS_ERR_BUFFER_UNDERFLOW)) return 0;
  }
  for (uint32_t i = 0; i < d->n_crossings; i++) {
    const ms_dump_crossing_t *c = &d->crossings[i];
    at(r, 0, "crossings", i);
    if (!CHK(1, "alloc_module", c->alloc_module, d->n_modules, "modules") ||
        !CHK(1, "free_module", c->free_module, d->n_modules, "modules"))
      return 0;
  }
  return 1;
}
#undef CHK

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
  uint32_t seen = 0;
  for (uint64_t i = 0; i < n; i++) {
    const char *key;
    size_t klen;
    r->nloc = 0;
    if (!rd_key(r, &key, &klen)) return 0;
    size_t j = 0, ns = sizeof sections / sizeof *sections;
    while (j < ns && !key_is(key, klen, sections[j].name)) j++;
    if (j == ns) {  /* unknown section: skipped (FORMAT.md "Versioning") */
      at(r, 0, key_copy(r, 0, key, klen), MS_DUMP_NONE);
      if (!skip(r, 0)) return 0;
      continue;
    }
    at(r, 0, sections[j].name, MS_DUMP_NONE);
    if (seen & (1u << j)) return fail(r, "duplicate section");
    seen |= 1u << j;
    if (!sections[j].read(r, d)) return 0;
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
