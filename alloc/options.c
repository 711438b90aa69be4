/* options.c — the options table: MEMSCOPE_<NAME> variables, parsed once at start-up.
 *
 * Like glibc's MALLOC_* tunables, the environment is ignored for set-uid/set-gid programs
 * (AT_SECURE), so memscope cannot be used to make a privileged program write files. A bad value
 * prints one warning line naming the variable and keeps the default. Runs inside the first
 * malloc, so it uses no stdio and allocates nothing.
 */
#include "options.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <unistd.h>

ms_options_t _ms_options = {
#define MS_OPT_DEFAULT_(field, env, kind, def) .field = (MS_OPT_FIELD_##kind)(def),
    MS_OPTIONS(MS_OPT_DEFAULT_)
#undef MS_OPT_DEFAULT_
};

int _ms_parse_bool(const char *s, uint64_t *out) {
  static const char *const yes[] = {"1", "on", "yes", "true", "enable", "enabled"};
  static const char *const no[] = {"0", "off", "no", "false", "disable", "disabled"};
  if (!s) return -1;
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
    if (strcasecmp(s, yes[i]) == 0) return *out = 1, 0;
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    if (strcasecmp(s, no[i]) == 0) return *out = 0, 0;
  return -1;
}

int _ms_parse_signal(const char *s, uint64_t *out) {
  static const struct { const char *name; int sig; } names[] = {
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"HUP", SIGHUP},   {"INT", SIGINT},
      {"QUIT", SIGQUIT}, {"TERM", SIGTERM}, {"ALRM", SIGALRM}, {"PROF", SIGPROF},
      {"WINCH", SIGWINCH}, {"CONT", SIGCONT}, {"URG", SIGURG}};
  if (!s || !*s) return -1;
  uint64_t v;
  if (_ms_parse_uint(s, &v) == 0) {
    if (v >= (uint64_t)SIGRTMIN && v <= (uint64_t)SIGRTMAX) return *out = v, 0;
    if (v >= 1 && v < 32 && v != SIGKILL && v != SIGSTOP && v != SIGSEGV && v != SIGBUS)
      return *out = v, 0;
    return -1;
  }
  if (strncasecmp(s, "SIG", 3) == 0) s += 3;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcasecmp(s, names[i].name) == 0) return *out = (uint64_t)names[i].sig, 0;
  return -1;
}

static void warn_bad_value(const char *var, const char *value) {
  /* one line, no stdio (we may be inside the first malloc) */
  static const char a[] = "memscope: warning: ignoring bad value of ";
  static const char b[] = ": '";
  static const char c[] = "' (keeping the default)\n";
  size_t vl = strnlen(value, 200);
  ssize_t r = write(2, a, sizeof a - 1);
  r = write(2, var, strlen(var));
  r = write(2, b, sizeof b - 1);
  r = write(2, value, vl);
  r = write(2, c, sizeof c - 1);
  (void)r;
}

#define MS_OPT_PARSE_SIZE(v, out) _ms_parse_size(v, out)
#define MS_OPT_PARSE_UINT(v, out) _ms_parse_uint(v, out)
#define MS_OPT_PARSE_BOOL(v, out) _ms_parse_bool(v, out)
#define MS_OPT_PARSE_SIGNAL(v, out) _ms_parse_signal(v, out)
/* Strings are copied: the environment's own strings are the program's to rewrite (every
 * setproctitle() does, e.g. redis, nginx, postgres), which would change the dump path under us.
 * The copies are static: this runs before memscope can allocate. */
static int parse_string(const char *v, const char **out) {
  static char copies[4][4096];
  static unsigned used;
  size_t n = strlen(v);
  if (used == sizeof copies / sizeof *copies || n >= sizeof *copies) return -1;
  memcpy(copies[used], v, n + 1);
  *out = copies[used++];
  return 0;
}
#define MS_OPT_PARSE_STRING(v, out) parse_string(v, out)

void _ms_options_init(void) {
  if (getauxval(AT_SECURE)) return; /* set-uid/set-gid: defaults only */
  const char *v;
#define MS_OPT_READ_(field, env, kind, def)                                  \
  if ((v = getenv("MEMSCOPE_" #env)) != NULL) {                              \
    MS_OPT_FIELD_##kind parsed;                                              \
    if (MS_OPT_PARSE_##kind(v, &parsed) == 0) _ms_options.field = parsed;    \
    else warn_bad_value("MEMSCOPE_" #env, v);                                \
  }
  MS_OPTIONS(MS_OPT_READ_)
#undef MS_OPT_READ_
  /* values that parse but make no sense: warn like any bad value and keep the default */
  if (_ms_options.stack_depth == 0 || _ms_options.stack_depth > MS_STACK_DEPTH_MAX) {
    warn_bad_value("MEMSCOPE_STACK_DEPTH", getenv("MEMSCOPE_STACK_DEPTH"));
    _ms_options.stack_depth = 32;
  }
  if (_ms_options.interval_ms == 0) {
    warn_bad_value("MEMSCOPE_INTERVAL_MS", getenv("MEMSCOPE_INTERVAL_MS"));
    _ms_options.interval_ms = 10;
  }
  if (_ms_options.output && !*_ms_options.output) _ms_options.output = NULL;
}
