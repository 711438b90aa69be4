/* diff.c — per-site growth between two models (see diff.h).
 *
 * One hash table from symbolic stack identity to an entry; the old model's sites are added,
 * then the new model's. Linear in the number of sites of both dumps.
 */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

#include "memscope.h"

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

static uint64_t site_key(const ms_model_t *m, const ms_msite_t *s) {
  return s->stack < m->n_stacks ? m->stacks[s->stack].key_hash : 0;
}

static int64_t sub(uint64_t a, uint64_t b) { return (int64_t)(a - b); }
static uint64_t mag(int64_t v) { return v < 0 ? (uint64_t)-v : (uint64_t)v; }

static int cmp_entry(const void *a, const void *b) {
  const ms_diff_entry_t *x = a, *y = b;
  uint64_t mx = mag(x->delta_bytes), my = mag(y->delta_bytes);
  if (mx != my) return mx < my ? 1 : -1;
  mx = mag(x->delta_count);
  my = mag(y->delta_count);
  if (mx != my) return mx < my ? 1 : -1;
  if (x->new_total != y->new_total) return x->new_total < y->new_total ? 1 : -1;
  return x->old_total < y->old_total ? 1 : x->old_total > y->old_total ? -1 : 0;
}

int ms_diff_build(ms_diff_t *out, const ms_model_t *om, const ms_model_t *nm) {
  memset(out, 0, sizeof *out);
  size_t total = (size_t)om->n_sites + nm->n_sites;
  size_t cap = 64;
  while (cap < total * 2) cap <<= 1;
  uint64_t *keys = malloc(cap * sizeof *keys);
  uint32_t *vals = malloc(cap * sizeof *vals);
  out->entries = calloc(total ? total : 1, sizeof *out->entries);
  if (!keys || !vals || !out->entries) {
    free(keys);
    free(vals);
    free(out->entries);
    out->entries = NULL;
    return MS_ENOMEM;
  }
  memset(vals, 0xff, cap * sizeof *vals);
  for (int side = 0; side < 2; side++) {
    const ms_model_t *m = side ? nm : om;
    for (uint32_t i = 0; i < m->n_sites; i++) {
      const ms_msite_t *s = &m->sites[i];
      uint64_t k = site_key(m, s);
      size_t slot = mix(k) & (cap - 1);
      while (vals[slot] != UINT32_MAX && keys[slot] != k) slot = (slot + 1) & (cap - 1);
      if (vals[slot] == UINT32_MAX) {
        keys[slot] = k;
        vals[slot] = out->n;
        ms_diff_entry_t *e = &out->entries[out->n++];
        e->old_site = e->new_site = MS_DUMP_NONE;
      }
      ms_diff_entry_t *e = &out->entries[vals[slot]];
      if (side) {
        if (e->new_site == MS_DUMP_NONE) e->new_site = i;
        e->new_bytes += s->live_bytes;
        e->new_count += s->live_count;
        e->new_total += s->total_bytes;
      } else {
        if (e->old_site == MS_DUMP_NONE) e->old_site = i;
        e->old_bytes += s->live_bytes;
        e->old_count += s->live_count;
        e->old_total += s->total_bytes;
      }
    }
  }
  free(keys);
  free(vals);
  for (uint32_t i = 0; i < out->n; i++) {
    ms_diff_entry_t *e = &out->entries[i];
    e->delta_bytes = sub(e->new_bytes, e->old_bytes);
    e->delta_count = sub(e->new_count, e->old_count);
    if (e->old_site != MS_DUMP_NONE && e->new_site != MS_DUMP_NONE) out->matched++;
    else if (e->old_site != MS_DUMP_NONE) out->only_old++;
    else out->only_new++;
  }
  qsort(out->entries, out->n, sizeof *out->entries, cmp_entry);
  out->delta_live_bytes = sub(nm->dump->summary.live_bytes, om->dump->summary.live_bytes);
  out->delta_peak_bytes = sub(nm->dump->summary.peak_live_bytes, om->dump->summary.peak_live_bytes);
  out->delta_total_bytes = sub(nm->dump->summary.total_bytes, om->dump->summary.total_bytes);
  return 0;
}

void ms_diff_free(ms_diff_t *d) {
  free(d->entries);
  memset(d, 0, sizeof *d);
}
