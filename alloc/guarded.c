/* guarded.c — guard-page allocations (GWP-ASan style): one allocation in MEMSCOPE_CHECKS uaf=RATE
 * is served from a dedicated pool where it sits, right-aligned, against an inaccessible page, and
 * its page is made inaccessible when it is freed. The faulting access itself is caught by a
 * SIGSEGV handler, which reports use_after_free / buffer_overflow with the stack of the access,
 * of the allocation and of the free, then aborts (a faulting access cannot be resumed).
 *
 * Pool layout (guard-slots=N slots of one page each, PROT_NONE except live data pages):
 *
 *     | guard | slot 0 data | guard | slot 1 data | guard | ... | slot N-1 data | guard |
 *                  +-------------------------------+
 *                  | unused  | header | user data  |<- page end; overflow -> next guard page
 *                  +-------------------------------+
 *
 * The user pointer is the page end minus the size rounded up to the block's alignment (8 for
 * requests under 16 bytes, else 16), so an overflow of more than the alignment slack faults at
 * once and a smaller one damages the canary (checks.h), found at free. The normal memscope
 * header sits in front of the user data, so free/realloc/malloc_usable_size treat the block like
 * any other and only the final release comes back here (the GUARDED tag bit). Freed slots are
 * reused oldest first, so a freed block stays inaccessible as long as possible.
 *
 * Slot metadata (stacks, thread ids, state) lives outside the pool and is read lock-free by the
 * signal handler. Taking and returning slots uses a small spin lock: this is the sampled path
 * (and an mprotect per allocation and free), never the common one.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "checks.h"
#include "entry.h"
#include "stack_walk.h"
#include "internal.h"
#include "track.h"

uintptr_t _ms_gp_base, _ms_gp_span;


enum { SLOT_EMPTY = 0, SLOT_BUSY = 1, SLOT_LIVE = 2, SLOT_FREED = 3 };

typedef struct gslot {
  _Atomic uint32_t state;
  uint32_t alloc_stack, free_stack;
  int32_t alloc_tid, free_tid;
  uintptr_t p;
  uint64_t size;
} gslot_t;

static size_t ps;
static gslot_t *slots;
static uint32_t nslots, next_unused;
static uint32_t *fifo; /* freed slots, oldest first */
static uint32_t fifo_head, fifo_count;
static _Atomic int pool_lock;
static struct sigaction prev_segv, prev_bus;

__thread int64_t _ms_gp_countdown __attribute__((tls_model("initial-exec")));
static __thread uint64_t t_rng __attribute__((tls_model("initial-exec")));

static void lock(void) {
  while (atomic_exchange_explicit(&pool_lock, 1, memory_order_acquire))
    while (atomic_load_explicit(&pool_lock, memory_order_relaxed)) __builtin_ia32_pause();
}
static void unlock(void) { atomic_store_explicit(&pool_lock, 0, memory_order_release); }

static inline uintptr_t data_page(uint32_t idx) { return _ms_gp_base + (2 * (uintptr_t)idx + 1) * ps; }

/* Slot of an address in the pool, and whether it is on the slot's data page. -1: none. A block
 * pointer is looked up as p - 1 (a header byte): a malloc(0) block's p is its page's end. */
static int64_t slot_of(uintptr_t a, int *on_data) {
  uintptr_t pg = (a - _ms_gp_base) / ps;
  *on_data = (int)(pg & 1);
  if (!(pg & 1)) return -1;
  return (int64_t)((pg - 1) / 2);
}

/* A fresh countdown: uniform in [1, 2*rate-1], so one allocation in `rate` on average, without
 * a pattern a program could fall into step with. */
static int64_t draw(void) {
  uint64_t rate = _ms_uaf_rate;
  if (rate <= 1) return 1;
  if (!t_rng) t_rng = ((uint64_t)(uintptr_t)&t_rng * 0x9E3779B97F4A7C15ull) | 1;
  uint64_t x = t_rng;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  t_rng = x;
  return (int64_t)(1 + (x * 0x2545F4914F6CDD1Dull) % (2 * rate - 1));
}

void *_ms_guarded_alloc_slow(size_t n, size_t h, size_t align, int zero) {
  _ms_gp_countdown = draw();
  if (!slots || align > 16) return NULL;
  size_t al = h == 8 ? 8 : 16;
  size_t rn = (n + al - 1) & ~(al - 1);
  if (rn + h > ps || rn < n) return NULL;

  uint32_t idx;
  lock();
  if (next_unused < nslots) {
    idx = next_unused++;
  } else if (fifo_count) {
    idx = fifo[fifo_head];
    fifo_head = (fifo_head + 1) % nslots;
    fifo_count--;
  } else {
    unlock();
    return NULL; /* every slot holds a live block: serve this one normally */
  }
  atomic_store_explicit(&slots[idx].state, SLOT_BUSY, memory_order_relaxed);
  unlock();

  uintptr_t page = data_page(idx);
  if (mprotect((void *)page, ps, PROT_READ | PROT_WRITE) != 0) {
    lock();
    atomic_store(&slots[idx].state, SLOT_FREED);
    fifo[(fifo_head + fifo_count++) % nslots] = idx;
    unlock();
    return NULL;
  }
  uintptr_t p = page + ps - rn;
  if (zero) memset((void *)(p - h), 0, rn + h);
  gslot_t *s = &slots[idx];
  _ms_guard++;
  s->alloc_stack = _ms_stack_capture(0);
  _ms_guard--;
  s->alloc_tid = gettid();
  s->free_stack = 0;
  s->free_tid = 0;
  s->p = p;
  s->size = n;
  atomic_store_explicit(&s->state, SLOT_LIVE, memory_order_release);
  return (void *)(p - h);
}

int _ms_guarded_stacks(const void *p, uint32_t *alloc_stack, uint32_t *free_stack) {
  int on_data;
  int64_t i = _ms_guarded_contains(p) ? slot_of((uintptr_t)p - 1, &on_data) : -1;
  if (i < 0 || (uint64_t)i >= nslots || slots[i].p != (uintptr_t)p) return -1;
  *alloc_stack = slots[i].alloc_stack;
  *free_stack = slots[i].free_stack;
  return 0;
}

int _ms_guarded_validate(const void *p, int report) {
  int on_data;
  int64_t i = slot_of((uintptr_t)p - 1, &on_data);
  gslot_t *s = (i >= 0 && (uint64_t)i < nslots) ? &slots[i] : NULL;
  uint32_t st = s ? atomic_load_explicit(&s->state, memory_order_acquire) : SLOT_EMPTY;
  if (s && st == SLOT_LIVE && s->p == (uintptr_t)p) return 1;
  if (!report) return 0;
  char detail[160];
  if (s && st == SLOT_FREED && s->p == (uintptr_t)p) {
    snprintf(detail, sizeof detail, "the %llu-byte block %p (guard-page pool) was freed already",
             (unsigned long long)s->size, p);
    _ms_report_error_ex(MS_ERR_DOUBLE_FREE, p, s->size, UINT32_MAX, s->alloc_stack,
                        s->free_stack, detail);
  } else if (s && (st == SLOT_LIVE || st == SLOT_FREED)) {
    snprintf(detail, sizeof detail, "%p is %lld bytes into the %llu-byte block %p (guard-page pool)",
             p, (long long)((uintptr_t)p - s->p), (unsigned long long)s->size, (void *)s->p);
    _ms_report_error_ex(MS_ERR_INVALID_FREE, p, 0, UINT32_MAX, s->alloc_stack, s->free_stack,
                        detail);
  } else {
    _ms_report_error_ex(MS_ERR_INVALID_FREE, p, 0, UINT32_MAX, 0, 0,
                        "pointer into memscope's guard-page pool that no allocation returned");
  }
  return 0;
}

void _ms_guarded_release(void *p, uint64_t tag) {
  (void)tag;
  int on_data;
  int64_t i = slot_of((uintptr_t)p - 1, &on_data);
  if (i < 0 || (uint64_t)i >= nslots) return;
  gslot_t *s = &slots[i];
  _ms_guard++;
  s->free_stack = _ms_stack_capture(0);
  _ms_guard--;
  s->free_tid = gettid();
  atomic_store_explicit(&s->state, SLOT_FREED, memory_order_release);
  mprotect((void *)data_page((uint32_t)i), ps, PROT_NONE);
  lock();
  fifo[(fifo_head + fifo_count++) % nslots] = (uint32_t)i;
  unlock();
}

size_t _ms_guarded_usable(const void *p, uint64_t tag) {
  (void)tag;
  return (size_t)(-(uintptr_t)p & (ps - 1));
}

/* realloc of a guarded block always moves it (the slot has no room to grow in place). */
void *_ms_guarded_realloc(void *p, uint64_t tag, size_t n, void *caller) {
  void *q = _ms_alloc(n, 0, 0);
  if (!q) return NULL;
  uint64_t keep = _ms_guarded_usable(p, tag); /* every usable byte is the program's */
  memcpy(q, p, keep < n ? keep : n);
  uint64_t qtag = *_ms_tag_ptr(q);
  if (_ms_kind_sampled(_ms_tag_kind(tag)) || _ms_kind_sampled(_ms_tag_kind(qtag)) ||
      (tag & MS_TAG_NAMED)) {
    _ms_guard++;
    _ms_track_realloc(p, tag, q, n);
    _ms_guard--;
  }
  _ms_free(p, caller);
  return q;
}

/* ---------------------------------------------------------------- the fault handler */

/* The stack of the faulting access: unwind from the handler, start at the interrupted frame
 * (whose address is the faulting pc; stored +1 so that the usual "return address - 1" lookup
 * lands on the faulting instruction). */
static uint32_t fault_stack(uintptr_t pc) {
  void *buf[MS_STACK_DEPTH_MAX + 24];
  int n = _ms_unwind(buf, (int)(sizeof buf / sizeof *buf));
  int start = -1;
  for (int i = 0; i < n; i++)
    if ((uintptr_t)buf[i] == pc || (uintptr_t)buf[i] == pc + 1) {
      start = i;
      break;
    }
  uint64_t frames[MS_STACK_DEPTH_MAX];
  uint32_t want = (uint32_t)_ms_options.stack_depth, depth = 0;
  frames[depth++] = (uint64_t)pc + 1;
  if (start >= 0)
    for (int i = start + 1; i < n && depth < want; i++) frames[depth++] = (uint64_t)(uintptr_t)buf[i];
  return _ms_stack_intern(frames, depth, 0);
}

static void chain(int sig, siginfo_t *si, void *uc, const struct sigaction *prev) {
  if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
    prev->sa_sigaction(sig, si, uc);
    return;
  }
  if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  /* default action: restore it and return; the access faults again and the process dies of
   * the signal as it would have without memscope */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, NULL);
}

static void on_fault(int sig, siginfo_t *si, void *ucv) {
  uintptr_t a = (uintptr_t)si->si_addr;
  int saved_errno = errno;
  if (!_ms_guarded_contains((void *)a) || !slots) {
    chain(sig, si, ucv, sig == SIGBUS ? &prev_bus : &prev_segv);
    errno = saved_errno;
    return;
  }
  ucontext_t *uc = ucv;
  uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  int write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
  const char *access = write ? "WRITE" : "READ";
  int on_data;
  int64_t i = slot_of(a, &on_data);
  unsigned kind = MS_ERR_BUFFER_OVERFLOW;
  gslot_t *s = NULL;
  char detail[240];
  if (on_data && i >= 0 && (uint64_t)i < nslots) {
    s = &slots[i];
    kind = MS_ERR_USE_AFTER_FREE;
    long long off = (long long)(a - s->p);
    snprintf(detail, sizeof detail, "%s %lld bytes %s the freed %llu-byte block %p (thread %d freed it)",
             access, off < 0 ? -off : off, off < 0 ? "before" : "inside",
             (unsigned long long)s->size, (void *)s->p, (int)s->free_tid);
  } else {
    /* a guard page: the block to its left overflowed (blocks are right-aligned); failing
     * that, the block to its right underflowed */
    uintptr_t pg = (a - _ms_gp_base) / ps;
    int64_t left = (int64_t)pg / 2 - 1, right = (int64_t)pg / 2;
    if (left >= 0 && atomic_load(&slots[left].state) >= SLOT_LIVE) {
      s = &slots[left];
      snprintf(detail, sizeof detail, "%s %llu bytes after the %s%llu-byte block %p (guard page)",
               access, (unsigned long long)(a - (s->p + s->size)),
               atomic_load(&s->state) == SLOT_FREED ? "freed " : "", (unsigned long long)s->size,
               (void *)s->p);
    } else if ((uint64_t)right < nslots && atomic_load(&slots[right].state) >= SLOT_LIVE) {
      s = &slots[right];
      kind = MS_ERR_BUFFER_UNDERFLOW;
      snprintf(detail, sizeof detail, "%s %llu bytes before the %llu-byte block %p (guard page)",
               access, (unsigned long long)(s->p - a), (unsigned long long)s->size, (void *)s->p);
    } else {
      snprintf(detail, sizeof detail, "%s of memscope's guard-page pool outside any block", access);
    }
  }
  int saved_guard = _ms_guard;
  _ms_guard = 1;
  uint32_t where = fault_stack(pc);
  _ms_guard = 0; /* the report path refuses to run inside memscope; this is the program */
  _ms_report_error_ex(kind, (void *)a, s ? s->size : 0, where, s ? s->alloc_stack : 0,
                      s ? s->free_stack : 0, detail);
  _ms_guard = saved_guard;
  _ms_checks_die(); /* whatever action= says: the faulting access cannot be resumed */
}

/* ---------------------------------------------------------------- set-up */

static void atfork_prepare(void) { lock(); }
static void atfork_release(void) { unlock(); }

void _ms_guarded_init(void) {
  if (slots) return;
  ps = (size_t)sysconf(_SC_PAGESIZE);
  nslots = (uint32_t)_ms_guard_slots;
  size_t span = (2 * (size_t)nslots + 1) * ps;
  size_t meta = (size_t)nslots * (sizeof(gslot_t) + sizeof(uint32_t));
  void *pool = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  void *m = mmap(NULL, meta, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pool == MAP_FAILED || m == MAP_FAILED) {
    _ms_write_stderr("memscope: warning: no memory for the guard-page pool; uaf checks are off\n");
    return;
  }
  slots = m;
  fifo = (uint32_t *)(slots + nslots);

  /* the main thread gets an alternate signal stack if it has none, so that a fault caused by
   * running out of stack still reaches the previous handler (or the default action) */
  stack_t old;
  if (sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE)) {
    size_t sz = 256 << 10;
    void *st = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (st != MAP_FAILED) {
      stack_t ss = {.ss_sp = st, .ss_size = sz, .ss_flags = 0};
      sigaltstack(&ss, NULL);
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &prev_segv);
  sigaction(SIGBUS, &sa, &prev_bus);
  pthread_atfork(atfork_prepare, atfork_release, atfork_release);
  _ms_gp_base = (uintptr_t)pool;
  _ms_gp_span = span; /* published last: from here on, frees check the range */
}
