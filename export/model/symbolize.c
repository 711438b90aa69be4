/* symbolize.c — addresses to function/file/line with elfutils libdwfl (see symbolize.h).
 *
 * One Dwfl session per module, opened lazily on the first address that falls in it. Keeping
 * modules in separate sessions means a dump whose module map overlaps (untrusted input, or a
 * library mapped twice) can never confuse one module's symbols with another's. The module is
 * reported at the load bias the tracked process had (dwfl_report_elf with add_p_vaddr), so
 * lookups use the recorded run-time address directly.
 *
 * Trust: a module's file is used only if it is a regular file and, when the dump recorded a
 * build-id, the file's build-id is the same; otherwise we try the build-id path under the debug
 * directory (the same binary's separate debug info, which also has the symbol table), and
 * finally give module+offset. Addresses are return addresses, so we look up address-1: the
 * call instruction, not whatever follows it (which may be the next line or next function).
 */
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include "symbolize_inline.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* From the C++ runtime: demangles Itanium-ABI names. The CLI links libstdc++ for it. */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

typedef struct sym_module {
  const ms_dump_module_t *dm;
  uint32_t index;
  int state;          /* 0 not opened yet, 1 usable, -1 no usable file */
  int mismatch;
  int internal;
  uint32_t quality;   /* best reached */
  Dwfl *dwfl;
  Dwfl_Module *mod;
  ms_inline_index_t *inl;   /* symbolize_inline.c, built on first use */
  int inl_tried;
} sym_module_t;

typedef struct demangled {   /* demangled names, freed with the symboliser */
  struct demangled *next;
  char name[];
} demangled_t;

struct ms_symbolizer {
  uint32_t n;
  sym_module_t *mods;
  uint32_t *order;    /* module indexes sorted by start */
  char *debug_path;   /* Dwfl debuginfo_path string */
  char *debug_dir;
  Dwfl_Callbacks cb;
  int no_files;
  demangled_t *names;
};

static int is_internal_path(const char *path) {
  if (!path) return 0;
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  return strncmp(b, "libmemscope", 11) == 0 || strncmp(b, "libmimalloc", 11) == 0;
}

static const ms_symbolizer_t *sort_ctx;
static int cmp_start(const void *a, const void *b) {
  uint64_t x = sort_ctx->mods[*(const uint32_t *)a].dm->start;
  uint64_t y = sort_ctx->mods[*(const uint32_t *)b].dm->start;
  return x < y ? -1 : x > y;
}

ms_symbolizer_t *ms_symbolizer_new(const ms_dump_module_t *mods, uint32_t n_mods,
                                   const char *debug_dir, int no_files) {
  ms_symbolizer_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->n = n_mods;
  s->no_files = no_files;
  s->mods = calloc(n_mods ? n_mods : 1, sizeof *s->mods);
  s->order = calloc(n_mods ? n_mods : 1, sizeof *s->order);
  s->debug_dir = strdup(debug_dir ? debug_dir : "/usr/lib/debug");
  if (!s->mods || !s->order || !s->debug_dir) goto fail;
  size_t dl = strlen(s->debug_dir) + 16;
  s->debug_path = malloc(dl);
  if (!s->debug_path) goto fail;
  /* '-': do not check CRCs of debuglink files (build-ids are checked instead). */
  snprintf(s->debug_path, dl, "-:.debug:%s", s->debug_dir);
  s->cb.find_elf = NULL;
  s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
  s->cb.section_address = dwfl_offline_section_address;
  s->cb.debuginfo_path = &s->debug_path;
  for (uint32_t i = 0; i < n_mods; i++) {
    s->mods[i].dm = &mods[i];
    s->mods[i].index = i;
    s->mods[i].internal = is_internal_path(mods[i].path);
    s->order[i] = i;
  }
  sort_ctx = s;
  qsort(s->order, n_mods, sizeof *s->order, cmp_start);
  return s;
fail:
  ms_symbolizer_free(s);
  return NULL;
}

uint32_t ms_symbolizer_module_of(const ms_symbolizer_t *s, uint64_t a) {
  /* Last module whose start <= a; then check its end. Overlapping (bogus) maps resolve to the
   * latest-starting module that contains a, scanning back a little. */
  uint32_t lo = 0, hi = s->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (s->mods[s->order[mid]].dm->start <= a) lo = mid + 1;
    else hi = mid;
  }
  for (uint32_t k = lo, tries = 0; k > 0 && tries < 8; k--, tries++) {
    const ms_dump_module_t *dm = s->mods[s->order[k - 1]].dm;
    if (a >= dm->start && a < dm->end) return s->order[k - 1];
  }
  return MS_DUMP_NONE;
}

/* Open path as a Dwfl module at the recorded bias; 0 on success. Only regular files: a dump
 * naming /dev/zero or a FIFO must not hang the converter. */
static int open_module(ms_symbolizer_t *s, sym_module_t *sm, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 64) {
    close(fd);
    return -1;
  }
  Dwfl *dwfl = dwfl_begin(&s->cb);
  if (!dwfl) {
    close(fd);
    return -1;
  }
  dwfl_report_begin(dwfl);
  Dwfl_Module *mod = dwfl_report_elf(dwfl, path, path, fd, sm->dm->base, true);
  if (!mod) {  /* fd is consumed only on success */
    close(fd);
    dwfl_end(dwfl);
    return -1;
  }
  dwfl_report_end(dwfl, NULL, NULL);
  if (sm->dm->build_id_len > 0) {
    const unsigned char *bits = NULL;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(mod, &bits, &vaddr);
    if (len <= 0 || (uint32_t)len != sm->dm->build_id_len ||
        memcmp(bits, sm->dm->build_id, (size_t)len) != 0) {
      sm->mismatch = 1;
      dwfl_end(dwfl);
      return -1;
    }
  }
  sm->dwfl = dwfl;
  sm->mod = mod;
  return 0;
}

static void load_module(ms_symbolizer_t *s, sym_module_t *sm) {
  sm->state = -1;
  if (s->no_files) return;
  if (sm->dm->path && sm->dm->path[0] == '/' && open_module(s, sm, sm->dm->path) == 0) {
    sm->state = 1;
    return;
  }
  /* The binary is gone, replaced or not a file: the debug file named by build-id is the same
   * build's symbols and line tables, laid out at the same addresses. */
  if (sm->dm->build_id_len >= 2 && sm->dm->build_id_len <= 32) {
    char hex[65], path[4096];
    for (uint32_t i = 0; i < sm->dm->build_id_len; i++)
      snprintf(hex + 2 * i, 3, "%02x", sm->dm->build_id[i]);
    snprintf(path, sizeof path, "%s/.build-id/%.2s/%s.debug", s->debug_dir, hex, hex + 2);
    int was_mismatch = sm->mismatch;
    if (open_module(s, sm, path) == 0) {
      sm->mismatch = was_mismatch;
      sm->state = 1;
    }
  }
}

static const char *keep(ms_symbolizer_t *s, const char *text, size_t l) {
  demangled_t *e = malloc(sizeof *e + l + 1);
  if (!e) return NULL;
  memcpy(e->name, text, l);
  e->name[l] = 0;
  e->next = s->names;
  s->names = e;
  return e->name;
}

/* Symbol table names can carry a version ("memcpy@@GLIBC_2.14") and C++ mangling; users
 * want neither. */
static const char *demangle(ms_symbolizer_t *s, const char *name) {
  if (!name) return name;
  const char *at = strchr(name, '@');
  if (at && at > name) {
    const char *plain = keep(s, name, (size_t)(at - name));
    if (plain) name = plain;
  }
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char *d = __cxa_demangle(name, NULL, NULL, &status);
  if (!d || status != 0) {
    free(d);
    return name;
  }
  const char *r = keep(s, d, strlen(d));
  free(d);
  return r ? r : name;
}

void ms_symbolize(ms_symbolizer_t *s, uint64_t address, ms_frame_t *f) {
  memset(f, 0, sizeof *f);
  f->address = address;
  f->module = MS_DUMP_NONE;
  f->quality = MS_SYM_NONE;
  uint32_t mi = ms_symbolizer_module_of(s, address);
  if (mi == MS_DUMP_NONE) return;
  sym_module_t *sm = &s->mods[mi];
  f->module = mi;
  f->module_path = sm->dm->path;
  f->offset = address - sm->dm->base;
  f->internal = (uint32_t)sm->internal;
  f->quality = MS_SYM_OFFSET;
  if (sm->state == 0) load_module(s, sm);
  if (sm->state != 1) {
    if (sm->quality < MS_SYM_OFFSET) sm->quality = MS_SYM_OFFSET;
    return;
  }
  /* address-1: the call instruction that this return address follows. */
  Dwarf_Addr pc = address > 0 ? address - 1 : address;
  GElf_Off off = 0;
  GElf_Sym sym;
  const char *name = dwfl_module_addrinfo(sm->mod, pc, &off, &sym, NULL, NULL, NULL);
  if (name && name[0]) {
    f->function = demangle(s, name);
    f->quality = MS_SYM_SYMTAB;
  }
  Dwfl_Line *line = dwfl_module_getsrc(sm->mod, pc);
  if (line) {
    int ln = 0;
    const char *file = dwfl_lineinfo(line, NULL, &ln, NULL, NULL, NULL);
    if (file && ln > 0) {
      f->file = file;
      f->line = (uint32_t)ln;
      f->quality = MS_SYM_DWARF;
    }
  }
  if (f->quality > sm->quality) sm->quality = f->quality;
}

Dwfl_Module *ms_symbolizer_dwfl_module(ms_symbolizer_t *s, uint64_t address) {
  uint32_t mi = ms_symbolizer_module_of(s, address);
  if (mi == MS_DUMP_NONE) return NULL;
  sym_module_t *sm = &s->mods[mi];
  if (sm->state == 0) load_module(s, sm);
  return sm->state == 1 ? sm->mod : NULL;
}

uint32_t ms_symbolize_all(ms_symbolizer_t *s, uint64_t address, ms_frame_t *out, uint32_t max) {
  if (!max) return 0;
  ms_frame_t real;
  ms_symbolize(s, address, &real);
  ms_inline_t inl[MS_MAX_INLINE];
  uint32_t n = 0;
  uint32_t mi = real.module;
  if (max > 1 && real.function && mi < s->n && s->mods[mi].state == 1)
  {
    sym_module_t *sm = &s->mods[mi];
    if (!sm->inl_tried) {
      sm->inl_tried = 1;
      sm->inl = ms_inline_index_new(sm->mod);
    }
    n = ms_inline_chain(sm->inl, address > 0 ? address - 1 : address, inl,
                        max - 1 < MS_MAX_INLINE ? max - 1 : MS_MAX_INLINE);
  }
  /* inl[0] is the innermost inlined call: its line is the line table's; each outer frame's
   * line is the call site recorded in the inlined call just inside it. */
  for (uint32_t k = 0; k < n; k++) {
    out[k] = real;
    out[k].inlined = 1;
    out[k].function = inl[k].name ? demangle(s, inl[k].name) : "?";
    if (k > 0) {
      out[k].file = inl[k - 1].call_file;
      out[k].line = inl[k - 1].call_line;
    }
  }
  out[n] = real;
  if (n && inl[n - 1].call_file) {
    out[n].file = inl[n - 1].call_file;
    out[n].line = inl[n - 1].call_line;
  }
  return n + 1;
}

uint32_t ms_symbolizer_module_quality(const ms_symbolizer_t *s, uint32_t i, uint32_t *mismatch) {
  if (i >= s->n) {
    if (mismatch) *mismatch = 0;
    return MS_SYM_NONE;
  }
  if (mismatch) *mismatch = (uint32_t)s->mods[i].mismatch;
  return s->mods[i].quality;
}

int ms_symbolizer_module_internal(const ms_symbolizer_t *s, uint32_t i) {
  return i < s->n ? s->mods[i].internal : 0;
}

void ms_symbolizer_free(ms_symbolizer_t *s) {
  if (!s) return;
  for (uint32_t i = 0; s->mods && i < s->n; i++)
    if (s->mods[i].dwfl) {
      ms_inline_index_free(s->mods[i].inl);
      dwfl_end(s->mods[i].dwfl);
    }
  while (s->names) {
    demangled_t *n = s->names->next;
    free(s->names);
    s->names = n;
  }
  free(s->mods);
  free(s->order);
  free(s->debug_path);
  free(s->debug_dir);
  free(s);
}
