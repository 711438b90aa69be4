/* dump_helpers.h — shared by the tracker's unit tests (test_sampler.c, test_stacks.c,
 * test_variables.c): take a snapshot of this very process and read it back with the dump
 * reader (export/dump/dump.h, static library msdump), then find sites and stacks by the names of
 * the functions in them. The test programs are linked with -rdynamic so dladdr() can name
 * their own functions.
 */
#ifndef MS_TEST_DUMP_HELPERS_H
#define MS_TEST_DUMP_HELPERS_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"
#include "memscope.h"

/* Snapshot this process into a scratch file and read it back into d (release with
 * ms_dump_free). Returns 0, or fails the current cmocka test. */
static inline int ms_test_snapshot(ms_dump_t *d) {
  static unsigned seq;
  char path[256], err[256];
  snprintf(path, sizeof path, "/tmp/ms_unit_%d_%u.msp", (int)getpid(), seq++);
  int rc = ms_snapshot(path);
  if (rc != MS_OK) fail_msg("ms_snapshot(%s): %s", path, ms_strerror(rc));
  rc = ms_dump_read_file(path, d, err, sizeof err);
  unlink(path);
  if (rc != 0) fail_msg("reading %s back: %s", path, err);
  return 0;
}

/* The name of the function a return address belongs to ("" when unknown). The address is a
 * return address, so look up the byte before it (the call instruction). */
static inline const char *ms_test_frame_name(uint64_t addr) {
  Dl_info info;
  if (addr && dladdr((void *)(uintptr_t)(addr - 1), &info) && info.dli_sname)
    return info.dli_sname;
  return "";
}

/* Position of the first frame of stack si inside function fn, or -1. */
static inline int ms_test_frame_index(const ms_dump_t *d, uint32_t si, const char *fn) {
  if (si >= d->n_stacks) return -1;
  const ms_dump_stack_t *s = &d->stacks[si];
  for (uint32_t i = 0; i < s->depth; i++)
    if (strcmp(ms_test_frame_name(s->frames[i]), fn) == 0) return (int)i;
  return -1;
}

static inline const char *ms_test_tag_name(const ms_dump_t *d, uint32_t tag) {
  return tag < d->n_tags ? d->tags[tag] : NULL;
}

/* The site whose innermost frame is in fn and whose tag is tag (NULL: untagged), or NULL. */
static inline const ms_dump_site_t *ms_test_find_site(const ms_dump_t *d, const char *fn,
                                                      const char *tag) {
  for (uint32_t i = 0; i < d->n_sites; i++) {
    const ms_dump_site_t *s = &d->sites[i];
    const char *t = ms_test_tag_name(d, s->tag);
    if ((tag == NULL) != (t == NULL) || (tag && strcmp(tag, t) != 0)) continue;
    if (ms_test_frame_index(d, s->stack, fn) == 0) return s;
  }
  return NULL;
}

/* Live sampled allocations whose stack's innermost frame is in fn, with tag `tag` (NULL:
 * untagged): their number, and the sums of their sizes and weights. */
static inline uint64_t ms_test_live_allocs(const ms_dump_t *d, const char *fn, const char *tag,
                                           uint64_t *bytes, uint64_t *weight) {
  uint64_t n = 0, b = 0, w = 0;
  for (uint32_t i = 0; i < d->n_allocs; i++) {
    const char *t = ms_test_tag_name(d, d->allocs[i].tag);
    if ((tag == NULL) != (t == NULL) || (tag && strcmp(tag, t) != 0)) continue;
    if (ms_test_frame_index(d, d->allocs[i].stack, fn) != 0) continue;
    n++, b += d->allocs[i].size, w += d->allocs[i].weight_bytes;
  }
  if (bytes) *bytes = b;
  if (weight) *weight = w;
  return n;
}

/* |est - truth| <= tol * truth */
static inline int ms_test_within(double est, double truth, double tol) {
  double diff = est > truth ? est - truth : truth - est;
  return diff <= tol * truth;
}

#endif
