/* cmd_run.c — `memscope run [-o FILE] [--sample-rate N] [--leak-check] [--suppressions FILE]
 * [--error-exitcode N] [--] CMD ARGS`.
 *
 * Runs CMD with libmemscope.so preloaded and MEMSCOPE_OUTPUT / MEMSCOPE_SAMPLE_RATE set, waits
 * for it, prints a short summary of the dump it wrote at exit and the dump's path, and exits
 * with CMD's own status (128+signal when it was killed), so `memscope run` can stand in for
 * CMD in scripts and Makefiles.
 *
 * Children: LD_PRELOAD and the MEMSCOPE_* variables are inherited, so every process CMD
 * starts is tracked as well and writes its own dump; the default template contains %p so
 * they do not overwrite each other. Only CMD's own dump is summarised.
 *
 * The library is found, in order: --lib, $MEMSCOPE_LIB, then relative to this executable:
 * ../lib/libmemscope.so (build tree and `--prefix` installs) and ../<libdir>/libmemscope.so
 * (e.g. lib/x86_64-linux-gnu on Debian's /usr prefix).
 */
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"

#ifndef MS_INSTALL_LIBDIR
#define MS_INSTALL_LIBDIR "lib"
#endif

static const char help[] =
    "usage: memscope run [-o FILE] [--sample-rate N] [--] CMD [ARGS...]\n"
    "\n"
    "Run CMD on memscope and write a dump when it exits; print a summary and the dump's path.\n"
    "The exit status is CMD's own (128+N when CMD was killed by signal N).\n"
    "\n"
    "  -o, --output FILE      dump path template (%p = pid, %n = sequence number);\n"
    "                         default memscope.%p.%n.msp in the current directory\n"
    "  -s, --sample-rate N    mean bytes between sampled allocations (K/M/G suffixes);\n"
    "                         1 = every allocation (default), 0 = statistics only\n"
    "      --lib PATH         libmemscope.so to preload (default: $MEMSCOPE_LIB, or found\n"
    "                         next to this program: ../lib/libmemscope.so)\n"
    "      --leak-check       classify leaks by reachability at exit (MEMSCOPE_LEAK_CHECK=1):\n"
    "                         definitely/indirectly/possibly lost, still reachable\n"
    "      --suppressions FILE  leak suppressions, 'leak:PATTERN' lines (MEMSCOPE_SUPPRESSIONS)\n"
    "      --error-exitcode N exit with N when definitely lost bytes (not suppressed) > 0\n"
    "                         (implies --leak-check)\n"
    "  -q, --quiet            print nothing unless something goes wrong\n"
    "  -h, --help             this text\n"
    "\n"
    "Child processes of CMD inherit the preload and are tracked too; each writes its own dump\n"
    "(keep %p in FILE so that they do not overwrite each other). Other MEMSCOPE_* variables\n"
    "(MEMSCOPE_STACK_DEPTH, MEMSCOPE_CHECKS, ...) are passed through unchanged.\n";

static int is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int find_library(char *out, size_t len) {
  const char *env = getenv("MEMSCOPE_LIB");
  if (env && *env) {
    if (!is_file(env)) return -1;
    snprintf(out, len, "%s", env);
    return 0;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return -1;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return -1;
  *slash = 0;
  const char *rel[] = {"../lib/libmemscope.so", "../" MS_INSTALL_LIBDIR "/libmemscope.so",
                       "../lib/libmemscope.so.0", "../" MS_INSTALL_LIBDIR "/libmemscope.so.0"};
  for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
    char cand[PATH_MAX + 64];
    snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
    char real[PATH_MAX];
    if (is_file(cand) && realpath(cand, real)) {
      snprintf(out, len, "%s", real);
      return 0;
    }
  }
  return -1;
}

/* Expand %p and %n (n given) and %% in a template. */
static void expand(const char *tmpl, long pid, long n, char *out, size_t len) {
  size_t o = 0;
  for (const char *p = tmpl; *p && o + 1 < len; p++) {
    if (p[0] == '%' && (p[1] == 'p' || p[1] == 'n' || p[1] == '%')) {
      char num[32];
      if (p[1] == '%') snprintf(num, sizeof num, "%%");
      else snprintf(num, sizeof num, "%ld", p[1] == 'p' ? pid : n);
      for (char *q = num; *q && o + 1 < len; q++) out[o++] = *q;
      p++;
    } else {
      out[o++] = *p;
    }
  }
  out[o] = 0;
}

/* The dump CMD wrote at exit: with %n in the template, the highest-numbered existing file. */
static int find_dump(const char *tmpl, long pid, char *out, size_t len) {
  if (!strstr(tmpl, "%n")) {
    expand(tmpl, pid, 0, out, len);
    return is_file(out) ? 0 : -1;
  }
  /* Gaps are possible (a snapshot that failed), so stop only after a run of misses. */
  int found = -1, misses = 0;
  char cand[PATH_MAX];
  for (long n = 0; n < 100000 && misses < 32; n++) {
    expand(tmpl, pid, n, cand, sizeof cand);
    if (is_file(cand)) {
      snprintf(out, len, "%s", cand);
      found = 0;
      misses = 0;
    } else {
      misses++;
    }
  }
  return found;
}

/* Dumps written by CMD's children: files matching the template (%p and %n as wildcards)
 * modified since CMD started, other than CMD's own. */
static void list_children(const char *tmpl, const char *own, const struct timespec *since) {
  char pat[PATH_MAX];
  size_t o = 0;
  for (const char *p = tmpl; *p && o + 2 < sizeof pat; p++) {
    if (p[0] == '%' && (p[1] == 'p' || p[1] == 'n')) {
      pat[o++] = '*';
      p++;
    } else if (p[0] == '%' && p[1] == '%') {
      pat[o++] = '%';
      p++;
    } else if (*p == '*' || *p == '?' || *p == '[' || *p == '\\') {
      pat[o++] = '\\';
      pat[o++] = *p;
    } else {
      pat[o++] = *p;
    }
  }
  pat[o] = 0;
  if (!strstr(tmpl, "%p")) return;   /* children would have overwritten one file */
  glob_t g;
  if (glob(pat, 0, NULL, &g) != 0) return;
  unsigned shown = 0, total = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    struct stat st;
    if ((own && !strcmp(g.gl_pathv[i], own)) || stat(g.gl_pathv[i], &st) != 0 ||
        st.st_mtim.tv_sec < since->tv_sec ||
        (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec < since->tv_nsec))
      continue; /* written before CMD started: an earlier run's */
    total++;
    if (shown < 5) {
      fprintf(stderr, "%s%s", shown ? " " : "memscope: child process dumps: ", g.gl_pathv[i]);
      shown++;
    }
  }
  if (total > shown) fprintf(stderr, " (and %u more)", total - shown);
  if (shown) fputc('\n', stderr);
  globfree(&g);
}

/* The leak check's figures (suppressions applied, which needs symbols); returns the
 * definitely lost bytes, or 0 when there was no check. */
static uint64_t summarise_leaks(const char *path, const char *supp, int quiet) {
  ms_loaded_t l;
  ms_load_options_t lo = {.quiet = 1, .suppressions = supp};
  if (_ms_cli_load(path, &lo, &l) != MS_EXIT_OK) return 0;
  const ms_model_t *m = &l.model;
  char a[32], b[32], c[32], d[32], e[32];
  uint64_t lost = 0;
  if (m->leak_check == MS_LEAK_CHECK_DONE) {
    lost = m->kind_bytes[MS_LEAK_DEFINITE];
    if (!quiet)
      fprintf(stderr,
              "memscope: definitely lost %s in %" PRIu64 " blocks, indirectly lost %s, possibly "
              "lost %s, still reachable %s, suppressed %s in %" PRIu64 " blocks\n",
              ms_fmt_bytes(lost, a, sizeof a), m->kind_count[MS_LEAK_DEFINITE],
              ms_fmt_bytes(m->kind_bytes[MS_LEAK_INDIRECT], b, sizeof b),
              ms_fmt_bytes(m->kind_bytes[MS_LEAK_POSSIBLE], c, sizeof c),
              ms_fmt_bytes(m->kind_bytes[MS_LEAK_REACHABLE], d, sizeof d),
              ms_fmt_bytes(m->suppressed_bytes, e, sizeof e), m->suppressed_count);
  } else if (m->leak_check == MS_LEAK_CHECK_SAMPLED) {
    fprintf(stderr, "memscope: leak check: not possible while sampling (classes unknown); use "
                    "--sample-rate 1\n");
  } else if (m->is_exit) {
    fprintf(stderr, "memscope: leak check did not run\n");
  }
  _ms_cli_unload(&l);
  return lost;
}

static void summarise(const char *path, int quiet) {
  ms_dump_t d;
  char err[512], a[32], b[32];
  if (ms_dump_read_file(path, &d, err, sizeof err) != 0) {
    fprintf(stderr, "memscope: %s: %s\n", path, err);
    return;
  }
  if (quiet) {   /* -q: nothing on success; problems are still reported */
    ms_dump_free(&d);
    return;
  }
  {
    const ms_dump_summary_t *s = &d.summary;
    fprintf(stderr, "memscope: %" PRIu64 " allocations (%s), peak %s", s->total_allocations,
            ms_fmt_bytes(s->total_bytes, a, sizeof a), ms_fmt_bytes(s->peak_live_bytes, b, sizeof b));
    if (d.process.reason == MS_DUMP_REASON_EXIT)
      fprintf(stderr, ", leaked %s in %" PRIu64 " blocks", ms_fmt_bytes(s->live_bytes, a, sizeof a),
              s->live_allocations);
    if (d.n_errors) fprintf(stderr, ", %u memory errors", d.n_errors);
    fputc('\n', stderr);
  }
  fprintf(stderr, "memscope: dump written to %s (see: memscope report %s)\n", path, path);
  ms_dump_free(&d);
}

typedef struct run_exit {
  int leak_check, error_exitcode;
} run_exit_t;

/* --error-exitcode N, the one option not in the store (it implies --leak-check). */
static int run_exitcode(void *ctx, int opt, char *arg) {
  run_exit_t *x = ctx;
  (void)opt;
  char *end;
  long v = strtol(arg, &end, 10);
  if (!*arg || *end || v < 1 || v > 255)
    return _ms_cli_fail(MS_EXIT_USAGE, "run: --error-exitcode needs a number 1..255, got '%s'", arg);
  x->error_exitcode = (int)v;
  x->leak_check = 1;
  return MS_EXIT_OK;
}

int _ms_cmd_run(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'}, {"sample-rate", required_argument, 0, 's'},
      {"lib", required_argument, 0, 'L'},    {"quiet", no_argument, 0, 'q'},
      {"leak-check", no_argument, 0, 'K'},   {"suppressions", required_argument, 0, 'S'},
      {"error-exitcode", required_argument, 0, 'E'}, {0, 0, 0, 0}};
  const char *output = NULL, *rate = NULL, *lib = NULL, *supp = NULL;
  int quiet = 0;
  run_exit_t x = {.leak_check = 0, .error_exitcode = -1};
  const ms_cli_store_t store[] = {{'o', &output, NULL}, {'s', &rate, NULL}, {'L', &lib, NULL},
                                  {'S', &supp, NULL},   {'q', NULL, &quiet},
                                  {'K', NULL, &x.leak_check}, {0, NULL, NULL}};
  /* '+': stop at CMD, so CMD's own options are left alone even without "--". */
  const ms_cli_command_t cmd = {"run", help, "+o:s:q", opts, store, NULL, run_exitcode, &x};
  int rc = _ms_cli_options(&cmd, argc, argv);
  if (rc != MS_OPT_CONTINUE) return rc;
  int leak_check = x.leak_check, error_exitcode = x.error_exitcode;
  if (optind >= argc) return _ms_cli_fail(MS_EXIT_USAGE, "run: missing CMD (see memscope run --help)");
  uint64_t r;
  if (rate && _ms_parse_size(rate, &r) != 0)
    return _ms_cli_fail(MS_EXIT_USAGE, "run: --sample-rate needs a size such as 1, 512K or 1M, got '%s'", rate);
  if (output && !*output) return _ms_cli_fail(MS_EXIT_USAGE, "run: -o needs a file name");
  if (supp) {
    FILE *f = fopen(supp, "r"); /* fail before running CMD, not after */
    if (!f) return _ms_cli_fail(MS_EXIT_INPUT, "run: suppressions %s: %s", supp, strerror(errno));
    fclose(f);
  }

  char libpath[PATH_MAX];
  if (lib) {
    if (!is_file(lib)) return _ms_cli_fail(MS_EXIT_INPUT, "%s: library not found", lib);
    snprintf(libpath, sizeof libpath, "%s", lib);
  } else if (find_library(libpath, sizeof libpath) != 0) {
    return _ms_cli_fail(MS_EXIT_INPUT, "libmemscope.so not found (looked at $MEMSCOPE_LIB and "
                                       "../lib next to this program; use --lib PATH)");
  }

  /* The template, made absolute so the path we print is the one the child writes, even if
   * CMD changes directory. */
  const char *tmpl = output ? output : "memscope.%p.%n.msp";
  char abs_tmpl[PATH_MAX + 256];
  if (tmpl[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return _ms_cli_fail(MS_EXIT_INPUT, "cannot get the current directory");
    snprintf(abs_tmpl, sizeof abs_tmpl, "%s/%s", cwd, tmpl);
  } else {
    snprintf(abs_tmpl, sizeof abs_tmpl, "%s", tmpl);
  }

  /* The output folder (and the file itself when its name is fixed) is checked before CMD
   * runs: a typo must not cost a whole run. The library applies the same rules when it writes
   * (export/outfile.c); %p and %n are only known then. */
  {
    char err[1024];
    const char *slash = strrchr(abs_tmpl, '/');
    int fixed = !strchr(abs_tmpl, '%');
    int dir_fixed = !memchr(abs_tmpl, '%', (size_t)(slash - abs_tmpl));
    if ((fixed && _ms_outfile_check(abs_tmpl, err, sizeof err) != 0) ||
        (!fixed && dir_fixed && _ms_outfile_check_dir(abs_tmpl, err, sizeof err) != 0))
      return _ms_cli_fail(MS_EXIT_INPUT, "run: %s (%s not started)", err, argv[optind]);
  }

  const char *old = getenv("LD_PRELOAD");
  size_t pl = strlen(libpath) + (old ? strlen(old) : 0) + 2;
  char *preload = malloc(pl);
  if (!preload) return _ms_cli_fail(MS_EXIT_INPUT, "out of memory");
  snprintf(preload, pl, "%s%s%s", libpath, old && *old ? ":" : "", old && *old ? old : "");
  if (setenv("LD_PRELOAD", preload, 1) != 0 || setenv("MEMSCOPE_OUTPUT", abs_tmpl, 1) != 0 ||
      (rate && setenv("MEMSCOPE_SAMPLE_RATE", rate, 1) != 0) ||
      (!rate && setenv("MEMSCOPE_SAMPLE_RATE", "1", 0) != 0) ||
      /* a debugging run: every safety check unless the user chose (docs/CHECKS.md) */
      setenv("MEMSCOPE_CHECKS", "all", 0) != 0 ||
      (leak_check && setenv("MEMSCOPE_LEAK_CHECK", "1", 1) != 0)) {
    free(preload);
    return _ms_cli_fail(MS_EXIT_INPUT, "cannot set the environment");
  }
  free(preload);

  /* Like system(3): while CMD runs, Ctrl-C and Ctrl-\ are for CMD, not for us. */
  struct sigaction ign = {0}, old_int, old_quit;
  ign.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  fflush(NULL);
  /* File times come from the kernel's coarse clock (one tick, <= 4 ms, behind): allow 10 ms. */
  struct timespec started;
  clock_gettime(CLOCK_REALTIME, &started);
  if (started.tv_nsec >= 10000000) started.tv_nsec -= 10000000;
  else started.tv_sec -= 1, started.tv_nsec += 990000000;
  pid_t pid = fork();
  if (pid < 0) return _ms_cli_fail(MS_EXIT_INPUT, "cannot start %s: %s", argv[optind], strerror(errno));
  if (pid == 0) {
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    execvp(argv[optind], argv + optind);
    fprintf(stderr, "memscope: %s: %s\n", argv[optind], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = 0;
      break;
    }
  }
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;

  char dump[PATH_MAX];
  int have = find_dump(abs_tmpl, (long)pid, dump, sizeof dump) == 0;
  if (have) {
    summarise(dump, quiet);
    if (leak_check || supp) {
      uint64_t lost = summarise_leaks(dump, supp, quiet);
      if (error_exitcode > 0 && lost > 0) code = error_exitcode;
    }
  } else if (!(WIFEXITED(status) && (code == 127 || code == 126))) {
    fprintf(stderr, "memscope: %s wrote no dump (%s)\n", argv[optind],
            WIFSIGNALED(status) ? "killed by a signal"
                                : "it may have left with _exit() as some shells do, or be static "
                                  "or set-uid");
  }
  if (!quiet) list_children(abs_tmpl, have ? dump : NULL, &started);
  if (WIFSIGNALED(status) && !quiet)
    fprintf(stderr, "memscope: %s was killed by signal %d\n", argv[optind], WTERMSIG(status));
  return code;
}
