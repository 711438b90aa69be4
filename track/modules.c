/* modules.c — the module map (executable and shared libraries: path, load bias, executable
 * range, GNU build-id) and the module-crossing table: sampled memory allocated from code in one
 * module and freed from code in another, the C version of "FFI boundary" tracking.
 *
 * The map is cached in a fixed array read without a lock; it is rebuilt (under a mutex, with
 * dl_iterate_phdr) only when an address falls outside every known module, at most once per
 * dlopen generation, so frees do not take the loader's lock.
 */
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "track.h"

#define MAX_MODULES 512
#define CROSS_CAP 1024

typedef struct module {
  uint64_t base, start, end;
  char path[256];
  uint8_t build_id[32];
  uint32_t build_id_len;
} module_t;

static module_t modules[MAX_MODULES];
static _Atomic uint32_t n_modules;
static pthread_mutex_t modules_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t last_refresh_ns;

typedef struct crossing {
  _Atomic uint64_t key; /* (alloc+1) << 32 | (free+1); 0 = empty */
  _Atomic uint64_t count, bytes;
} crossing_t;
static crossing_t crossings[CROSS_CAP];

void _ms_modules_lock(int lock) {
  if (lock) pthread_mutex_lock(&modules_mutex);
  else pthread_mutex_unlock(&modules_mutex);
}

static void read_build_id(struct dl_phdr_info *info, module_t *m) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      const char *name = p + sizeof *nh;
      const char *desc = name + ((nh->n_namesz + 3) & ~3u);
      if (desc + nh->n_descsz > end) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
        m->build_id_len = nh->n_descsz > 32 ? 32 : nh->n_descsz;
        memcpy(m->build_id, desc, m->build_id_len);
        return;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
}

static int add_module(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  uint32_t *count = arg;
  if (*count >= MAX_MODULES) return 1;
  module_t m;
  memset(&m, 0, sizeof m);
  m.base = info->dlpi_addr;
  m.start = UINT64_MAX;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uint64_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
    if (s < m.start) m.start = s;
    if (e > m.end) m.end = e;
  }
  if (m.start == UINT64_MAX) return 0;
  const char *name = info->dlpi_name;
  if (!name || !*name) {
    /* the main program (or the vDSO, which has a name on Linux) */
    ssize_t n = readlink("/proc/self/exe", m.path, sizeof m.path - 1);
    m.path[n > 0 ? n : 0] = 0;
  } else {
    strncpy(m.path, name, sizeof m.path - 1);
  }
  read_build_id(info, &m);
  /* keep indexes stable: update an existing entry with the same base, else append */
  for (uint32_t i = 0; i < *count; i++)
    if (modules[i].base == m.base && modules[i].start == m.start) return 0;
  modules[*count] = m;
  ++*count;
  return 0;
}

static void refresh(void) {
  pthread_mutex_lock(&modules_mutex);
  uint32_t count = atomic_load(&n_modules);
  dl_iterate_phdr(add_module, &count);
  atomic_store_explicit(&n_modules, count, memory_order_release);
  pthread_mutex_unlock(&modules_mutex);
}

static uint32_t lookup(uint64_t addr) {
  uint32_t n = atomic_load_explicit(&n_modules, memory_order_acquire);
  for (uint32_t i = 0; i < n; i++)
    if (addr >= modules[i].start && addr < modules[i].end) return i;
  return MS_DUMP_NONE;
}

uint32_t _ms_module_of(uint64_t addr) {
  uint32_t i = lookup(addr);
  if (i != MS_DUMP_NONE) return i;
  /* Unknown address: a library was loaded since the last refresh, or the address is in no
   * module (JIT code). Refresh at most every 100 ms so unknown addresses stay cheap. */
  uint64_t now = _ms_now_ns(), last = atomic_load(&last_refresh_ns);
  if (last && now - last < 100000000ull) return MS_DUMP_NONE;
  if (!atomic_compare_exchange_strong(&last_refresh_ns, &last, now ? now : 1)) return MS_DUMP_NONE;
  refresh();
  return lookup(addr);
}

int _ms_modules_fill(ms_dump_t *d) {
  refresh();
  uint32_t n = atomic_load(&n_modules);
  d->modules = _ms_xcalloc(n ? n : 1, sizeof *d->modules);
  if (!d->modules) return MS_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    ms_dump_module_t *o = &d->modules[i];
    o->path = _ms_xstrdup(modules[i].path);
    o->base = modules[i].base, o->start = modules[i].start, o->end = modules[i].end;
    memcpy(o->build_id, modules[i].build_id, sizeof o->build_id);
    o->build_id_len = modules[i].build_id_len;
  }
  d->n_modules = n;
  return MS_OK;
}

void _ms_crossing_add(uint32_t am, uint32_t fm, uint64_t bytes, uint64_t count) {
  uint64_t key = ((uint64_t)(am + 1) << 32) | (uint64_t)(fm + 1);
  uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 54) % CROSS_CAP;
  for (uint32_t probe = 0; probe < CROSS_CAP; probe++, i = (i + 1) % CROSS_CAP) {
    uint64_t cur = atomic_load(&crossings[i].key);
    if (cur == 0) {
      uint64_t expected = 0;
      if (atomic_compare_exchange_strong(&crossings[i].key, &expected, key)) cur = key;
      else cur = expected;
    }
    if (cur == key) {
      atomic_fetch_add_explicit(&crossings[i].count, count, memory_order_relaxed);
      atomic_fetch_add_explicit(&crossings[i].bytes, bytes, memory_order_relaxed);
      return;
    }
  }
}

int _ms_crossings_fill(ms_dump_t *d) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < CROSS_CAP; i++) n += atomic_load(&crossings[i].key) != 0;
  d->crossings = _ms_xcalloc(n ? n : 1, sizeof *d->crossings);
  if (!d->crossings) return MS_ENOMEM;
  uint32_t k = 0;
  for (uint32_t i = 0; i < CROSS_CAP && k < n; i++) {
    uint64_t key = atomic_load(&crossings[i].key);
    if (!key) continue;
    uint32_t am = (uint32_t)(key >> 32) - 1, fm = (uint32_t)key - 1;
    if (am >= d->n_modules || fm >= d->n_modules) continue;
    d->crossings[k].alloc_module = am;
    d->crossings[k].free_module = fm;
    d->crossings[k].count = _ms_count_out(atomic_load(&crossings[i].count));
    d->crossings[k].bytes = atomic_load(&crossings[i].bytes);
    k++;
  }
  d->n_crossings = k;
  return MS_OK;
}
