/* errors.c — memory errors found by the allocator and the checks (double free, invalid free,
 * overflows, use after free): kept for dumps (bounded), counted, reported on stderr at once
 * with up to three stacks (where it happened, where the block was allocated, where it was
 * freed), and then, by MEMSCOPE_CHECKS action=, either the process aborts (after writing the
 * MEMSCOPE_OUTPUT dump, so the error is in it) or it continues.
 *
 * Symbolising on stderr: the stderr report should name functions and file:line even for
 * executables not linked with -rdynamic, which dladdr cannot see into. When it can, this file
 * loads elfutils' libdw (dlopen, only on the error path) and asks it about the running process
 * (dwfl_linux_proc_report: symbol tables and DWARF of every mapped module). Without libdw, or
 * with symbolize=dladdr, frames are named with dladdr (exported symbols) and otherwise given as
 * module+offset; the converter always names them fully from the dump.
 */
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "track.h"

#define MAX_ERRORS 1024
#define MAX_PRINTED 20
#define MS_STACK_HERE UINT32_MAX


static ms_dump_error_t errors[MAX_ERRORS];
static uint32_t n_errors;
static _Atomic uint64_t errors_total;
static pthread_mutex_t errors_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t print_mutex = PTHREAD_MUTEX_INITIALIZER; /* one report at a time */

static const char *const kind_names[] = MS_DUMP_ERROR_KIND_NAMES;   /* export/dump/dump.h */

void _ms_errors_lock(int lock) {
  if (lock) {
    pthread_mutex_lock(&print_mutex);
    pthread_mutex_lock(&errors_mutex);
  } else {
    pthread_mutex_unlock(&errors_mutex);
    pthread_mutex_unlock(&print_mutex);
  }
}

uint64_t _ms_errors_count(void) { return atomic_load(&errors_total); }

const char *_ms_error_kind_name(unsigned kind) {
  return kind < sizeof kind_names / sizeof *kind_names ? kind_names[kind] : "unknown";
}

/* ---------------------------------------------------------------- libdw, loaded on demand */

typedef struct dw_api {
  Dwfl *(*begin)(const Dwfl_Callbacks *);
  void (*end)(Dwfl *);
  int (*proc_report)(Dwfl *, pid_t);
  int (*report_end)(Dwfl *, int (*)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *),
                    void *);
  Dwfl_Module *(*addrmodule)(Dwfl *, Dwarf_Addr);
  const char *(*addrname)(Dwfl_Module *, GElf_Addr);
  Dwfl_Line *(*getsrc)(Dwfl_Module *, Dwarf_Addr);
  const char *(*lineinfo)(Dwfl_Line *, Dwarf_Addr *, int *, int *, Dwarf_Word *, Dwarf_Word *);
  Dwfl_Callbacks callbacks;
  int state; /* 0 not tried, 1 loaded, -1 unavailable */
} dw_api_t;

static dw_api_t dw;
static char *debuginfo_path_none = NULL;

static int dw_load(void) {
  if (dw.state) return dw.state > 0;
  dw.state = -1;
  void *h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) return 0;
#define DW_SYM(field, name) \
  if (!(*(void **)&dw.field = dlsym(h, name))) return 0;
  DW_SYM(begin, "dwfl_begin")
  DW_SYM(end, "dwfl_end")
  DW_SYM(proc_report, "dwfl_linux_proc_report")
  DW_SYM(report_end, "dwfl_report_end")
  DW_SYM(addrmodule, "dwfl_addrmodule")
  DW_SYM(addrname, "dwfl_module_addrname")
  DW_SYM(getsrc, "dwfl_module_getsrc")
  DW_SYM(lineinfo, "dwfl_lineinfo")
  DW_SYM(callbacks.find_elf, "dwfl_linux_proc_find_elf")
  DW_SYM(callbacks.find_debuginfo, "dwfl_standard_find_debuginfo")
#undef DW_SYM
  dw.callbacks.debuginfo_path = &debuginfo_path_none;
  dw.state = 1;
  return 1;
}

/* The symboliser of the report being printed (NULL: dladdr only). */
static Dwfl *sym_open(void) {
  if (_ms_check_flags & (MS_CHK_SYM_DLADDR | MS_CHK_SYM_OFF)) return NULL;
  if (!dw_load()) return NULL;
  Dwfl *d = dw.begin(&dw.callbacks);
  if (!d) return NULL;
  if (dw.proc_report(d, getpid()) != 0 || dw.report_end(d, NULL, NULL) != 0) {
    dw.end(d);
    return NULL;
  }
  return d;
}
static void sym_close(Dwfl *d) {
  if (d) dw.end(d);
}

/* One frame: "    #i 0xADDR in FUNCTION FILE:LINE (MODULE+0xOFF)". pc is a return address
 * (looked up at pc - 1, inside the call instruction). */
static void print_frame(Dwfl *d, unsigned i, uint64_t pc) {
  char line[768], mod[256] = "?";
  const char *fn = NULL, *file = NULL;
  int lineno = 0;
  unsigned long off = 0;
  Dl_info info;
  uint64_t look = pc ? pc - 1 : 0;
  int have_dl = !(_ms_check_flags & MS_CHK_SYM_OFF) && dladdr((void *)(uintptr_t)look, &info) &&
                info.dli_fname;
  if (have_dl) {
    const char *m = strrchr(info.dli_fname, '/');
    snprintf(mod, sizeof mod, "%s", m ? m + 1 : info.dli_fname);
    off = (unsigned long)(pc - (uint64_t)(uintptr_t)info.dli_fbase);
    fn = info.dli_sname;
  }
  if (d) {
    Dwfl_Module *m = dw.addrmodule(d, look);
    if (m) {
      const char *name = dw.addrname(m, look);
      if (name) fn = name;
      Dwfl_Line *l = dw.getsrc(m, look);
      if (l) file = dw.lineinfo(l, NULL, &lineno, NULL, NULL, NULL);
    }
  }
  int k = snprintf(line, sizeof line, "    #%u %p", i, (void *)(uintptr_t)pc);
  if (fn) k += snprintf(line + k, sizeof line - (size_t)k, " in %s", fn);
  if (file && k < (int)sizeof line)
    k += snprintf(line + k, sizeof line - (size_t)k, " %s:%d", file, lineno);
  if (k < (int)sizeof line)
    snprintf(line + k, sizeof line - (size_t)k, " (%s+0x%lx)\n", mod, off);
  _ms_write_stderr(line);
}

static void print_stack_with(Dwfl *d, const char *title, uint32_t stack) {
  const uint64_t *frames;
  uint32_t depth = stack ? _ms_stack_get(stack, &frames, NULL) : 0;
  char line[160];
  snprintf(line, sizeof line, "  %s:%s\n", title, depth ? "" : " (unknown)");
  _ms_write_stderr(line);
  for (uint32_t i = 0; i < depth && i < 16; i++) print_frame(d, i, frames[i]);
}

/* Print one stack (also used by the leak report). */
void _ms_print_stack(const char *title, uint32_t stack) {
  Dwfl *d = sym_open();
  print_stack_with(d, title, stack);
  sym_close(d);
}

/* ---------------------------------------------------------------- reporting */

/* Is a report of this kind wanted? (double/invalid free and the guard word can be switched
 * off; the other kinds are only produced by checks that are on.) */
static int kind_enabled(unsigned kind) {
  switch (kind) {
    case MS_ERR_DOUBLE_FREE: return (_ms_check_flags & MS_CHK_DOUBLE_FREE) != 0;
    case MS_ERR_INVALID_FREE: return (_ms_check_flags & MS_CHK_INVALID_FREE) != 0;
    case MS_ERR_BUFFER_UNDERFLOW: return (_ms_check_flags & MS_CHK_UNDERFLOW) != 0;
    default: return 1;
  }
}

/* End the process after a fatal error: the dump first (MEMSCOPE_OUTPUT), so that the error and
 * the state around it survive, then SIGABRT with the default action. */
_Atomic int _ms_dying; /* set once a fatal error is being handled (the dump skips re-checks) */

void _ms_checks_die(void) {
  if (atomic_exchange(&_ms_dying, 1)) {
    for (;;) pause(); /* another thread is writing the dump and will abort the process */
  }
  if (_ms_options.output) {
    _ms_guard++;
    _ms_snapshot_write(NULL, MS_DUMP_REASON_EXIT);
    _ms_guard--;
  }
  _ms_write_stderr("memscope: aborting (the heap is damaged or the access cannot resume; "
                   "MEMSCOPE_CHECKS=action=continue records and carries on where it can)\n");
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGABRT, &dfl, NULL);
  abort();
}

/* Record and print one error. stack: where it happened (MS_STACK_HERE: capture now; 0:
 * unknown); alloc_stack / free_stack: 0 when unknown. addr: the bad pointer or access. */
void _ms_report_error_ex(unsigned kind, const void *addr, uint64_t size, uint32_t stack,
                         uint32_t alloc_stack, uint32_t free_stack, const char *detail) {
  if (_ms_guard) return; /* inside memscope itself: never recurse into reporting */
  if (!kind_enabled(kind)) return;
  _ms_guard++;
  uint64_t nth = atomic_fetch_add(&errors_total, 1);
  if (stack == MS_STACK_HERE) stack = _ms_stack_capture(0);
  char *det = detail ? _ms_xstrdup(detail) : NULL; /* owned here for the process's life */
  pthread_mutex_lock(&errors_mutex);
  if (n_errors < MAX_ERRORS) {
    ms_dump_error_t *e = &errors[n_errors++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->thread = _ms_self ? _ms_self->serial : 0;
    e->address = (uint64_t)(uintptr_t)addr;
    e->size = size;
    e->time_ns = _ms_now_ns();
    e->stack = stack;
    e->alloc_stack = alloc_stack ? alloc_stack : MS_DUMP_NONE;
    e->free_stack = free_stack ? free_stack : MS_DUMP_NONE;
    e->detail = det;
    det = NULL;
  }
  pthread_mutex_unlock(&errors_mutex);
  _ms_xfree(det);
  int fatal = (_ms_check_flags & MS_CHK_ABORT) ||
              (!(_ms_check_flags & MS_CHK_CONTINUE) && kind != MS_ERR_DOUBLE_FREE &&
               kind != MS_ERR_INVALID_FREE);
  if (nth < MAX_PRINTED || fatal) {
    pthread_mutex_lock(&print_mutex);
    char line[512];
    snprintf(line, sizeof line, "memscope: error: %s at %p (block size %llu) in pid %d\n",
             _ms_error_kind_name(kind), addr, (unsigned long long)size, (int)getpid());
    _ms_write_stderr(line);
    if (detail) {
      snprintf(line, sizeof line, "  %s\n", detail);
      _ms_write_stderr(line);
    }
    Dwfl *d = sym_open();
    print_stack_with(d, "at", stack);
    if (alloc_stack || kind != MS_ERR_INVALID_FREE) print_stack_with(d, "allocated at", alloc_stack);
    if (free_stack || kind == MS_ERR_USE_AFTER_FREE || kind == MS_ERR_DOUBLE_FREE)
      print_stack_with(d, "freed at", free_stack);
    sym_close(d);
    pthread_mutex_unlock(&print_mutex);
  } else if (nth == MAX_PRINTED) {
    _ms_write_stderr("memscope: further memory errors are counted but not printed\n");
  }
  _ms_guard--;
  if (fatal) _ms_checks_die();
}

/* The allocator core's entry (alloc/malloc.c live_tag): p is the pointer handed to free,
 * realloc or malloc_usable_size; record is the block's sample record when known. */
void _ms_report_error(unsigned kind, const void *p, uint64_t size, const void *record) {
  const ms_sample_t *r = record;
  const char *detail = NULL;
  switch (kind) {
    case MS_ERR_DOUBLE_FREE: detail = "the block was freed already"; break;
    case MS_ERR_INVALID_FREE:
      detail = "not a block memscope allocated (interior, foreign, stack or static pointer)";
      break;
    case MS_ERR_BUFFER_UNDERFLOW:
      detail = "the guard word in front of the block was overwritten (a write before its start, "
               "or past the end of the block below it)";
      break;
    default: break;
  }
  /* A sampled block keeps its record in its header, also once freed (mimalloc's free list
   * link overwrites only the first word of the block): take the allocation stack from there
   * when the tag word still says what the block was. */
  uint32_t alloc_stack = r ? r->stack : 0;
  if (!r && (kind == MS_ERR_DOUBLE_FREE || kind == MS_ERR_BUFFER_UNDERFLOW) && p &&
      ((uintptr_t)p & 7) == 0) {
    uint64_t tag = *_ms_tag_ptr(p);
    if (_ms_kind_sampled(_ms_tag_kind(tag))) {
      uint32_t id = _ms_block_stack(p, tag);
      if (_ms_stack_valid(id)) alloc_stack = id;
    }
  }
  _ms_report_error_ex(kind, p, size, MS_STACK_HERE, alloc_stack, 0, detail);
}

int _ms_errors_fill(ms_dump_t *d) {
  pthread_mutex_lock(&errors_mutex);
  d->errors = _ms_xcalloc(n_errors ? n_errors : 1, sizeof *d->errors);
  if (!d->errors) {
    pthread_mutex_unlock(&errors_mutex);
    return MS_ENOMEM;
  }
  memcpy(d->errors, errors, n_errors * sizeof *errors);
  d->n_errors = n_errors;
  pthread_mutex_unlock(&errors_mutex);
  return MS_OK;
}
