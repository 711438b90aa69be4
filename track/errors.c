/* errors.c — memory errors found by the allocator (double free, invalid free, header
 * corruption): kept for dumps (bounded), counted, and reported on stderr at once with the
 * stacks memscope knows: where the error happened, and for sampled blocks where the block was
 * allocated. Frames are named in-process with dladdr (exported symbols); the converter names
 * them fully from DWARF.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "track.h"

#define MAX_ERRORS 1024
#define MAX_PRINTED 20

static ms_dump_error_t errors[MAX_ERRORS];
static uint32_t n_errors;
static _Atomic uint64_t errors_total;
static pthread_mutex_t errors_mutex = PTHREAD_MUTEX_INITIALIZER;

static const char *const kind_names[] = {"double_free", "invalid_free", "buffer_overflow",
                                         "use_after_free", "buffer_underflow"};

void _ms_errors_lock(int lock) {
  if (lock) pthread_mutex_lock(&errors_mutex);
  else pthread_mutex_unlock(&errors_mutex);
}

uint64_t _ms_errors_count(void) { return atomic_load(&errors_total); }

const char *_ms_error_kind_name(unsigned kind) {
  return kind < sizeof kind_names / sizeof *kind_names ? kind_names[kind] : "unknown";
}

/* Print one stack, one frame a line: "    #i 0xADDR function+off (module)". */
void _ms_print_stack(const char *title, uint32_t stack) {
  const uint64_t *frames;
  uint32_t depth = _ms_stack_get(stack, &frames, NULL);
  char line[512];
  snprintf(line, sizeof line, "  %s:%s\n", title, depth ? "" : " (unknown)");
  _ms_write_stderr(line);
  for (uint32_t i = 0; i < depth && i < 16; i++) {
    Dl_info info;
    void *addr = (void *)(uintptr_t)frames[i];
    if (dladdr((char *)addr - 1, &info) && info.dli_fname) {
      const char *mod = strrchr(info.dli_fname, '/');
      mod = mod ? mod + 1 : info.dli_fname;
      if (info.dli_sname)
        snprintf(line, sizeof line, "    #%u %p %s+0x%lx (%s)\n", i, addr, info.dli_sname,
                 (unsigned long)((char *)addr - (char *)info.dli_saddr), mod);
      else
        snprintf(line, sizeof line, "    #%u %p (%s+0x%lx)\n", i, addr, mod,
                 (unsigned long)((char *)addr - (char *)info.dli_fbase));
    } else {
      snprintf(line, sizeof line, "    #%u %p\n", i, addr);
    }
    _ms_write_stderr(line);
  }
}

void _ms_report_error(unsigned kind, const void *p, uint64_t size, const void *record) {
  if (_ms_guard) return; /* inside memscope itself: never recurse into reporting */
  _ms_guard++;
  uint64_t nth = atomic_fetch_add(&errors_total, 1);
  uint32_t stack = _ms_stack_capture(0);
  const ms_sample_t *r = record;
  pthread_mutex_lock(&errors_mutex);
  if (n_errors < MAX_ERRORS) {
    ms_dump_error_t *e = &errors[n_errors++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->thread = _ms_self ? _ms_self->index : 0;
    e->address = (uint64_t)(uintptr_t)p;
    e->size = size;
    e->time_ns = _ms_now_ns();
    e->stack = stack;
    e->alloc_stack = r ? r->stack : MS_DUMP_NONE;
    e->free_stack = MS_DUMP_NONE;
  }
  pthread_mutex_unlock(&errors_mutex);
  if (nth < MAX_PRINTED) {
    char line[256];
    snprintf(line, sizeof line, "memscope: error: %s of %p (size %llu) in pid %d\n",
             _ms_error_kind_name(kind), p, (unsigned long long)size, (int)getpid());
    _ms_write_stderr(line);
    _ms_print_stack("at", stack);
    if (r) _ms_print_stack("allocated at", r->stack);
  } else if (nth == MAX_PRINTED) {
    _ms_write_stderr("memscope: further memory errors are counted but not printed\n");
  }
  _ms_guard--;
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
