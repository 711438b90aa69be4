/* gen_dump.c — writes dumps for the converter's tests and measurements, with ms_dump_write.
 *
 *   gen_dump example VARIANT OUT        ms_dump_example(VARIANT) (msdump's fixed example)
 *   gen_dump synthetic OUT ALLOCS STACKS [DEPTH] [SEED]
 *       an exit dump with ALLOCS live sampled allocations spread over STACKS stacks (one site
 *       each), 8 threads, whose frames are real addresses inside this program's own code, so
 *       symbolisation does real DWARF work; used to measure large conversions.
 *   gen_dump pair OLD NEW SHIFT
 *       two dumps of "the same program" whose module is loaded SHIFT bytes apart (ASLR): the
 *       diff test checks that sites still match.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"
#include "memscope.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct self_module {
  uint64_t base, start, end;
  uint8_t build_id[32];
  uint32_t build_id_len;
} self_module_t;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  self_module_t *m = arg;
  if (info->dlpi_name && info->dlpi_name[0]) return 0;   /* the main program has "" */
  m->base = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      m->start = info->dlpi_addr + ph->p_vaddr;
      m->end = m->start + ph->p_memsz;
    }
    if (ph->p_type == PT_NOTE) {
      const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
      const char *end = p + ph->p_memsz;
      while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        const char *name = p + sizeof *nh;
        const char *desc = name + ((nh->n_namesz + 3) & ~3u);
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
            nh->n_descsz <= 32) {
          memcpy(m->build_id, desc, nh->n_descsz);
          m->build_id_len = nh->n_descsz;
        }
        p = desc + ((nh->n_descsz + 3) & ~3u);
      }
    }
  }
  return 1;
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) abort();
  return p;
}

static void *xcalloc(size_t n, size_t s) {
  void *p = calloc(n ? n : 1, s);
  if (!p) abort();
  return p;
}

static int write_file(const ms_dump_t *d, const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  int rc = ms_dump_write(d, fd);
  close(fd);
  if (rc != 0) {
    fprintf(stderr, "gen_dump: ms_dump_write failed: %d\n", rc);
    return 1;
  }
  return 0;
}

/* A dump whose module is this program at base+shift; stacks made of addresses in our code. */
static void synthetic(ms_dump_t *d, uint32_t n_allocs, uint32_t n_stacks, uint32_t depth,
                      uint64_t shift, int exit_reason) {
  self_module_t self = {0};
  dl_iterate_phdr(find_self, &self);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;

  memset(d, 0, sizeof *d);
  d->format_version = MS_DUMP_FORMAT_VERSION;
  d->process.pid = 4242;
  d->process.exe = xstrdup(exe);
  d->process.argc = 1;
  d->process.argv = xcalloc(1, sizeof(char *));
  d->process.argv[0] = xstrdup("synthetic");
  d->process.reason = exit_reason ? MS_DUMP_REASON_EXIT : MS_DUMP_REASON_SNAPSHOT;
  d->process.dump_time_ns = 5000000000ull;
  d->options.sample_rate = 1;
  d->options.stack_depth = depth;

  d->n_modules = 1;
  d->modules = xcalloc(1, sizeof *d->modules);
  d->modules[0].path = xstrdup(exe);
  d->modules[0].base = self.base + shift;
  d->modules[0].start = self.start + shift;
  d->modules[0].end = self.end + shift;
  memcpy(d->modules[0].build_id, self.build_id, 32);
  d->modules[0].build_id_len = self.build_id_len;

  /* A pool of distinct return addresses, as a real program has (a few per function). */
  uint32_t pool_n = n_stacks / 4 + 64;
  uint64_t *pool = xcalloc(pool_n, sizeof *pool);
  uint64_t span = self.end - self.start;
  for (uint32_t i = 0; i < pool_n; i++) pool[i] = self.start + shift + 1 + rnd() % (span - 1);

  d->n_stacks = n_stacks;
  d->stacks = xcalloc(n_stacks, sizeof *d->stacks);
  d->n_sites = n_stacks;
  d->sites = xcalloc(n_stacks, sizeof *d->sites);
  for (uint32_t s = 0; s < n_stacks; s++) {
    d->stacks[s].depth = depth;
    d->stacks[s].frames = xcalloc(depth, sizeof(uint64_t));
    /* Distinct stacks: the innermost frame and a per-stack pattern vary. */
    for (uint32_t k = 0; k < depth; k++)
      d->stacks[s].frames[k] = pool[(s * 2654435761u + k * 40503u + (k == 0 ? s : 0)) % pool_n];
    d->sites[s].stack = s;
    d->sites[s].tag = MS_DUMP_NONE;
  }
  d->n_threads = 8;
  d->threads = xcalloc(8, sizeof *d->threads);
  for (uint32_t t = 0; t < 8; t++) {
    d->threads[t].tid = 1000 + t;
    d->threads[t].alive = 1;
  }
  d->n_allocs = n_allocs;
  d->allocs = xcalloc(n_allocs, sizeof *d->allocs);
  uint64_t live = 0;
  for (uint32_t i = 0; i < n_allocs; i++) {
    ms_dump_alloc_t *a = &d->allocs[i];
    a->address = 0x7f0000000000ull + (uint64_t)i * 64;
    a->size = 16 + rnd() % 1024;
    a->weight_bytes = a->size;
    a->time_ns = i * 1000ull;
    a->stack = (uint32_t)(rnd() % n_stacks);
    a->thread = (uint32_t)(rnd() % 8);
    a->tag = MS_DUMP_NONE;
    ms_dump_site_t *site = &d->sites[a->stack];
    site->live_bytes += a->size;
    site->live_count++;
    site->total_bytes += a->size * 2;
    site->total_count += 2;
    site->peak_bytes += a->size;
    site->peak_count++;
    d->threads[a->thread].allocations += 2;
    d->threads[a->thread].allocated_bytes += a->size * 2;
    live += a->size;
  }
  d->summary.live_bytes = live;
  d->summary.live_allocations = n_allocs;
  d->summary.total_allocations = 2ull * n_allocs;
  d->summary.total_frees = n_allocs;
  d->summary.total_bytes = 2 * live;
  d->summary.peak_live_bytes = live;
  d->summary.usable_bytes = live + live / 4;
  d->summary.header_bytes = 16ull * n_allocs;
  d->summary.sampled_allocations = 2ull * n_allocs;
  free(pool);
}

int main(int argc, char **argv) {
  ms_dump_t d;
  if (argc == 4 && !strcmp(argv[1], "example")) {
    if (ms_dump_example(&d, (unsigned)atoi(argv[2])) != 0) return 1;
    int rc = write_file(&d, argv[3]);
    ms_dump_free(&d);
    return rc;
  }
  if (argc >= 5 && !strcmp(argv[1], "synthetic")) {
    uint32_t depth = argc > 5 ? (uint32_t)atoi(argv[5]) : 16;
    if (argc > 6) rng_state = strtoull(argv[6], NULL, 10) | 1;
    synthetic(&d, (uint32_t)strtoul(argv[3], NULL, 10), (uint32_t)strtoul(argv[4], NULL, 10),
              depth ? depth : 1, 0, 1);
    int rc = write_file(&d, argv[2]);
    ms_dump_free(&d);
    return rc;
  }
  if (argc == 5 && !strcmp(argv[1], "pair")) {
    /* Same sites in both; NEW's module is shifted and its first site grew. */
    uint64_t shift = strtoull(argv[4], NULL, 0);
    synthetic(&d, 1000, 50, 6, 0, 0);
    int rc = write_file(&d, argv[2]);
    ms_dump_free(&d);
    rng_state = 0x9e3779b97f4a7c15ULL;
    synthetic(&d, 1000, 50, 6, shift, 0);
    d.sites[7].live_bytes += 1u << 20;
    d.sites[7].live_count += 10;
    rc |= write_file(&d, argv[3]);
    ms_dump_free(&d);
    return rc;
  }
  fprintf(stderr, "usage: gen_dump example VARIANT OUT | synthetic OUT ALLOCS STACKS [DEPTH] [SEED]"
                  " | pair OLD NEW SHIFT\n");
  return 2;
}
