/* point_sites.c — the rows of the dump's timeline_sites table (format 3) grouped by timeline
 * point, for every output that draws or lists who held the memory at each point (JSON,
 * massif, the SVG timeline).
 *
 * The writer groups rows by point already, but a dump is untrusted input: a counting sort by
 * point costs two passes and gives every output the same grouping whatever the file's order.
 * The reader has checked that every row's point is inside the timeline.
 */
#include <stdlib.h>

#include "formats.h"

int ms_point_sites_group(const ms_dump_t *d, uint32_t **start_out, uint32_t **rows_out) {
  *start_out = *rows_out = NULL;
  uint32_t tl = d->n_timeline;
  uint32_t *start = calloc((size_t)tl + 2, sizeof *start);
  uint32_t *rows = malloc(((size_t)d->n_timeline_sites + 1) * sizeof *rows);
  if (!start || !rows) {
    free(start);
    free(rows);
    return -1;
  }
  for (uint32_t i = 0; i < d->n_timeline_sites; i++)
    if (d->timeline_sites[i].point < tl) start[d->timeline_sites[i].point + 1]++;
  for (uint32_t p = 0; p < tl; p++) start[p + 1] += start[p];
  for (uint32_t i = 0; i < d->n_timeline_sites; i++)
    if (d->timeline_sites[i].point < tl) rows[start[d->timeline_sites[i].point]++] = i;
  /* start[p] now ends point p: shift back so that it begins it */
  for (uint32_t p = tl; p > 0; p--) start[p] = start[p - 1];
  start[0] = 0;
  *start_out = start;
  *rows_out = rows;
  return 0;
}
