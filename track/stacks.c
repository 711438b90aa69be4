/* stacks.c — capturing stacks and deduplicating them into one shared table.
 *
 * Capture uses libunwind's unw_backtrace(), which follows DWARF CFI and so is correct for code
 * built without frame pointers (most of Debian), and caches unwind info per address. Frames
 * inside libmemscope.so itself (malloc, the tracker) are dropped from the top.
 *
 * The table is open addressing over a fixed, lazily-touched mmap (no resizing, so no
 * stop-the-world): an inserter claims an empty slot with one CAS, copies the frames into an
 * append-only arena, then publishes the slot's hash with a release store. Readers compare hash,
 * then frames. A slot seen "busy" is waited for a bounded time, then skipped (a duplicate entry
 * is harmless; a hang is not — e.g. in a fork child whose inserting thread is gone). A full
 * table or arena degrades to stack id 0 ("unknown"), never blocks. No lock anywhere.
 */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "track.h"

#define FRAMES_CAP (32u << 20) /* 32M frames, 256 MiB of address space, touched as used */
#define SLOT_BUSY 2u
#define MS_OWN_FRAMES 7 /* most frames of memscope itself above the program's caller */           /* published hashes are odd, so 2 is free to mean "busy" */

typedef struct stack_slot {
  _Atomic uint64_t hash;
  uint32_t offset; /* into the frames arena */
  uint16_t depth;
  uint16_t tag;
} stack_slot_t;

static stack_slot_t *slots;
static uint32_t *used_ids; /* ids in insertion order, so readers visit only used slots */
static uint64_t *frames_arena;
static _Atomic uint32_t frames_used;
static _Atomic uint32_t stacks_used;
static _Atomic uint32_t highest_id = 1;
static uint64_t own_start, own_end;

static void *map_lazy(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static int find_own(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  uint64_t base = *(uint64_t *)arg;
  if (info->dlpi_addr != base) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      own_start = info->dlpi_addr + ph->p_vaddr;
      own_end = own_start + ph->p_memsz;
    }
  }
  return 1;
}

void _ms_stacks_init(void) {
  slots = map_lazy(sizeof(stack_slot_t) * MS_STACK_CAP);
  used_ids = map_lazy(sizeof(uint32_t) * MS_STACK_CAP);
  frames_arena = map_lazy(sizeof(uint64_t) * FRAMES_CAP);
  if (slots) atomic_store(&slots[0].hash, 1); /* id 0 is reserved for "unknown" */
  /* per-thread unwind caches: no lock shared between threads, and the fastest policy measured
   * (bench/RESULTS.md, "Stack-capture cost") */
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  Dl_info info;
  if (dladdr((void *)&_ms_stacks_init, &info) && info.dli_fbase) {
    uint64_t base = (uint64_t)(uintptr_t)info.dli_fbase;
    dl_iterate_phdr(find_own, &base);
  }
}

int _ms_is_own_address(uint64_t addr) { return addr >= own_start && addr < own_end; }

static uint64_t hash_frames(const uint64_t *f, uint32_t depth, uint32_t tag) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)depth << 32) ^ tag;
  for (uint32_t i = 0; i < depth; i++) {
    h ^= f[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return h | 1;
}

uint32_t _ms_stack_intern(const uint64_t *frames, uint32_t depth, uint32_t tag) {
  if (!slots || !frames_arena) return 0;
  uint64_t h = hash_frames(frames, depth, tag);
  uint32_t mask = MS_STACK_CAP - 1;
  uint32_t i = (uint32_t)(h >> 20) & mask;
  for (uint32_t probe = 0; probe < MS_STACK_CAP; probe++, i = (i + 1) & mask) {
    stack_slot_t *s = &slots[i];
    uint64_t cur = atomic_load_explicit(&s->hash, memory_order_acquire);
    if (cur == 0) {
      if (atomic_load_explicit(&stacks_used, memory_order_relaxed) >= MS_STACK_CAP - MS_STACK_CAP / 8)
        return 0; /* keep the table sparse enough for short probes */
      uint64_t expected = 0;
      if (atomic_compare_exchange_strong(&s->hash, &expected, SLOT_BUSY)) {
        uint32_t off = atomic_fetch_add(&frames_used, depth);
        if ((uint64_t)off + depth > FRAMES_CAP) {
          /* arena full: publish as an empty stack that can never match a real one */
          s->depth = 0, s->offset = 0, s->tag = 0;
          atomic_store_explicit(&s->hash, 3, memory_order_release);
          return 0;
        }
        memcpy(frames_arena + off, frames, depth * sizeof(uint64_t));
        s->offset = off, s->depth = (uint16_t)depth, s->tag = (uint16_t)tag;
        atomic_store_explicit(&s->hash, h, memory_order_release);
        uint32_t k = atomic_fetch_add(&stacks_used, 1);
        if (used_ids) __atomic_store_n(&used_ids[k], i, __ATOMIC_RELEASE);
        uint32_t hi = atomic_load(&highest_id);
        while (i + 1 > hi && !atomic_compare_exchange_weak(&highest_id, &hi, i + 1)) {
        }
        return i;
      }
      cur = expected;
    }
    for (int spins = 0; cur == SLOT_BUSY && spins < 100000; spins++) {
      __builtin_ia32_pause();
      cur = atomic_load_explicit(&s->hash, memory_order_acquire);
    }
    if (cur == h && s->depth == depth && s->tag == tag &&
        memcmp(frames_arena + s->offset, frames, depth * sizeof(uint64_t)) == 0)
      return i;
  }
  return 0;
}

uint32_t _ms_stack_capture(uint32_t tag) {
  /* memscope's own frames on top: the capture, the tracker hook, _ms_alloc, malloc (plus
   * alloc_or_throw and operator new from C++). Ask for just that many more than the depth
   * kept: every extra frame walked costs ~8 ns, and deep stacks (interpreters) would pay
   * for frames that are then thrown away. */
  void *buf[MS_STACK_DEPTH_MAX + MS_OWN_FRAMES];
  uint32_t want = (uint32_t)_ms_options.stack_depth;
  int n = unw_backtrace(buf, (int)(want + MS_OWN_FRAMES));
  if (n <= 0) return 0;
  /* Drop the leading frames of the unwinder and of memscope itself (malloc, the tracker):
   * everything up to the last libmemscope frame of the first run of them. */
  int first = 0, seen_own = 0;
  for (int i = 0; i < n && i < 24; i++) {
    if (_ms_is_own_address((uint64_t)(uintptr_t)buf[i])) seen_own = 1, first = i + 1;
    else if (seen_own) break;
  }
  uint32_t depth = (uint32_t)(n - first);
  if (depth > want) depth = want;
  return _ms_stack_intern((const uint64_t *)(buf + first), depth, tag);
}

uint32_t _ms_stack_get(uint32_t id, const uint64_t **frames, uint32_t *tag) {
  if (!slots || id >= MS_STACK_CAP) return 0;
  uint64_t h = atomic_load_explicit(&slots[id].hash, memory_order_acquire);
  if (id == 0 || h == 0 || h == SLOT_BUSY) {
    *frames = NULL;
    if (tag) *tag = 0;
    return 0;
  }
  *frames = frames_arena + slots[id].offset;
  if (tag) *tag = slots[id].tag;
  return slots[id].depth;
}

/* Is id a published stack (safe to read)? */
int _ms_stack_valid(uint32_t id) {
  if (!slots || id == 0 || id >= MS_STACK_CAP) return 0;
  uint64_t h = atomic_load_explicit(&slots[id].hash, memory_order_acquire);
  return h != 0 && h != SLOT_BUSY && h != 3;
}

uint32_t _ms_stack_limit(void) { return atomic_load(&highest_id); }

/* The k-th stack inserted (k < _ms_stacks_count()), or 0 while its insert is finishing. */
uint32_t _ms_stack_nth(uint32_t k) {
  return used_ids && k < MS_STACK_CAP ? __atomic_load_n(&used_ids[k], __ATOMIC_ACQUIRE) : 0;
}
uint64_t _ms_stacks_count(void) { return atomic_load(&stacks_used); }
