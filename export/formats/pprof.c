/* pprof.c — `memscope convert --format pprof`: a gzip-compressed profile.proto, the format of
 * `go tool pprof`, Pyroscope, Parca and Grafana.
 *
 * The profile looks like a Go heap profile so every pprof tool picks sensible defaults:
 * sample types alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes
 * (the last is the default view), period_type space/bytes with period = the dump's sample rate.
 * One sample per stack (sites of the same stack with different tags are added up); its values
 * are the site figures of the dump (total_count, total_bytes, live_count, live_bytes), which
 * are already unbiased estimates, so pprof's totals equal `memscope report`'s.
 *
 * Locations are the model's frames (one per distinct return address, memscope's own frames
 * hidden as everywhere else); a location's lines are its inline chain when DWARF has one
 * (innermost first, as profile.proto orders them), else its one function/file/line. Frames
 * without a function name get no line, and pprof shows their address. Mappings come from the
 * dump's module map with the build-ids the tracked process had loaded.
 *
 * Field numbers: github.com/google/pprof/proto/profile.proto. The encoder is protobuf.c; the
 * gzip layer is zlib (the file is what pprof itself writes: gzip of the serialised message).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "formats.h"
#include "protobuf.h"
#include "symbolize.h"

/* profile.proto field numbers */
enum { P_SAMPLE_TYPE = 1, P_SAMPLE = 2, P_MAPPING = 3, P_LOCATION = 4, P_FUNCTION = 5,
       P_STRING_TABLE = 6, P_TIME_NANOS = 9, P_DURATION_NANOS = 10, P_PERIOD_TYPE = 11,
       P_PERIOD = 12, P_COMMENT = 13, P_DEFAULT_SAMPLE_TYPE = 14 };
enum { VT_TYPE = 1, VT_UNIT = 2 };
enum { S_LOCATION_ID = 1, S_VALUE = 2 };
enum { M_ID = 1, M_START = 2, M_LIMIT = 3, M_OFFSET = 4, M_FILENAME = 5, M_BUILD_ID = 6,
       M_HAS_FUNCTIONS = 7, M_HAS_FILENAMES = 8, M_HAS_LINES = 9, M_HAS_INLINES = 10 };
enum { L_ID = 1, L_MAPPING_ID = 2, L_ADDRESS = 3, L_LINE = 4 };
enum { LN_FUNCTION_ID = 1, LN_LINE = 2 };
enum { F_ID = 1, F_NAME = 2, F_SYSTEM_NAME = 3, F_FILENAME = 4 };

/* ------------------------------------------------------------------ string / function tables */

typedef struct strtab {
  const char **strs;     /* index -> string (borrowed from the model or from `owned`) */
  uint32_t n, cap;
  uint32_t *slots;       /* open addressing: string index + 1, 0 = empty */
  size_t mask;
  char **owned;          /* strings made here (hex build-ids, comments) */
  uint32_t n_owned, cap_owned;
  int failed;
} strtab_t;

static uint64_t hash_bytes(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h ^ (h >> 29);
}

static int strtab_grow(strtab_t *t) {
  size_t cap = t->mask ? (t->mask + 1) * 2 : 1024;
  uint32_t *slots = calloc(cap, sizeof *slots);
  if (!slots) return -1;
  for (uint32_t i = 0; i < t->n; i++) {
    size_t k = hash_bytes(t->strs[i]) & (cap - 1);
    while (slots[k]) k = (k + 1) & (cap - 1);
    slots[k] = i + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->mask = cap - 1;
  return 0;
}

/* Index of s in the table, adding it (s must outlive the table). */
static uint64_t str_id(strtab_t *t, const char *s) {
  if (!s) s = "";
  if (t->failed) return 0;
  if ((size_t)(t->n + 1) * 2 > t->mask + 1 && strtab_grow(t) != 0) goto fail;
  size_t k = hash_bytes(s) & t->mask;
  while (t->slots[k]) {
    if (!strcmp(t->strs[t->slots[k] - 1], s)) return t->slots[k] - 1;
    k = (k + 1) & t->mask;
  }
  if (ms_grow(&t->strs, t->n, &t->cap, sizeof *t->strs, 1024) != 0) goto fail;
  t->strs[t->n] = s;
  t->slots[k] = ++t->n;
  return t->n - 1;
fail:
  t->failed = 1;
  return 0;
}

/* Same, for a string made here (copied and freed with the table). */
static uint64_t str_own(strtab_t *t, const char *s) {
  if (t->n_owned == t->cap_owned) {
    uint32_t cap = t->cap_owned ? t->cap_owned * 2 : 16;
    char **no = realloc(t->owned, cap * sizeof *no);
    if (!no) {
      t->failed = 1;
      return 0;
    }
    t->owned = no;
    t->cap_owned = cap;
  }
  char *c = strdup(s);
  if (!c) {
    t->failed = 1;
    return 0;
  }
  t->owned[t->n_owned++] = c;
  return str_id(t, c);
}

static void strtab_free(strtab_t *t) {
  for (uint32_t i = 0; i < t->n_owned; i++) free(t->owned[i]);
  free(t->owned);
  free(t->strs);
  free(t->slots);
}

/* Functions are (name, file) pairs; ids are 1-based. Keyed on the two string indexes. */
typedef struct functab {
  uint64_t *keys;        /* name << 32 | file, 0 = empty (name index 0 is "" and never used) */
  uint32_t *ids;
  size_t mask;
  uint32_t n;
  uint64_t *names, *files;   /* per id - 1 */
  uint32_t cap;
  int failed;
} functab_t;

static uint32_t func_id(functab_t *f, uint64_t name, uint64_t file) {
  if (f->failed) return 0;
  uint64_t key = name << 32 | file;
  if ((size_t)(f->n + 1) * 2 > f->mask + 1) {
    size_t cap = f->mask ? (f->mask + 1) * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *ids = calloc(cap, sizeof *ids);
    if (!keys || !ids) {
      free(keys);
      free(ids);
      f->failed = 1;
      return 0;
    }
    for (size_t i = 0; f->keys && i <= f->mask; i++) {
      if (!f->keys[i]) continue;
      size_t k = (f->keys[i] * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
      while (keys[k]) k = (k + 1) & (cap - 1);
      keys[k] = f->keys[i];
      ids[k] = f->ids[i];
    }
    free(f->keys);
    free(f->ids);
    f->keys = keys;
    f->ids = ids;
    f->mask = cap - 1;
  }
  size_t k = (key * 0x9e3779b97f4a7c15ULL >> 20) & f->mask;
  while (f->keys[k]) {
    if (f->keys[k] == key) return f->ids[k];
    k = (k + 1) & f->mask;
  }
  if (f->n == f->cap) {
    uint32_t cap = f->cap ? f->cap * 2 : 1024;
    uint64_t *nn = realloc(f->names, cap * sizeof *nn);
    if (nn) f->names = nn;
    uint64_t *nf = nn ? realloc(f->files, cap * sizeof *nf) : NULL;
    if (!nn || !nf) {
      f->failed = 1;
      return 0;
    }
    f->files = nf;
    f->cap = cap;
  }
  f->names[f->n] = name;
  f->files[f->n] = file;
  f->keys[k] = key;
  f->ids[k] = ++f->n;
  return f->n;
}

static void functab_free(functab_t *f) {
  free(f->keys);
  free(f->ids);
  free(f->names);
  free(f->files);
}

/* ------------------------------------------------------------------ the profile */

typedef struct stack_values {   /* per dump stack: the four sample values */
  uint64_t v[4];
} stack_values_t;

static void value_type(ms_pb_t *out, ms_pb_t *tmp, uint32_t field, strtab_t *st, const char *type,
                       const char *unit) {
  ms_pb_reset(tmp);
  ms_pb_varint_field(tmp, VT_TYPE, str_id(st, type));
  ms_pb_varint_field(tmp, VT_UNIT, str_id(st, unit));
  ms_pb_message(out, field, tmp);
}

/* One Line message per inline level (innermost first), or one for the frame itself. */
static void location_lines(ms_pb_t *loc, ms_pb_t *tmp, const ms_frame_t *f, strtab_t *st,
                           functab_t *ft, ms_symbolizer_t *sym) {
  ms_frame_t chain[MS_MAX_INLINE + 1];
  uint32_t n = sym ? ms_symbolize_all(sym, f->address, chain, MS_MAX_INLINE + 1) : 0;
  if (n <= 1) {   /* nothing inlined there: the frame itself */
    if (!f->function) return;
    chain[0] = *f;
    n = 1;
  }
  for (uint32_t i = 0; i < n; i++) {
    uint64_t name = str_id(st, chain[i].function ? chain[i].function : "??");
    uint64_t file = str_id(st, chain[i].file ? chain[i].file : "");
    ms_pb_reset(tmp);
    ms_pb_varint_field(tmp, LN_FUNCTION_ID, func_id(ft, name, file));
    if (chain[i].line) ms_pb_varint_field(tmp, LN_LINE, chain[i].line);
    ms_pb_message(loc, L_LINE, tmp);
  }
}

static int build_profile(ms_pb_t *pb, const ms_model_t *m, ms_symbolizer_t *sym) {
  const ms_dump_t *d = m->dump;
  strtab_t st = {0};
  functab_t ft = {0};
  ms_pb_t tmp, sub;
  ms_pb_init(&tmp);
  ms_pb_init(&sub);
  int rc = -1;
  str_id(&st, "");   /* string_table[0] must be "" */

  stack_values_t *vals = calloc(m->n_stacks + 1, sizeof *vals);   /* [n_stacks]: no stack */
  uint8_t *used = calloc(m->n_frames ? m->n_frames : 1, 1);
  uint64_t *ids = malloc((MS_DUMP_MAX_DEPTH + 1) * sizeof *ids);
  if (!vals || !used || !ids) goto out;

  /* Sample types, Go heap profile style; inuse_space last = pprof's default. */
  value_type(pb, &tmp, P_SAMPLE_TYPE, &st, "alloc_objects", "count");
  value_type(pb, &tmp, P_SAMPLE_TYPE, &st, "alloc_space", "bytes");
  value_type(pb, &tmp, P_SAMPLE_TYPE, &st, "inuse_objects", "count");
  value_type(pb, &tmp, P_SAMPLE_TYPE, &st, "inuse_space", "bytes");

  /* Samples: sites summed per stack. */
  for (uint32_t i = 0; i < m->n_sites; i++) {
    const ms_msite_t *s = &m->sites[i];
    stack_values_t *v = &vals[s->stack < m->n_stacks ? s->stack : m->n_stacks];
    v->v[0] += s->total_count;
    v->v[1] += s->total_bytes;
    v->v[2] += s->live_count;
    v->v[3] += s->live_bytes;
  }
  for (uint32_t s = 0; s <= m->n_stacks; s++) {
    const stack_values_t *v = &vals[s];
    if (!(v->v[0] | v->v[1] | v->v[2] | v->v[3])) continue;
    uint32_t depth = s < m->n_stacks ? m->stacks[s].depth : 0;
    for (uint32_t k = 0; k < depth; k++) {
      uint32_t fi = m->stacks[s].frames[k];
      ids[k] = (uint64_t)fi + 1;
      used[fi] = 1;
    }
    ms_pb_reset(&tmp);
    ms_pb_packed(&tmp, S_LOCATION_ID, ids, depth);
    ms_pb_packed(&tmp, S_VALUE, v->v, 4);
    ms_pb_message(pb, P_SAMPLE, &tmp);
  }

  /* Mappings: the dump's module map, id = module index + 1. */
  for (uint32_t i = 0; i < m->n_modules; i++) {
    const ms_mmodule_t *mm = &m->modules[i];
    ms_pb_reset(&tmp);
    ms_pb_varint_field(&tmp, M_ID, (uint64_t)i + 1);
    ms_pb_varint_field(&tmp, M_START, mm->start);
    ms_pb_varint_field(&tmp, M_LIMIT, mm->end);
    /* The file offset of the mapped text is not in the dump; start - base is its address in
     * the ELF, which equals the file offset for the text segment of what GNU ld and lld make. */
    ms_pb_varint_field(&tmp, M_OFFSET, mm->start >= mm->base ? mm->start - mm->base : 0);
    ms_pb_varint_field(&tmp, M_FILENAME, str_id(&st, mm->path));
    if (mm->build_id[0]) ms_pb_varint_field(&tmp, M_BUILD_ID, str_id(&st, mm->build_id));
    ms_pb_varint_field(&tmp, M_HAS_FUNCTIONS, mm->symbols >= MS_SYM_SYMTAB);
    ms_pb_varint_field(&tmp, M_HAS_FILENAMES, mm->symbols >= MS_SYM_DWARF);
    ms_pb_varint_field(&tmp, M_HAS_LINES, mm->symbols >= MS_SYM_DWARF);
    ms_pb_varint_field(&tmp, M_HAS_INLINES, mm->symbols >= MS_SYM_DWARF && sym);
    ms_pb_message(pb, P_MAPPING, &tmp);
  }

  /* Locations: every frame some sample uses, id = frame index + 1. */
  for (uint32_t fi = 0; fi < m->n_frames; fi++) {
    if (!used[fi]) continue;
    const ms_frame_t *f = &m->frames[fi];
    ms_pb_reset(&tmp);
    ms_pb_varint_field(&tmp, L_ID, (uint64_t)fi + 1);
    if (f->module < m->n_modules) ms_pb_varint_field(&tmp, L_MAPPING_ID, (uint64_t)f->module + 1);
    ms_pb_varint_field(&tmp, L_ADDRESS, f->address);
    location_lines(&tmp, &sub, f, &st, &ft, f->quality >= MS_SYM_DWARF ? sym : NULL);
    ms_pb_message(pb, P_LOCATION, &tmp);
  }

  for (uint32_t i = 0; i < ft.n; i++) {
    ms_pb_reset(&tmp);
    ms_pb_varint_field(&tmp, F_ID, (uint64_t)i + 1);
    ms_pb_varint_field(&tmp, F_NAME, ft.names[i]);
    ms_pb_varint_field(&tmp, F_SYSTEM_NAME, ft.names[i]);
    ms_pb_varint_field(&tmp, F_FILENAME, ft.files[i]);
    ms_pb_message(pb, P_FUNCTION, &tmp);
  }

  /* When, for how long, at what sampling period, and what it is. */
  ms_pb_varint_field(pb, P_TIME_NANOS, d->process.start_time_unix_ns + d->process.dump_time_ns);
  ms_pb_varint_field(pb, P_DURATION_NANOS, d->process.dump_time_ns);
  value_type(pb, &tmp, P_PERIOD_TYPE, &st, "space", "bytes");
  ms_pb_varint_field(pb, P_PERIOD, d->options.sample_rate);
  char text[512];
  snprintf(text, sizeof text, "memscope heap profile of %s (pid %llu), %s dump, sample rate %llu",
           d->process.exe ? d->process.exe : "?", (unsigned long long)d->process.pid,
           d->process.reason == MS_DUMP_REASON_EXIT ? "exit" : "snapshot",
           (unsigned long long)d->options.sample_rate);
  ms_pb_varint_field(pb, P_COMMENT, str_own(&st, text));
  ms_pb_varint_field(pb, P_DEFAULT_SAMPLE_TYPE, str_id(&st, "inuse_space"));

  /* The string table last: every index above is in it by now. */
  for (uint32_t i = 0; i < st.n; i++) ms_pb_bytes_field(pb, P_STRING_TABLE, st.strs[i], strlen(st.strs[i]));
  rc = (st.failed || ft.failed || pb->failed || tmp.failed || sub.failed) ? -1 : 0;
out:
  free(vals);
  free(used);
  free(ids);
  ms_pb_free(&tmp);
  ms_pb_free(&sub);
  strtab_free(&st);
  functab_free(&ft);
  return rc;
}

/* gzip (RFC 1952, mtime 0 so the output is reproducible) of data onto out. */
static int gzip_write(FILE *out, const uint8_t *data, size_t len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return -1;
  unsigned char buf[65536];
  int rc = 0, zr;
  z.next_in = (Bytef *)data;
  do {
    /* avail_in is 32-bit: feed at most 1 GiB at a time. */
    size_t chunk = len > (1u << 30) ? (1u << 30) : len;
    z.avail_in = (uInt)chunk;
    len -= chunk;
    do {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      zr = deflate(&z, len ? Z_NO_FLUSH : Z_FINISH);
      if (zr == Z_STREAM_ERROR) {
        rc = -1;
        break;
      }
      size_t have = sizeof buf - z.avail_out;
      if (have && fwrite(buf, 1, have, out) != have) rc = -1;
    } while (rc == 0 && z.avail_out == 0);
  } while (rc == 0 && len);
  deflateEnd(&z);
  return rc;
}

int ms_pprof_write(FILE *out, const ms_model_t *m, const char *debug_dir) {
  ms_pb_t pb;
  ms_pb_init(&pb);
  /* A second symboliser only to read inline chains; it opens only modules the model could
   * read DWARF from, so --no-symbols stays file-free. */
  int any_dwarf = 0;
  for (uint32_t i = 0; i < m->n_modules; i++) any_dwarf |= m->modules[i].symbols >= MS_SYM_DWARF;
  ms_symbolizer_t *sym = any_dwarf ? ms_symbolizer_new(m->dump->modules, m->dump->n_modules,
                                                       debug_dir, 0) : NULL;
  int rc = build_profile(&pb, m, sym);
  ms_symbolizer_free(sym);
  if (rc == 0) rc = gzip_write(out, pb.data, pb.len);
  ms_pb_free(&pb);
  return rc == 0 && !ferror(out) ? 0 : -1;
}
