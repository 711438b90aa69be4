/* dump_schema_doc.c — FORMAT.md's field lists, generated from the schema (dump_schema.h).
 *
 *   dump_schema_doc --check docs/FORMAT.md   exit 1 naming the first section whose list differs
 *   dump_schema_doc --write docs/FORMAT.md   rewrite the lists in place
 *
 * Each record section of FORMAT.md holds its list between `<!-- schema:NAME -->` and
 * `<!-- /schema:NAME -->`; the prose around it is the document's own. The ctest
 * `dump_schema_doc` runs --check, so the format's description cannot drift from the code that
 * writes and reads it. It also checks what the reader assumes of the tables: fields only
 * appended (versions never decrease along a row), at most 64 fields a record, no name twice,
 * and the title's version equal to MS_DUMP_FORMAT_VERSION.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

typedef struct buf {
  char *s;
  size_t len, cap;
} buf_t;

static void out(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->len + (size_t)n + 1 > b->cap) {
    b->cap = (b->len + (size_t)n + 1) * 2;
    b->s = realloc(b->s, b->cap);
    if (!b->s) abort();
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static void type_name(buf_t *b, const ms_dump_field_t *f) {
  switch ((ms_dump_type_t)f->type) {
  case MS_DT_U64: out(b, "uint64"); break;
  case MS_DT_U32: out(b, "uint32"); break;
  case MS_DT_I64: out(b, "int64 (may be negative)"); break;
  case MS_DT_BOOL: out(b, "bool"); break;
  case MS_DT_STR: out(b, "str/nil"); break;
  case MS_DT_IDX: out(b, "index → %s / nil", f->aux_name); break;
  case MS_DT_ENUM: out(b, "uint32, at most %u (larger is an error)", f->aux); break;
  case MS_DT_U64S: out(b, "array of exactly %u uint64", f->aux); break;
  case MS_DT_STRS: out(b, "array of str/nil"); break;
  case MS_DT_BIN32: out(b, "bin, 0–32 bytes"); break;
  case MS_DT_OPT_U64: out(b, "uint64 / nil"); break;
  case MS_DT_ROWS: out(b, "array of `%s` rows", f->aux_name); break;
  }
}

static int check_record(const ms_dump_record_t *rec) {
  if (rec->n_fields > 64) {
    fprintf(stderr, "dump_schema_doc: record %s has %u fields (at most 64)\n", rec->name,
            rec->n_fields);
    return 1;
  }
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    if (i && rec->fields[i].since < rec->fields[i - 1].since) {
      fprintf(stderr, "dump_schema_doc: %s.%s (version %u) follows a version %u field: "
              "fields are only appended\n", rec->name, rec->fields[i].name,
              rec->fields[i].since, rec->fields[i - 1].since);
      return 1;
    }
    for (uint32_t j = 0; j < i; j++)
      if (!strcmp(rec->fields[i].name, rec->fields[j].name)) {
        fprintf(stderr, "dump_schema_doc: %s.%s twice\n", rec->name, rec->fields[i].name);
        return 1;
      }
  }
  return 0;
}

/* The list of one record: for rows the column order first, then one line a field. */
static void record_doc(buf_t *b, const ms_dump_record_t *rec, int row, const char *what) {
  if (row) {
    out(b, "%s: `[", what);
    for (uint32_t i = 0; i < rec->n_fields; i++)
      out(b, "%s%s", i ? ", " : "", rec->fields[i].name);
    out(b, "]`");
    uint32_t last = rec->fields[rec->n_fields - 1].since;
    for (uint32_t v = rec->fields[0].since; v < last; v++) /* a record added later had no rows before */
      out(b, "; version %u rows: the first %u", v, ms_dump_row_fields(rec, v));
    out(b, "\n\n");
  }
  out(b, "| %s | type | meaning |\n|---|---|---|\n", row ? "column" : "key");
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    const ms_dump_field_t *f = &rec->fields[i];
    out(b, "| `%s` | ", f->name);
    type_name(b, f);
    out(b, " | ");
    if (f->since > 1) out(b, "(version %u) ", f->since);
    out(b, "%s |\n", f->doc);
  }
  for (uint32_t i = 0; i < rec->n_fields; i++)
    if (rec->fields[i].type == MS_DT_ROWS) {
      char w[128];
      snprintf(w, sizeof w, "\n`%s` row", rec->fields[i].aux_name);
      record_doc(b, rec->fields[i].rows, 1, w);
    }
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  buf_t b = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) out(&b, "%.*s", (int)n, chunk);
  fclose(f);
  *len = b.len;
  return b.s ? b.s : calloc(1, 1);
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "--check") && strcmp(argv[1], "--write"))) {
    fprintf(stderr, "usage: dump_schema_doc --check|--write FORMAT.md\n");
    return 2;
  }
  int write = !strcmp(argv[1], "--write");
  size_t len;
  char *doc = read_all(argv[2], &len);
  if (!doc) {
    fprintf(stderr, "dump_schema_doc: cannot read %s\n", argv[2]);
    return 2;
  }
  char title[128];
  snprintf(title, sizeof title, "(`.msp`), version %d\n", MS_DUMP_FORMAT_VERSION);
  if (!strstr(doc, title)) {
    fprintf(stderr, "dump_schema_doc: %s: the title does not say version %d\n", argv[2],
            MS_DUMP_FORMAT_VERSION);
    return 1;
  }
  buf_t res = {0};  /* the document with every list regenerated */
  const char *rest = doc;
  int bad = 0;
  for (uint32_t s = 0; s < ms_dump_n_sections; s++) {
    const ms_dump_section_t *sec = &ms_dump_sections[s];
    if (!sec->rec) continue;  /* stacks, tags: not records, described by hand */
    if (check_record(sec->rec)) return 1;
    for (uint32_t i = 0; i < sec->rec->n_fields; i++)
      if (sec->rec->fields[i].rows && check_record(sec->rec->fields[i].rows)) return 1;
    char open[96], close[96];
    snprintf(open, sizeof open, "<!-- schema:%s -->\n", sec->name);
    snprintf(close, sizeof close, "<!-- /schema:%s -->\n", sec->name);
    const char *a = strstr(rest, open);
    const char *z = a ? strstr(a, close) : NULL;
    if (!a || !z) {
      fprintf(stderr, "dump_schema_doc: %s: no `%.*s` ... `%.*s` block for section %s (after "
              "the previous one)\n", argv[2], (int)strlen(open) - 1, open,
              (int)strlen(close) - 1, close, sec->name);
      return 1;
    }
    a += strlen(open);
    buf_t gen = {0};
    record_doc(&gen, sec->rec, sec->kind == MS_DS_TABLE, "Row");
    if ((size_t)(z - a) != gen.len || memcmp(a, gen.s, gen.len) != 0) {
      if (!write && !bad)
        fprintf(stderr, "dump_schema_doc: %s: the field list of `%s` differs from "
                "export/dump/dump_schema.h; regenerate with `dump_schema_doc --write %s`. "
                "Expected:\n%s", argv[2], sec->name, argv[2], gen.s);
      bad++;
    }
    out(&res, "%.*s%s", (int)(a - rest), rest, gen.s);
    rest = z;
    free(gen.s);
  }
  out(&res, "%s", rest);
  if (write && bad) {
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(res.s, 1, res.len, f) != res.len || fclose(f) != 0) {
      fprintf(stderr, "dump_schema_doc: cannot write %s\n", argv[2]);
      return 2;
    }
    printf("%s: %d field lists rewritten\n", argv[2], bad);
    return 0;
  }
  if (bad) fprintf(stderr, "dump_schema_doc: %d field lists differ\n", bad);
  return bad ? 1 : 0;
}
