/* stacks.c — capturing stacks and deduplicating them into one shared table.
 *
 * Capture uses _ms_unwind() (track/stack_walk.c: libgcc's DWARF unwinder, which is correct for
 * code built without frame pointers and opens no descriptor). Frames inside libmemscope.so
 * itself (malloc, the tracker) are dropped from the top.
 *
 * The table is open addressing over a fixed, lazily-touched mmap (no resizing, so no
 * stop-the-world): an inserter claims an empty slot with one CAS, copies the frames into an
 * append-only arena, then publishes the slot's hash with a release store. Readers compare hash,
 * then frames. A slot seen "busy" is waited for a bounded time, then skipped (a duplicate entry
 * is harmless; a hang is not — e.g. in a fork child whose inserting thread is gone). A full
 * table or arena degrades to stack id 0 ("unknown"), never blocks. No lock anywhere.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "stack_walk.h"
#include "track.h"

#define FRAMES_CAP (32u << 20) /* 32M frames, 256 MiB of address space, touched as used */
#define SLOT_BUSY 2u     /* published hashes are odd, so 2 is free to mean "busy" */
#define SLOT_DEAD 3u     /* claimed, but the frames arena was full: never matches */
#define MS_OWN_FRAMES 7  /* most frames of memscope itself above the program's caller */

/* Stack ids are dense (1, 2, 3 ... in insertion order), not slot positions: the per-site
 * arrays indexed by id (track/sites.c) are then touched page by page as stacks appear, instead
 * of one random page per stack across their whole reserved range. */
typedef struct stack_slot {
  _Atomic uint64_t hash;
  uint32_t offset; /* into the frames arena */
  uint16_t depth;
  uint16_t tag;
  uint32_t id;     /* dense id, written before the hash is published */
  uint32_t pad_;
} stack_slot_t;

static stack_slot_t *slots;
static uint32_t *id_slot; /* dense id - 1 -> slot index (0 while the insert is finishing) */
static uint64_t *frames_arena;
static _Atomic uint32_t frames_used;
static _Atomic uint32_t stacks_used;
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
  id_slot = map_lazy(sizeof(uint32_t) * MS_STACK_CAP);
  frames_arena = map_lazy(sizeof(uint64_t) * FRAMES_CAP);
  if (slots) atomic_store(&slots[0].hash, SLOT_DEAD); /* slot 0 is never a stack */
  _ms_unwind_init();
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
  if (!slots || !frames_arena || !id_slot) return 0;
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
          /* arena full: publish as a dead slot that can never match a real stack */
          s->depth = 0, s->offset = 0, s->tag = 0, s->id = 0;
          atomic_store_explicit(&s->hash, SLOT_DEAD, memory_order_release);
          return 0;
        }
        memcpy(frames_arena + off, frames, depth * sizeof(uint64_t));
        uint32_t k = atomic_fetch_add(&stacks_used, 1); /* < MS_STACK_CAP: checked above */
        s->offset = off, s->depth = (uint16_t)depth, s->tag = (uint16_t)tag, s->id = k + 1;
        __atomic_store_n(&id_slot[k], i, __ATOMIC_RELEASE);
        atomic_store_explicit(&s->hash, h, memory_order_release);
        return k + 1;
      }
      cur = expected;
    }
    for (int spins = 0; cur == SLOT_BUSY && spins < 100000; spins++) {
      __builtin_ia32_pause();
      cur = atomic_load_explicit(&s->hash, memory_order_acquire);
    }
    if (cur == h && s->depth == depth && s->tag == tag &&
        memcmp(frames_arena + s->offset, frames, depth * sizeof(uint64_t)) == 0)
      return s->id;
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
  int n = _ms_unwind(buf, (int)(want + MS_OWN_FRAMES));
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

/* The slot of a published stack id, or NULL. */
static stack_slot_t *slot_of(uint32_t id) {
  if (!slots || !id_slot || id == 0 || id > atomic_load_explicit(&stacks_used, memory_order_acquire))
    return NULL;
  uint32_t i = __atomic_load_n(&id_slot[id - 1], __ATOMIC_ACQUIRE);
  if (i == 0) return NULL; /* the insert is finishing */
  uint64_t h = atomic_load_explicit(&slots[i].hash, memory_order_acquire);
  return (h == 0 || h == SLOT_BUSY || h == SLOT_DEAD) ? NULL : &slots[i];
}

uint32_t _ms_stack_get(uint32_t id, const uint64_t **frames, uint32_t *tag) {
  stack_slot_t *s = slot_of(id);
  *frames = s ? frames_arena + s->offset : NULL;
  if (tag) *tag = s ? s->tag : 0;
  return s ? s->depth : 0;
}

/* Is id a published stack (safe to read)? */
int _ms_stack_valid(uint32_t id) { return slot_of(id) != NULL; }

/* Ids in use are 1 .. _ms_stack_limit() - 1. */
uint32_t _ms_stack_limit(void) { return atomic_load(&stacks_used) + 1; }
uint64_t _ms_stacks_count(void) { return atomic_load(&stacks_used); }
