/* suppress.c — leak suppressions: memscope's built-in list of runtime-internal blocks, and a
 * user file (--suppressions FILE / MEMSCOPE_SUPPRESSIONS) in LeakSanitizer's format, applied
 * to the model's leaks after symbolisation (the tracked process has no names).
 *
 * File format (docs/USAGE.md "Suppressions"): one rule a line, "leak:PATTERN"; blank lines and
 * lines starting with '#' are ignored. PATTERN matches a frame of the allocating stack when it
 * matches the frame's function name, source file or module path: '*' stands for any run of
 * characters, a leading '^' / trailing '$' anchor it, otherwise it may match anywhere (as in
 * LSan). A leak matched by any rule is suppressed: left out of the leak lists and findings,
 * counted in the summary's suppressed figures (always shown, so nothing disappears silently).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* Blocks the C runtime allocates for itself and keeps where the scan cannot see them
 * (thread descriptors cached by glibc after a thread exits, DTVs of the main thread that
 * live in the dynamic loader's own allocator): reachable by design, never the program's
 * leak. */
static const char *const builtin[] = {
    "^_dl_allocate_tls$", "^_dl_resize_dtv$", "^_dl_update_slotinfo$", "^__tls_get_addr$",
    "^allocate_dtv$",
};
#define N_BUILTIN (sizeof builtin / sizeof *builtin)

const char *ms_leak_kind_name(uint32_t kind) {
  static const char *names[MS_LEAK_KINDS] = {"unknown", "definitely_lost", "indirectly_lost",
                                             "possibly_lost", "still_reachable"};
  return kind < MS_LEAK_KINDS ? names[kind] : "unknown";
}

/* glob with '*' only, anchored at both ends of s[0..n) */
static int glob_at(const char *p, size_t pn, const char *s, size_t sn) {
  while (pn) {
    if (*p == '*') {
      while (pn && *p == '*') p++, pn--;
      if (!pn) return 1;
      for (size_t i = 0; i <= sn; i++)
        if (glob_at(p, pn, s + i, sn - i)) return 1;
      return 0;
    }
    if (!sn || *p != *s) return 0;
    p++, pn--, s++, sn--;
  }
  return sn == 0;
}

static int pattern_matches(const char *pat, const char *s) {
  if (!s || !*s) return 0;
  size_t pn = strlen(pat), sn = strlen(s);
  int head = pn && pat[0] == '^', tail = pn > (size_t)head && pat[pn - 1] == '$';
  const char *p = pat + head;
  pn -= (size_t)head + (size_t)tail;
  /* unanchored ends behave as if '*' were there */
  char buf[1024];
  if (pn + 2 >= sizeof buf) return 0;
  size_t k = 0;
  if (!head) buf[k++] = '*';
  memcpy(buf + k, p, pn), k += pn;
  if (!tail) buf[k++] = '*';
  return glob_at(buf, k, s, sn);
}

static int add_rule(ms_model_t *m, const char *pattern, int is_builtin) {
  ms_suppression_t *v = realloc(m->suppressions, (m->n_suppressions + 1) * sizeof *v);
  if (!v) return -1;
  m->suppressions = v;
  v[m->n_suppressions++] = (ms_suppression_t){.pattern = pattern, .builtin = is_builtin};
  return 0;
}

int ms_suppressions_load(ms_model_t *m, const char *path, char *err, size_t errlen) {
  for (size_t i = 0; i < N_BUILTIN; i++)
    if (add_rule(m, builtin[i], 1) != 0) goto oom;
  if (!path || !*path) return 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "suppressions %s: %s", path, strerror(errno));
    return -1;
  }
  char line[1100];
  unsigned no = 0;
  while (fgets(line, sizeof line, f)) {
    no++;
    size_t n = strlen(line);
    if (n == sizeof line - 1 && line[n - 1] != '\n') {
      snprintf(err, errlen, "suppressions %s:%u: line too long (1 KiB at most)", path, no);
      fclose(f);
      return -1;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
      line[--n] = 0;
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '#') continue;
    if (strncmp(s, "leak:", 5) != 0 || !s[5]) {
      snprintf(err, errlen, "suppressions %s:%u: expected 'leak:PATTERN', got '%.60s'", path, no, s);
      fclose(f);
      return -1;
    }
    char *pat = strdup(s + 5);
    if (!pat || add_rule(m, pat, 0) != 0) {
      free(pat);
      fclose(f);
      goto oom;
    }
  }
  fclose(f);
  return 0;
oom:
  snprintf(err, errlen, "out of memory while reading suppressions");
  return -1;
}

static int stack_matches(const ms_model_t *m, uint32_t stack, const char *pat) {
  for (uint32_t i = 0;; i++) {
    const ms_frame_t *f = ms_model_frame(m, stack, i);
    if (!f) return 0;
    if (pattern_matches(pat, f->function) || pattern_matches(pat, f->file) ||
        pattern_matches(pat, f->module_path))
      return 1;
  }
}

void ms_suppressions_apply(ms_model_t *m) {
  for (uint32_t i = 0; i < m->n_leaks; i++) {
    ms_leak_t *l = &m->leaks[i];
    for (uint32_t r = 0; r < m->n_suppressions; r++) {
      ms_suppression_t *s = &m->suppressions[r];
      if (!stack_matches(m, l->stack, s->pattern)) continue;
      l->suppressed = r + 1;
      s->hits++;
      s->bytes += l->bytes;
      s->count += l->count;
      break;
    }
  }
}
