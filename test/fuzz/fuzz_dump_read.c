/* fuzz_dump_read.c — libFuzzer target for the dump reader (ms_dump_read_buffer).
 *
 * Beyond "no crash, no leak, no UB" (the sanitizers' job) it checks what the reader promises:
 * a rejected input leaves an empty dump and a one-line error; an accepted one has every
 * index in range, and writing it back out and reading that again succeeds and is stable
 * (writer and reader agree on everything the reader accepts). The same function is run over
 * the committed corpus by replay_main.c, built with gcc's ASan/UBSan, so the checks also run
 * where clang is missing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dump.h"

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "fuzz_dump_read: check failed: %s (line %d)\n", #cond, __LINE__); \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

static int idx_ok(uint32_t idx, uint32_t n) { return idx == MS_DUMP_NONE || idx < n; }

static void check_indexes(const ms_dump_t *d) {
  CHECK(d->format_version >= 1 && d->format_version <= MS_DUMP_FORMAT_VERSION);
  for (uint32_t i = 0; i < d->n_sites; i++)
    CHECK(idx_ok(d->sites[i].stack, d->n_stacks) && idx_ok(d->sites[i].tag, d->n_tags));
  for (uint32_t i = 0; i < d->n_allocs; i++) {
    const ms_dump_alloc_t *a = &d->allocs[i];
    CHECK(idx_ok(a->stack, d->n_stacks) && idx_ok(a->thread, d->n_threads) &&
          idx_ok(a->tag, d->n_tags));
  }
  for (uint32_t i = 0; i < d->n_stacks; i++)
    CHECK(d->stacks[i].depth <= MS_DUMP_MAX_DEPTH && (d->stacks[i].depth == 0 || d->stacks[i].frames));
  for (uint32_t i = 0; i < d->n_variables; i++) {
    const ms_dump_variable_t *v = &d->variables[i];
    CHECK(idx_ok(v->thread, d->n_threads) && idx_ok(v->alloc_stack, d->n_stacks) &&
          idx_ok(v->free_stack, d->n_stacks));
    for (uint32_t j = 0; j < v->n_events; j++)
      CHECK(idx_ok(v->events[j].stack, d->n_stacks) && idx_ok(v->events[j].thread, d->n_threads) &&
            v->events[j].kind <= MS_EV_REFSET);
  }
  for (uint32_t i = 0; i < d->n_errors; i++) {
    const ms_dump_error_t *e = &d->errors[i];
    CHECK(idx_ok(e->thread, d->n_threads) && idx_ok(e->stack, d->n_stacks) &&
          idx_ok(e->alloc_stack, d->n_stacks) && idx_ok(e->free_stack, d->n_stacks) &&
          e->kind <= MS_ERR_BUFFER_UNDERFLOW);
  }
  for (uint32_t i = 0; i < d->n_crossings; i++)
    CHECK(idx_ok(d->crossings[i].alloc_module, d->n_modules) &&
          idx_ok(d->crossings[i].free_module, d->n_modules));
  for (uint32_t i = 0; i < d->n_modules; i++) CHECK(d->modules[i].build_id_len <= 32);
}

/* Serialise d into a memfd (reused across runs) and return a malloc'd copy of the bytes. */
static unsigned char *write_out(const ms_dump_t *d, size_t *len) {
  static int fd = -1;
  if (fd < 0) fd = memfd_create("fuzz", MFD_CLOEXEC);
  CHECK(fd >= 0);
  CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
  CHECK(ms_dump_write(d, fd) == 0);
  off_t end = lseek(fd, 0, SEEK_CUR);
  CHECK(end > 0);
  unsigned char *buf = malloc((size_t)end);
  CHECK(buf);
  CHECK(pread(fd, buf, (size_t)end, 0) == end);
  *len = (size_t)end;
  return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ms_dump_t d;
  char err[256];
  memset(err, 'x', sizeof err);
  int rc = ms_dump_read_buffer(data, size, &d, err, sizeof err);
  CHECK(memchr(err, 0, sizeof err) != NULL);
  if (rc != 0) {
    CHECK(rc < 0 && err[0] && !strchr(err, '\n'));
    CHECK(d.n_allocs == 0 && d.allocs == NULL && d.stacks == NULL && d.process.exe == NULL);
    return 0;
  }
  check_indexes(&d);
  /* accepted => the writer can say it again, and the reader accepts that, identically */
  size_t l1, l2;
  unsigned char *b1 = write_out(&d, &l1);
  ms_dump_t d2;
  rc = ms_dump_read_buffer(b1, l1, &d2, err, sizeof err);
  if (rc != 0) fprintf(stderr, "fuzz_dump_read: re-read failed: %s\n", err);
  CHECK(rc == 0);
  unsigned char *b2 = write_out(&d2, &l2);
  CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
  free(b1);
  free(b2);
  ms_dump_free(&d2);
  ms_dump_free(&d);
  return 0;
}
