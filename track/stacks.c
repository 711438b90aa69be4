/* stacks.c — capturing stacks and deduplicating them into one shared table.
 *
 * Capture uses _ms_unwind_l0() (track/stack_walk.c: the cached DWARF CFI walker, correct for
 * code built without frame pointers, opening no descriptor) with the thread's rule caches, and
 * drops the frames of libmemscope.so itself (malloc, the tracker) from the top; the stack then
 * goes through the thread's stack-id cache before the shared table.
 *
 * The table is open addressing on the stack's 64-bit hash, holding (hash, id) pairs; a stack's
 * frames go to an append-only arena and its (offset, depth, tag) to a dense array by id. The
 * table starts small and doubles at half full, so its memory follows the number of stacks (a
 * fixed table of 1M slots, touched at random, made a python run resident in 21 MB of it for 14k
 * stacks). Lookups take no lock: they read the current table, whose slots are published hash
 * last. Inserts (a new stack, rare: the thread's own id cache answers repeats) take a small
 * spinlock, look again, append, and grow the table by building a larger copy and publishing
 * it; an old table stays readable (never unmapped; all of them together are smaller than the
 * current one), and a reader that missed a stack in it finds it when it comes to insert. The
 * lock is waited for a bounded time only (a signal handler capturing a stack on the thread
 * that holds it, or a fork child whose inserting thread is gone): then the stack is "unknown"
 * (id 0). A full arena or id space also degrades to id 0, never blocks.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "stack_walk.h"
#include "track.h"

#define FRAMES_CAP (32u << 20) /* 32M frames, 256 MiB of address space, touched as used */
#define TABLE_MIN_BITS 12      /* 4096 slots to start */
#define MS_OWN_FRAMES 7  /* most frames of memscope itself above the program's caller */

typedef struct stack_slot {
  _Atomic uint64_t hash; /* 0: empty; published last */
  uint32_t id;
  uint32_t pad_;
} stack_slot_t;

typedef struct stack_table {
  uint32_t bits;
  stack_slot_t slots[];
} stack_table_t;

/* Stack ids are dense (1, 2, 3 ... in insertion order): the per-site arrays indexed by id
 * (track/sites.c) are then touched page by page as stacks appear. */
typedef struct stack_info {
  uint32_t offset; /* into the frames arena */
  uint16_t depth;
  uint16_t tag;
} stack_info_t;

static _Atomic(stack_table_t *) table;
static stack_info_t *infos;      /* by id - 1 */
static uint64_t *frames_arena;
static uint32_t frames_used;     /* under the insert lock */
static _Atomic uint32_t stacks_used; /* published ids are 1 .. stacks_used */
static _Atomic int insert_lock;
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

static stack_table_t *table_new(uint32_t bits) {
  size_t bytes = sizeof(stack_table_t) + sizeof(stack_slot_t) * ((size_t)1 << bits);
  stack_table_t *t = map_lazy(bytes);
  if (t) t->bits = bits;
  return t;
}

void _ms_stacks_init(void) {
  atomic_store(&table, table_new(TABLE_MIN_BITS));
  infos = map_lazy(sizeof(stack_info_t) * MS_STACK_CAP);
  frames_arena = map_lazy(sizeof(uint64_t) * FRAMES_CAP);
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

static int same_stack(uint32_t id, const uint64_t *frames, uint32_t depth, uint32_t tag) {
  const stack_info_t *in = &infos[id - 1];
  return in->depth == depth && in->tag == tag &&
         memcmp(frames_arena + in->offset, frames, depth * sizeof(uint64_t)) == 0;
}

/* The id of a stack in table t, or 0. */
static uint32_t lookup(stack_table_t *t, uint64_t h, const uint64_t *frames, uint32_t depth,
                       uint32_t tag) {
  uint32_t mask = ((uint32_t)1 << t->bits) - 1;
  for (uint32_t i = (uint32_t)(h >> 20) & mask;; i = (i + 1) & mask) {
    stack_slot_t *s = &t->slots[i];
    uint64_t cur = atomic_load_explicit(&s->hash, memory_order_acquire);
    if (cur == 0) return 0;
    if (cur == h && same_stack(s->id, frames, depth, tag)) return s->id;
  }
}

static void put_slot(stack_table_t *t, uint64_t h, uint32_t id) {
  uint32_t mask = ((uint32_t)1 << t->bits) - 1;
  uint32_t i = (uint32_t)(h >> 20) & mask;
  while (atomic_load_explicit(&t->slots[i].hash, memory_order_relaxed) != 0) i = (i + 1) & mask;
  t->slots[i].id = id;
  atomic_store_explicit(&t->slots[i].hash, h, memory_order_release);
}

/* Under the insert lock: a table twice as large with every stack of t, published. The old one
 * stays mapped for readers still probing it. */
static stack_table_t *grow(stack_table_t *t) {
  stack_table_t *n = table_new(t->bits + 1);
  if (!n) return t;
  for (uint32_t i = 0; i < ((uint32_t)1 << t->bits); i++) {
    uint64_t h = atomic_load_explicit(&t->slots[i].hash, memory_order_relaxed);
    if (h) put_slot(n, h, t->slots[i].id);
  }
  atomic_store_explicit(&table, n, memory_order_release);
  return n;
}

static int lock_insert(void) {
  for (long spins = 0; atomic_exchange_explicit(&insert_lock, 1, memory_order_acquire); spins++) {
    if (spins > 2000000) return 0; /* ~ms: see the comment at the top */
    __builtin_ia32_pause();
  }
  return 1;
}

uint32_t _ms_stack_intern(const uint64_t *frames, uint32_t depth, uint32_t tag) {
  stack_table_t *t = atomic_load_explicit(&table, memory_order_acquire);
  if (!t || !infos || !frames_arena) return 0;
  uint64_t h = hash_frames(frames, depth, tag);
  uint32_t id = lookup(t, h, frames, depth, tag);
  if (id || !lock_insert()) return id;
  t = atomic_load_explicit(&table, memory_order_relaxed);
  id = lookup(t, h, frames, depth, tag); /* inserted meanwhile, or in a newer table */
  uint32_t k = atomic_load_explicit(&stacks_used, memory_order_relaxed);
  if (!id && k < MS_STACK_CAP - 1 && (uint64_t)frames_used + depth <= FRAMES_CAP) {
    if (2 * (uint64_t)(k + 1) > ((uint64_t)1 << t->bits)) t = grow(t);
    if (2 * (uint64_t)(k + 1) <= ((uint64_t)1 << t->bits)) { /* (a failed grow: stay sparse) */
      memcpy(frames_arena + frames_used, frames, depth * sizeof(uint64_t));
      infos[k] = (stack_info_t){frames_used, (uint16_t)depth, (uint16_t)tag};
      frames_used += depth;
      id = k + 1;
      atomic_store_explicit(&stacks_used, id, memory_order_release); /* _ms_stack_get may read it */
      put_slot(t, h, id);
    }
  }
  atomic_store_explicit(&insert_lock, 0, memory_order_release);
  return id;
}

/* fork child: an insert in progress in another thread will never finish here */
void _ms_stacks_fork_child(void) { atomic_store(&insert_lock, 0); }

uint32_t _ms_stack_capture(uint32_t tag) {
  /* memscope's own frames on top: the capture, the tracker hook, _ms_alloc, malloc (plus
   * alloc_or_throw and operator new from C++). Ask for just that many more than the depth
   * kept: every extra frame walked costs ~8 ns, and deep stacks (interpreters) would pay
   * for frames that are then thrown away. */
  void *buf[MS_STACK_DEPTH_MAX + MS_OWN_FRAMES];
  uint32_t want = (uint32_t)_ms_options.stack_depth;
  ms_thread_t *t = _ms_self;
  int own_caches = t && t->index != 0; /* not the orphan block, which threads share */
  int n = _ms_unwind_l0(buf, (int)(want + MS_OWN_FRAMES), own_caches ? &t->unwind : NULL);
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
  const uint64_t *frames = (const uint64_t *)(buf + first);
  if (!own_caches) return _ms_stack_intern(frames, depth, tag);
  /* The thread's own cache of stack ids by hash: a repeated stack costs its hash and one
   * load, not a probe of the shared table and a compare with its frames there (which are
   * rarely still in the CPU's cache). The 64-bit hash covers every frame, the depth and the
   * tag; two different stacks of one thread would have to collide in all 64 bits. */
  uint64_t h = hash_frames(frames, depth, tag);
  uint64_t *e = &t->stack_l0[2 * ((h >> 17) & (MS_STACK_L0 - 1))];
  if (e[0] == h) return (uint32_t)e[1];
  uint32_t id = _ms_stack_intern(frames, depth, tag);
  if (id) _ms_pair_put(e, h, id);
  return id;
}

uint32_t _ms_stack_get(uint32_t id, const uint64_t **frames, uint32_t *tag) {
  int ok = _ms_stack_valid(id);
  *frames = ok ? frames_arena + infos[id - 1].offset : NULL;
  if (tag) *tag = ok ? infos[id - 1].tag : 0;
  return ok ? infos[id - 1].depth : 0;
}

/* Is id a published stack (safe to read)? */
int _ms_stack_valid(uint32_t id) {
  return infos && id != 0 && id <= atomic_load_explicit(&stacks_used, memory_order_acquire);
}

/* Ids in use are 1 .. _ms_stack_limit() - 1. */
uint32_t _ms_stack_limit(void) { return atomic_load(&stacks_used) + 1; }
uint64_t _ms_stacks_count(void) { return atomic_load(&stacks_used); }
