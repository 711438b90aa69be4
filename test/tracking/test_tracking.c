/* test_tracking.c — leaks found at exit, end to end: runs test/tracking/leaky.c (built with and
 * without frame pointers) under LD_PRELOAD=libmemscope.so with MEMSCOPE_OUTPUT set, reads the
 * exit dump back with the dump reader, and checks the live allocations and sites against the
 * leaks the program is known to make, at known call chains:
 *  - at rate 1 the figures are exact (bytes, counts, weights == sizes), the chains are in order;
 *  - sampled (rate 16K, fixed seed) the big leak is estimated within 15%;
 *  - MEMSCOPE_LEAK_REPORT=1 prints a summary naming the leaking function;
 *  - without MEMSCOPE_OUTPUT no file is written.
 * Frames are named the way the converter does it: address - module load bias, looked up in the
 * executable's ELF symbol table (libelf). This test itself does not run on memscope.
 *
 * Compile-time paths (core.cmake): MS_LIB, MS_LEAKY_NOFP, MS_LEAKY_FP.
 */
#include <dirent.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../child_stderr.h"
#include "dump.h"
#include "memscope.h"

/* ------------------------------------------------------------------ symbols of the program */

typedef struct sym {
  char name[64];
  uint64_t value, size;
} sym_t;

static sym_t syms[4096];
static unsigned n_syms;
static char syms_of[4096];

static void load_symbols(const char *exe) {
  if (strcmp(syms_of, exe) == 0) return;
  n_syms = 0;
  elf_version(EV_CURRENT);
  int fd = open(exe, O_RDONLY);
  assert_true(fd >= 0);
  Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
  assert_non_null(elf);
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB) continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    for (size_t i = 0; i < n && n_syms < 4096; i++) {
      GElf_Sym s;
      if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
        continue;
      const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
      if (!name) continue;
      sym_t *o = &syms[n_syms++];
      snprintf(o->name, sizeof o->name, "%s", name);
      o->value = s.st_value, o->size = s.st_size;
    }
  }
  elf_end(elf);
  close(fd);
  assert_true(n_syms > 0);
  snprintf(syms_of, sizeof syms_of, "%s", exe);
}

/* The function of the executable that return address addr (a frame) falls in, or "". */
static const char *frame_name(const ms_dump_t *d, uint64_t addr, const char *exe) {
  for (uint32_t m = 0; m < d->n_modules; m++) {
    const ms_dump_module_t *mod = &d->modules[m];
    if (addr < mod->start || addr >= mod->end || !mod->path) continue;
    if (strcmp(mod->path, exe) != 0) return ""; /* another module (libc...) */
    uint64_t off = addr - 1 - mod->base;
    for (unsigned i = 0; i < n_syms; i++)
      if (off >= syms[i].value && off < syms[i].value + syms[i].size) return syms[i].name;
    return "";
  }
  return "";
}

/* Does stack si start with the functions chain[0..n-1], innermost first, consecutively? */
static int stack_starts_with(const ms_dump_t *d, uint32_t si, const char *exe,
                             const char *const *chain, unsigned n) {
  if (si >= d->n_stacks || d->stacks[si].depth < n) return 0;
  for (unsigned i = 0; i < n; i++)
    if (strcmp(frame_name(d, d->stacks[si].frames[i], exe), chain[i]) != 0) return 0;
  return 1;
}

/* ------------------------------------------------------------------ running the program */

static char workdir[256];
static char err_text[65536];

static void clean_workdir(void) {
  DIR *dir = opendir(workdir);
  if (!dir) return;
  struct dirent *e;
  char path[600];
  while ((e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", workdir, e->d_name);
    unlink(path);
  }
  closedir(dir);
}

/* Run exe [arg] under memscope with the given MEMSCOPE_* settings (NULL: unset), in workdir;
 * stderr is kept in err_text. Returns the child's pid (its dump is leak.<pid>.msp). */
static pid_t run_leaky(const char *exe, const char *arg, const char *rate, int output,
                       int leak_report) {
  clean_workdir();
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    if (chdir(workdir) != 0) _exit(126);
    setenv("LD_PRELOAD", MS_LIB, 1);
    setenv("MEMSCOPE_SEED", "4242", 1);
    if (rate) setenv("MEMSCOPE_SAMPLE_RATE", rate, 1);
    else unsetenv("MEMSCOPE_SAMPLE_RATE");
    if (output) setenv("MEMSCOPE_OUTPUT", "leak.%p.msp", 1);
    else unsetenv("MEMSCOPE_OUTPUT");
    if (leak_report) setenv("MEMSCOPE_LEAK_REPORT", "1", 1);
    else unsetenv("MEMSCOPE_LEAK_REPORT");
    execl(exe, exe, arg, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  int st = drain_and_wait(fds[0], pid, err_text, sizeof err_text);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fail_msg("%s exited with status %#x; stderr:\n%s", exe, st, err_text);
  return pid;
}

static void read_exit_dump(pid_t pid, ms_dump_t *d) {
  char path[600], err[256];
  snprintf(path, sizeof path, "%s/leak.%d.msp", workdir, (int)pid);
  if (ms_dump_read_file(path, d, err, sizeof err) != 0) fail_msg("%s: %s", path, err);
  assert_int_equal(d->process.reason, MS_DUMP_REASON_EXIT);
  assert_int_equal(d->process.pid, (uint64_t)pid);
}

typedef struct leak_figures {
  uint64_t allocs, bytes, weight; /* live sampled allocations on the chain */
  uint64_t site_bytes, site_count, site_total_count; /* sites on the chain, summed */
} leak_figures_t;

static leak_figures_t figures(const ms_dump_t *d, const char *exe, const char *const *chain,
                              unsigned n) {
  leak_figures_t f = {0};
  for (uint32_t i = 0; i < d->n_allocs; i++)
    if (stack_starts_with(d, d->allocs[i].stack, exe, chain, n)) {
      f.allocs++;
      f.bytes += d->allocs[i].size;
      f.weight += d->allocs[i].weight_bytes;
    }
  for (uint32_t i = 0; i < d->n_sites; i++)
    if (stack_starts_with(d, d->sites[i].stack, exe, chain, n)) {
      f.site_bytes += d->sites[i].live_bytes;
      f.site_count += d->sites[i].live_count;
      f.site_total_count += d->sites[i].total_count;
    }
  return f;
}

/* At rate 1 the figures are exact: the chain's live samples and its sites agree, in blocks
 * and in bytes. */
static leak_figures_t expect_exact(const ms_dump_t *d, const char *exe, const char *const *chain,
                                   unsigned n, uint64_t allocs, uint64_t bytes) {
  leak_figures_t f = figures(d, exe, chain, n);
  assert_int_equal(f.allocs, allocs);
  assert_int_equal(f.bytes, bytes);
  assert_int_equal(f.site_bytes, bytes);
  assert_int_equal(f.site_count, allocs);
  return f;
}

static const char *const chain_leak[] = {"leak_leaf", "leak_mid", "leak_root", "main"};
static const char *const chain_other[] = {"other_leak", "other_root", "main"};
static const char *const chain_grow[] = {"grow_buffer", "grow_root", "main"};
static const char *const chain_churn[] = {"churn", "main"};
static const char *const chain_big[] = {"big_leaf", "big_root", "main"};

/* ------------------------------------------------------------------ the tests */

/* The dump names the executable by its resolved path. */
static const char *real_exe(const char *exe) {
  static char buf[4096];
  if (!realpath(exe, buf)) fail_msg("%s: not found", exe);
  return buf;
}

static int use_nofp(void **state) {
  *state = (void *)MS_LEAKY_NOFP;
  return 0;
}
static int use_fp(void **state) {
  *state = (void *)MS_LEAKY_FP;
  return 0;
}

static void test_tracking_exact_leaks_at_rate_1(void **state) {
  const char *exe = real_exe(*state);
  load_symbols(exe);
  pid_t pid = run_leaky(exe, NULL, "1", 1, 0);
  ms_dump_t d;
  read_exit_dump(pid, &d);
  assert_int_equal(d.options.sample_rate, 1);

  leak_figures_t f = expect_exact(&d, exe, chain_leak, 4, 100, 100000);
  assert_int_equal(f.weight, 100000);
  expect_exact(&d, exe, chain_other, 3, 7, 7 * 4096);
  /* the realloc chain ends in one 50000-byte block, attributed to the realloc call site */
  expect_exact(&d, exe, chain_grow, 3, 1, 50000);
  /* churn freed everything it made */
  f = expect_exact(&d, exe, chain_churn, 2, 0, 0);
  assert_int_equal(f.site_total_count, 10000);

  assert_true(d.summary.live_bytes >= 100000 + 7 * 4096 + 50000);
  ms_dump_free(&d);
}

static void test_tracking_leak_report(void **state) {
  const char *exe = *state;
  run_leaky(exe, NULL, "1", 0, 1);
  if (!strstr(err_text, "memscope: leak report"))
    fail_msg("no leak report on stderr:\n%s", err_text);
  /* the largest leak comes first and names its function */
  const char *first = strstr(err_text, "memscope: leak #1:");
  assert_non_null(first);
  assert_non_null(strstr(first, "100000 bytes in 100 blocks"));
  const char *next = strstr(first + 1, "memscope: leak #2:");
  const char *named = strstr(first, "leak_leaf");
  if (!named || (next && named > next)) fail_msg("leak #1 does not name leak_leaf:\n%s", err_text);
  assert_non_null(strstr(err_text, "grow_buffer"));
  assert_non_null(strstr(err_text, "other_leak"));
  assert_null(strstr(err_text, "churn")); /* nothing leaked there */
  /* no MEMSCOPE_OUTPUT: no file */
  DIR *dir = opendir(workdir);
  assert_non_null(dir);
  struct dirent *e;
  while ((e = readdir(dir)) != NULL)
    if (e->d_name[0] != '.') fail_msg("unexpected file %s written without MEMSCOPE_OUTPUT", e->d_name);
  closedir(dir);
}

static void test_tracking_sampled_estimates(void **state) {
  const char *exe = real_exe(*state);
  load_symbols(exe);
  pid_t pid = run_leaky(exe, "big", "16K", 1, 1);
  ms_dump_t d;
  read_exit_dump(pid, &d);
  assert_int_equal(d.options.sample_rate, 16384);
  double truth = 200000.0 * 48;
  leak_figures_t f = figures(&d, exe, chain_big, 3);
  /* ~590 samples expected: standard error ~4%, asserted within 15% */
  print_message("  big leak: %llu samples, estimate %llu bytes / %llu blocks (truth %.0f / 200000)\n",
                (unsigned long long)f.allocs, (unsigned long long)f.site_bytes,
                (unsigned long long)f.site_count, truth);
  assert_true(f.allocs > 300 && f.allocs < 1000);
  assert_int_equal(f.bytes, f.allocs * 48);
  assert_true(f.weight == f.site_bytes);
  assert_true(f.site_bytes > truth * 0.85 && f.site_bytes < truth * 1.15);
  assert_true(f.site_count > 200000 * 0.85 && f.site_count < 200000 * 1.15);
  /* the report says the figures are estimates */
  assert_non_null(strstr(err_text, "sampled, rate 16384"));
  assert_non_null(strstr(err_text, "big_leaf"));
  ms_dump_free(&d);
}

static int group_setup(void **state) {
  (void)state;
  snprintf(workdir, sizeof workdir, "/tmp/ms_tracking_%d", (int)getpid());
  return mkdir(workdir, 0700);
}
static int group_teardown(void **state) {
  (void)state;
  clean_workdir();
  return rmdir(workdir);
}

int main(void) {
#define BOTH(t) cmocka_unit_test_setup(t, use_nofp), cmocka_unit_test_setup(t, use_fp)
  const struct CMUnitTest tests[] = {
      BOTH(test_tracking_exact_leaks_at_rate_1),
      BOTH(test_tracking_leak_report),
      BOTH(test_tracking_sampled_estimates),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
