/* dump_free.c — release everything an ms_dump_t owns.
 *
 * Used by the reader (also on its error paths, where the dump is only partly filled) and by
 * whoever built a dump with malloc (ms_dump_example, the converter). It therefore relies only
 * on what the reader guarantees of a partial dump: every array pointer is NULL or a calloc'd
 * block of n_* elements, and every string/sub-array pointer inside is NULL or owned. What a
 * record owns is read from its schema (dump_schema.h): its strings, string arrays and nested
 * rows. After the call *d is all zeroes, so a second ms_dump_free() is harmless.
 */
#include "dump.h"

#include <stdlib.h>
#include <string.h>

static void free_strs(char **v, uint32_t n) {
  if (v)
    for (uint32_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void free_rows(const ms_dump_record_t *rec, char *rows, uint32_t n);

/* What one record owns (not the record itself). */
static void free_record(const ms_dump_record_t *rec, char *base) {
  for (uint32_t i = 0; i < rec->n_fields; i++) {
    const ms_dump_field_t *f = &rec->fields[i];
    void *p = base + f->off;
    if (f->type == MS_DT_STR) free(*(char **)p);
    else if (f->type == MS_DT_STRS) free_strs(*(char ***)p, *(uint32_t *)(base + f->aux_off));
    else if (f->type == MS_DT_ROWS) free_rows(f->rows, *(char **)p, *(uint32_t *)(base + f->aux_off));
  }
}

static void free_rows(const ms_dump_record_t *rec, char *rows, uint32_t n) {
  if (rows)
    for (uint32_t i = 0; i < n; i++) free_record(rec, rows + (size_t)i * rec->size);
  free(rows);
}

void ms_dump_free(ms_dump_t *d) {
  if (!d) return;
  for (uint32_t s = 0; s < ms_dump_n_sections; s++) {
    const ms_dump_section_t *sec = &ms_dump_sections[s];
    char *member = (char *)d + sec->off;
    uint32_t n = sec->kind == MS_DS_MAP ? 0 : *(uint32_t *)((char *)d + sec->count_off);
    switch ((ms_dump_section_kind_t)sec->kind) {
    case MS_DS_MAP: free_record(sec->rec, member); break;
    case MS_DS_TABLE: free_rows(sec->rec, *(char **)member, n); break;
    case MS_DS_TAGS: free_strs(d->tags, d->n_tags); break;
    case MS_DS_STACKS:
      if (d->stacks)
        for (uint32_t i = 0; i < d->n_stacks; i++) free(d->stacks[i].frames);
      free(d->stacks);
      break;
    }
  }
  memset(d, 0, sizeof *d);
}
