/* make_corpus.c — (re)generate the fuzz seed corpus in test/fuzz/corpus/.
 *
 * Usage: dump_make_corpus DIR.  Writes the writer's own output for the example dumps
 * (valid-*.msp, which the replay test requires the reader to accept, and which
 * test_dump_corpus_matches_writer compares with a fresh write: regenerate them whenever the
 * format version is bumped) and a few malformed inputs (bad-*.msp) that start the fuzzer
 * near the interesting error paths. Run by hand after a format change; the files are committed.
 * (corpus/ also holds inputs found by the fuzzer, named by SHA-1: see README.md.)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"

static const char *dir;

static int create(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  return fd;
}

static void put_raw(const char *name, const void *p, size_t n) {
  int fd = create(name);
  if (write(fd, p, n) != (ssize_t)n) exit(1);
  close(fd);
}

/* Write example `variant` after `mutate`, optionally cut to `cut` bytes or extended by one. */
static void put_example(const char *name, unsigned variant, void (*mutate)(ms_dump_t *),
                        long cut) {
  ms_dump_t d;
  if (ms_dump_example(&d, variant) != 0) exit(1);
  if (mutate) mutate(&d);
  int fd = create(name);
  if (ms_dump_write(&d, fd) != 0) exit(1);
  off_t size = lseek(fd, 0, SEEK_END);
  if (cut < 0) {
    if (write(fd, "\xc0", 1) != 1) exit(1);  /* trailing garbage */
  } else if (cut > 0) {
    if (ftruncate(fd, size * cut / 100) != 0) exit(1);  /* cut: percent of the size */
  }
  close(fd);
  ms_dump_free(&d);
}

static void m_index(ms_dump_t *d) { d->sites[1].stack = 99; }
static void m_kind(ms_dump_t *d) { d->errors[0].kind = 42; }

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  put_example("valid-full.msp", 0, NULL, 0);
  put_example("valid-empty.msp", 1, NULL, 0);
  put_example("valid-one.msp", 2, NULL, 0);
  put_example("bad-truncated.msp", 0, NULL, 50);
  put_example("bad-trailing.msp", 2, NULL, -1);
  put_example("bad-index.msp", 0, m_index, 0);
  put_example("bad-kind.msp", 2, m_kind, 0);
  static const unsigned char magic[] = "\x93\xa8MEMSCOPX\x01\x80";
  put_raw("bad-magic.msp", magic, sizeof magic - 1);
  static const unsigned char newer[] = "\x93\xa8MEMSCOPE\x63\x80";
  put_raw("bad-newer.msp", newer, sizeof newer - 1);
  static const unsigned char count[] = "\x93\xa8MEMSCOPE\x01\x81\xa6" "allocs\xdd\xff\xff\xff\xff";
  put_raw("bad-count.msp", count, sizeof count - 1);
  unsigned char deep[64] = "\x93\xa8MEMSCOPE\x01\x81\xa1z";
  memset(deep + 14, 0x91, sizeof deep - 15);
  deep[sizeof deep - 1] = 0xc0;
  put_raw("bad-deep.msp", deep, sizeof deep);
  return 0;
}
