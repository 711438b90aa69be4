/* replay_main.c — run the fuzz target over files without libFuzzer (any compiler).
 *
 * Usage: dump_fuzz_replay DIR|FILE...  Every regular file found (directories one level deep)
 * is passed to LLVMFuzzerTestOneInput; built with -fsanitize=address,undefined this replays
 * the seed corpus and every regression input on each test run. Files whose name starts with
 * "valid-" must also be accepted by the reader: they are the writer's own output, so this
 * catches a reader that starts rejecting what the writer writes. Fails if no file was found.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nfiles, nbad;

static void run_file(const char *path, const char *base) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", path);
    nbad++;
    return;
  }
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) {
    nbad++;
    return;
  }
  /* an exact-size copy so ASan sees any read past the end */
  unsigned char *exact = malloc(len ? len : 1);
  memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  if (strncmp(base, "valid-", 6) == 0) {
    ms_dump_t d;
    char err[256];
    if (ms_dump_read_buffer(exact, len, &d, err, sizeof err) != 0) {
      fprintf(stderr, "%s: a valid seed was rejected: %s\n", path, err);
      nbad++;
    }
    ms_dump_free(&d);
  }
  free(exact);
  nfiles++;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "%s: not found\n", argv[i]);
      return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
      const char *b = strrchr(argv[i], '/');
      run_file(argv[i], b ? b + 1 : argv[i]);
      continue;
    }
    DIR *dir = opendir(argv[i]);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) run_file(path, e->d_name);
    }
    if (dir) closedir(dir);
  }
  printf("replayed %d files, %d failed\n", nfiles, nbad);
  return nfiles == 0 || nbad ? 1 : 0;
}
