/* reach.c — the leak check: a reachability scan of the live set, classifying every live block
 * with valgrind memcheck's classes (definitely / indirectly / possibly lost, still reachable).
 *
 * Runs only when MEMSCOPE_LEAK_CHECK is on and only in exact mode (rate 1: every block is in
 * the live set; at other rates an unsampled block may be the only thing pointing at a sampled
 * one, so no class can be computed and every leak stays "unknown").
 *
 * Steps, with other threads quiesced:
 *   1. before stopping anything (these may take locks or allocate): read the module list
 *      (dl_iterate_phdr: writable PT_LOAD segments and PT_TLS offsets), install the stop
 *      signal's handler (once, the first time a check runs), map the work arrays;
 *   2. take every live-set shard lock, send the stop signal (a real-time signal) to every
 *      other thread of /proc/self/task; each handler records its stack pointer and thread
 *      pointer and waits on a futex; release the shard locks (a thread stopped inside the
 *      handler holds none of them, so the visit below cannot deadlock);
 *   3. copy (address, size) of every live block into an mmap'd array and sort it;
 *   4. roots: the writable segments of every module except libmemscope's own (its tables hold
 *      the addresses of every block), each thread's stack from its saved stack pointer up (the
 *      signal frame the kernel pushed below it holds the interrupted registers, so registers
 *      are scanned with the stack), the static TLS blocks and thread descriptor of each thread
 *      (at fixed offsets from its thread pointer; dynamic TLS blocks of dlopen'ed modules are
 *      heap blocks reached through the DTV, which the descriptor points to), and the scanning
 *      thread's own callee-saved registers and stack above the check;
 *   5. memcheck's algorithm: a start pointer from a root or a reachable block makes a block
 *      reachable (memcheck's default "length64" heuristic included), any other pointer (interior, or from a possibly-lost block) possibly lost;
 *      then, in address order, each block still unreached is a clique leader (definitely
 *      lost) and every unreached block it reaches (start or interior pointer) indirectly lost;
 *   6. resume the threads, write the classes into the dump's allocation rows.
 * While other threads are stopped the scanner allocates nothing (all work memory is mmap'd)
 * and takes no lock but the shard locks: a stopped thread may hold any lock of the program.
 *
 * Approximations (docs/USAGE.md "Leak check"): anonymous mmaps of the program are not roots
 * (as in LeakSanitizer; memcheck scans them); a thread that blocks the stop signal or does not
 * answer within 500 ms is scanned from the stack pointer /proc/self/task/T/syscall shows (when
 * it sits in a system call) and keeps running; blocks the tracker did not see (allocated
 * before it started or from inside it) are not scanned.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "reach.h"
#include "track.h"

#define REACH_MAX_THREADS 4096
#define REACH_MAX_SEGS 8192
#define REACH_MAX_VMAS (1u << 17)
#define REACH_MAPS_BUF (32u << 20)
#define REACH_TCB_BYTES 4096          /* the thread descriptor above the thread pointer */
#define REACH_STOP_WAIT_NS 500000000ull
#define REACH_HOLD_MAX_NS 120000000000ull /* a stopped thread gives up after 2 minutes */

/* scan states (one byte per block); CLIQUE_DONE marks a block whose words the clique phase
 * has already followed */
enum { ST_UNREACHED = 0, ST_POSSIBLE = 1, ST_REACHABLE = 2, ST_INDIRECT = 3, ST_MASK = 3,
       CLIQUE_DONE = 0x80 };

typedef struct blk { uint64_t addr, size; } blk_t;
typedef struct range { uint64_t lo, hi; } range_t;

typedef struct stop_slot {
  _Atomic int tid;
  _Atomic int state;   /* 0 signalled, 1 stopped, 2 resumed */
  uint64_t sp, tp;
} stop_slot_t;

static stop_slot_t *slots;          /* mmap'd once */
static _Atomic uint32_t n_slots;
static _Atomic int resume_word;     /* futex: 1 = stopped threads may go */
static _Atomic int stopping;        /* handlers stop only while the scanner holds the shard
                                       locks: a late signal (a thread that had it blocked)
                                       must not stop a thread that may hold one */
static int stop_signal;             /* 0 until the handler is installed */
static pthread_mutex_t reach_mutex = PTHREAD_MUTEX_INITIALIZER;
/* set by ms_snapshot(): the scanning thread's stack is a root from here up (its caller's
 * frames), not from the check's own frame, whose buffers hold stale words of earlier calls */
__thread uint64_t _ms_reach_from;

/* ---------------------------------------------------------------- small helpers */

static void *map_pages(size_t n) {
  if (n == 0) n = 1;
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}
/* arrays every byte of which is written: populated in one call, not one page fault a page
 * (a fault costs microseconds in a virtual machine; 10M blocks make 60 000 of them) */
static void *map_filled(size_t n) {
  if (n == 0) n = 1;
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}
static void unmap_pages(void *p, size_t n) {
  if (p) munmap(p, n ? n : 1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void futex_wait(_Atomic int *w, int val, long ns) {
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}
static void futex_wake(_Atomic int *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0); }

static int read_file_raw(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n + 1 < cap) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  return (int)n;
}

static uint64_t parse_hex(const char **s) {
  uint64_t v = 0;
  const char *p = *s;
  if (p[0] == '0' && p[1] == 'x') p += 2;
  for (;; p++) {
    int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * 16 + (uint64_t)d;
  }
  *s = p;
  return v;
}

/* ---------------------------------------------------------------- options */

/* MEMSCOPE_LEAK_CHECK: read here, not in alloc/options.c, so the option table stays alloc/'s;
 * secure_getenv keeps set-uid programs deaf to it, as every other option. */
int _ms_reach_enabled(void) {
  static int cached = -1;
  if (cached < 0) {
    const char *v = secure_getenv("MEMSCOPE_LEAK_CHECK");
    cached = v && (!strcmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
                   !strcasecmp(v, "true"));
  }
  return cached;
}

/* ---------------------------------------------------------------- stopping threads */

static void on_stop(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)si, (void)uc;
  int saved = errno;
  volatile uint64_t here = 0;
  int tid = (int)syscall(SYS_gettid);
  uint32_t n = atomic_load(&n_slots);
  stop_slot_t *s = NULL;
  for (uint32_t i = 0; i < n; i++)
    if (atomic_load(&slots[i].tid) == tid) s = &slots[i];
  if (s && atomic_load(&stopping) && atomic_load(&s->state) == 0) {
    /* everything from here up — this frame, the signal frame with the interrupted registers,
     * the red zone, the interrupted frames — is scanned */
    s->sp = (uint64_t)(uintptr_t)&here & ~(uint64_t)7;
    s->tp = (uint64_t)pthread_self();
    atomic_store(&s->state, 1);
    uint64_t t0 = now_ns();
    while (!atomic_load(&resume_word) && now_ns() - t0 < REACH_HOLD_MAX_NS)
      futex_wait(&resume_word, 0, 100000000L);
    atomic_store(&s->state, 2);
  }
  errno = saved;
}

/* A real-time signal the program leaves at its default, from the top of the range down
 * (glibc keeps the lowest few for itself). Installed the first time a check runs, and kept:
 * a late signal after a timed-out stop must never meet SIG_DFL, which would kill the program. */
static int install_handler(void) {
  if (stop_signal) return stop_signal;
  for (int sig = SIGRTMAX - 2; sig >= SIGRTMIN + 2; sig--) {
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0) continue;
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL) continue;
    if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_stop;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) == 0) return stop_signal = sig;
  }
  return 0;
}

static int slot_of(int tid) {
  uint32_t n = atomic_load(&n_slots);
  for (uint32_t i = 0; i < n; i++)
    if (atomic_load(&slots[i].tid) == tid) return (int)i;
  return -1;
}

/* Threads of memscope's own (the signal-dump helper blocks every signal and holds no block). */
static int is_own_thread(int tid) {
  char path[64], comm[32];
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
  if (read_file_raw(path, comm, sizeof comm) <= 0) return 0;
  return !strncmp(comm, "memscope-", 9);
}

/* Signal every thread not yet signalled; returns how many were new. No malloc (getdents64). */
static unsigned signal_new_threads(int self) {
  unsigned added = 0;
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[8192];
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; }
          *e = (void *)(buf + off);
      off += e->reclen;
      int tid = atoi(e->name);
      if (tid <= 0 || tid == self || slot_of(tid) >= 0 || is_own_thread(tid)) continue;
      uint32_t i = atomic_load(&n_slots);
      if (i >= REACH_MAX_THREADS) continue;
      slots[i].sp = slots[i].tp = 0;
      atomic_store(&slots[i].state, 0);
      atomic_store(&slots[i].tid, tid);
      atomic_store(&n_slots, i + 1);
      if (syscall(SYS_tgkill, getpid(), tid, stop_signal) == 0) added++;
      else atomic_store(&slots[i].state, 2); /* already gone */
    }
  }
  close(fd);
  return added;
}

/* A thread that did not stop: the stack pointer the kernel shows while it sits in a system
 * call ("nr args... sp pc"), or 0. */
static uint64_t syscall_sp(int tid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  if (read_file_raw(path, line, sizeof line) <= 0 || !strncmp(line, "running", 7)) return 0;
  const char *f[12];
  int k = 0;
  for (char *p = line; *p && k < 12;) {
    while (*p == ' ') p++;
    if (!*p || *p == '\n') break;
    f[k++] = p;
    while (*p && *p != ' ' && *p != '\n') p++;
  }
  if (k < 3) return 0;
  const char *s = f[k - 2];
  return parse_hex(&s);
}

/* ---------------------------------------------------------------- the scan state */

typedef struct scan {
  blk_t *blk;          /* sorted by address */
  uint8_t *st;
  uint32_t *stack;     /* mark stack, 2 n entries: a block is pushed at most twice */
  uint64_t n, cap, sp, stack_cap;
  uint64_t lo, hi;     /* lowest block start, highest block end */
  uint32_t *dir;       /* dir[k]: blocks starting below lo + (k << dir_shift); narrows each
                          lookup to a bucket (a plain binary search over 10M blocks misses
                          the cache at every step) */
  uint64_t dir_n, dir_shift;
  size_t dir_bytes;
  size_t blk_bytes, st_bytes, stack_bytes;
  range_t *vma;        /* readable mappings, sorted */
  uint32_t n_vma;
  range_t *seg;        /* module segments (roots) */
  uint32_t n_seg;
  int64_t tls_lo, tls_hi;  /* static TLS extent relative to the thread pointer */
  uint64_t own_lo, own_hi; /* libmemscope's mapped range: never a root */
  uint64_t text_lo, text_hi; /* libmemscope's code: return addresses into it mark its frames */
  uint64_t root_words;
} scan_t;

static void copy_block(const ms_block_info_t *r, void *arg) {
  scan_t *s = arg;
  if (s->n >= s->cap) return;
  s->blk[s->n].addr = (uint64_t)(uintptr_t)r->p;
  s->blk[s->n].size = r->size;
  s->n++;
}
static void count_block(const ms_block_info_t *r, void *arg) {
  (void)r;
  (*(uint64_t *)arg)++;
}

/* in-place quicksort on addresses (qsort may allocate, which is not allowed here) */
static void sort_blocks(blk_t *a, int64_t n) {
  while (n > 16) {
    uint64_t x = a[0].addr, y = a[n / 2].addr, z = a[n - 1].addr;
    uint64_t piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    int64_t i = 0, j = n - 1;
    while (i <= j) {
      while (a[i].addr < piv) i++;
      while (a[j].addr > piv) j--;
      if (i <= j) {
        blk_t t = a[i];
        a[i] = a[j], a[j] = t;
        i++, j--;
      }
    }
    /* recurse into the smaller side, loop on the larger: depth stays O(log n) */
    if (j + 1 < n - i) sort_blocks(a, j + 1), a += i, n -= i;
    else sort_blocks(a + i, n - i), n = j + 1;
  }
  for (int64_t i = 1; i < n; i++) {
    blk_t t = a[i];
    int64_t j = i - 1;
    while (j >= 0 && a[j].addr > t.addr) a[j + 1] = a[j], j--;
    a[j + 1] = t;
  }
}

/* The block w points into (start or interior; a zero-size block only at its start), or -1. */
static inline int64_t find_block(const scan_t *s, uint64_t w) {
  if (w < s->lo || w >= s->hi) return -1;
  uint64_t lo = 0, hi = s->n;
  if (s->dir) {
    uint64_t k = (w - s->lo) >> s->dir_shift;
    lo = s->dir[k] ? s->dir[k] - 1 : 0; /* the last block starting before the bucket */
    hi = s->dir[k + 1];
    if (hi <= lo) return -1;
  }
  while (hi - lo > 1) {
    uint64_t mid = (lo + hi) / 2;
    if (s->blk[mid].addr <= w) lo = mid;
    else hi = mid;
  }
  const blk_t *b = &s->blk[lo];
  return (w >= b->addr && (w < b->addr + b->size || w == b->addr)) ? (int64_t)lo : -1;
}

/* at most 4M buckets (16 MiB), each at least a page */
static void build_dir(scan_t *s) {
  if (!s->n) return;
  uint64_t span = s->hi - s->lo;
  s->dir_shift = 12;
  while ((span >> s->dir_shift) + 2 > (1u << 22)) s->dir_shift++;
  s->dir_n = (span >> s->dir_shift) + 2;
  s->dir_bytes = s->dir_n * sizeof *s->dir;
  s->dir = map_filled(s->dir_bytes);
  if (!s->dir) return;
  uint64_t j = 0;
  for (uint64_t k = 0; k < s->dir_n; k++) {
    uint64_t bound = s->lo + (k << s->dir_shift);
    while (j < s->n && s->blk[j].addr < bound) j++;
    s->dir[k] = (uint32_t)j;
  }
}

static inline void push(scan_t *s, uint64_t i) {
  if (s->sp < s->stack_cap) s->stack[s->sp++] = (uint32_t)i;
}

/* memcheck's rule: start pointer from a definite source -> reachable, otherwise possible;
 * a state only ever moves up (unreached -> possible -> reachable). */
static inline void mark_word(scan_t *s, uint64_t w, int definite) {
  int64_t i = find_block(s, w);
  if (i < 0) return;
  uint8_t cur = s->st[i];
  if (cur == ST_REACHABLE) return;
  const blk_t *b = &s->blk[i];
  /* memcheck's "length64" heuristic (on by default): a pointer 8 bytes in, where the first
   * word holds the rest's length, is how length-prefixed allocators (SQLite's) hand out
   * blocks; it counts as a start pointer */
  int start = w == b->addr ||
              (w == b->addr + 8 && b->size >= 8 && *(const uint64_t *)(uintptr_t)b->addr == b->size - 8);
  uint8_t via = (definite && start) ? ST_REACHABLE : ST_POSSIBLE;
  if (cur == ST_UNREACHED || (via == ST_REACHABLE && cur == ST_POSSIBLE)) {
    s->st[i] = via;
    push(s, (uint64_t)i);
  }
}

static void scan_words(scan_t *s, uint64_t lo, uint64_t hi, int definite) {
  lo = (lo + 7) & ~(uint64_t)7;
  for (uint64_t p = lo; p + 8 <= hi; p += 8) mark_word(s, *(const uint64_t *)(uintptr_t)p, definite);
}

static void drain(scan_t *s) {
  while (s->sp) {
    uint64_t i = s->stack[--s->sp];
    scan_words(s, s->blk[i].addr, s->blk[i].addr + s->blk[i].size, s->st[i] == ST_REACHABLE);
  }
}

/* index of the first readable mapping whose end is above a */
static uint32_t vma_from(const scan_t *s, uint64_t a) {
  uint32_t lo = 0, hi = s->n_vma;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (s->vma[mid].hi <= a) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* a root range: only its readable parts, never libmemscope's own */
static void scan_root(scan_t *s, uint64_t lo, uint64_t hi) {
  for (uint32_t v = vma_from(s, lo); v < s->n_vma && s->vma[v].lo < hi; v++) {
    uint64_t a = lo > s->vma[v].lo ? lo : s->vma[v].lo;
    uint64_t b = hi < s->vma[v].hi ? hi : s->vma[v].hi;
    if (a >= b) continue;
    if (a < s->own_hi && b > s->own_lo) {
      if (a < s->own_lo) scan_words(s, a, s->own_lo, 1), s->root_words += (s->own_lo - a) / 8;
      if (b > s->own_hi) scan_words(s, s->own_hi, b, 1), s->root_words += (b - s->own_hi) / 8;
      continue;
    }
    scan_words(s, a, b, 1);
    s->root_words += (b - a) / 8;
  }
}

/* the readable mapping holding a, or NULL */
static const range_t *vma_of(const scan_t *s, uint64_t a) {
  uint32_t v = vma_from(s, a);
  return (v < s->n_vma && s->vma[v].lo <= a) ? &s->vma[v] : NULL;
}

/* The scanning thread without a boundary from ms_snapshot (the exit path, the signal-dump
 * thread): its stack above the outermost return address into libmemscope, so that neither
 * memscope's frames nor the stale words in them count as roots. */
static uint64_t skip_own_frames(const scan_t *s, uint64_t sp) {
  const range_t *m = vma_of(s, sp);
  if (!m || !s->text_lo) return sp;
  uint64_t top = m->hi, tp = (uint64_t)pthread_self();
  if (tp >= sp && tp < top && tp + REACH_TCB_BYTES < top) top = tp; /* stop below the TCB */
  uint64_t from = sp;
  for (uint64_t p = (sp + 7) & ~(uint64_t)7; p + 8 <= top; p += 8) {
    uint64_t w = *(const uint64_t *)(uintptr_t)p;
    if (w >= s->text_lo && w < s->text_hi) from = p + 8;
  }
  return from;
}

/* A thread's roots: its stack from sp up to the end of that mapping (or the end of its
 * descriptor when the descriptor sits at the stack's top, as glibc places it), and its
 * static TLS blocks and descriptor around the thread pointer. */
static void scan_thread(scan_t *s, uint64_t sp, uint64_t tp) {
  const range_t *m = vma_of(s, sp);
  if (m) {
    uint64_t top = m->hi;
    if (tp >= sp && tp < m->hi && tp + REACH_TCB_BYTES < top) top = tp + REACH_TCB_BYTES;
    scan_root(s, sp, top);
  }
  if (!tp) return;
  const range_t *t = vma_of(s, tp);
  if (!t) return;
  uint64_t lo = (uint64_t)((int64_t)tp + s->tls_lo), hi = (uint64_t)((int64_t)tp + s->tls_hi);
  if (hi < tp + REACH_TCB_BYTES) hi = tp + REACH_TCB_BYTES;
  if (lo > tp) lo = tp;
  if (lo < t->lo) lo = t->lo;
  if (hi > t->hi) hi = t->hi;
  scan_root(s, lo, hi);
}

static void read_maps(scan_t *s, char *buf) {
  if (read_file_raw("/proc/self/maps", buf, REACH_MAPS_BUF) <= 0) return;
  for (const char *p = buf; *p && s->n_vma < REACH_MAX_VMAS;) {
    uint64_t lo = parse_hex(&p);
    if (*p == '-') p++;
    uint64_t hi = parse_hex(&p);
    while (*p == ' ') p++;
    int readable = *p == 'r';
    /* [vvar] and device mappings can fault on read; only ordinary memory is scanned */
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    int special = memmem(p, len, "[vvar", 5) || memmem(p, len, "[vsyscall]", 10) ||
                  memmem(p, len, " /dev/", 6);
    if (readable && !special && hi > lo) {
      if (s->n_vma && s->vma[s->n_vma - 1].hi == lo) s->vma[s->n_vma - 1].hi = hi;
      else s->vma[s->n_vma++] = (range_t){lo, hi};
    }
    p = eol ? eol + 1 : p + len;
  }
}

/* dl_iterate_phdr callback: writable segments and static TLS offsets; libmemscope excluded */
static int collect_module(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  scan_t *s = arg;
  uint64_t me = (uint64_t)(uintptr_t)&collect_module;
  int own = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uint64_t a = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && me >= a && me < a + ph->p_memsz) own = 1;
  }
  /* statically linked into the program: its globals are the program's too */
  own = own && info->dlpi_name && info->dlpi_name[0];
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uint64_t a = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && own) {
      if (!s->own_lo || a < s->own_lo) s->own_lo = a;
      if (a + ph->p_memsz > s->own_hi) s->own_hi = a + ph->p_memsz;
      if (ph->p_flags & PF_X) s->text_lo = a, s->text_hi = a + ph->p_memsz;
    }
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && !own && s->n_seg < REACH_MAX_SEGS)
      s->seg[s->n_seg++] = (range_t){a, a + ph->p_memsz};
    if (ph->p_type == PT_TLS && info->dlpi_tls_data && !own) {
      /* static TLS sits next to the thread pointer; a dynamic block (dlopen) far away in the
       * heap, and is reached through the DTV instead */
      int64_t off = (int64_t)((uint64_t)(uintptr_t)info->dlpi_tls_data - (uint64_t)pthread_self());
      if (off > -(int64_t)(64 << 20) && off < (int64_t)(64 << 20)) {
        if (off < s->tls_lo) s->tls_lo = off;
        if (off + (int64_t)ph->p_memsz > s->tls_hi) s->tls_hi = off + (int64_t)ph->p_memsz;
      }
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- the check */

static void classify(scan_t *s) {
  /* cliques, in address order as memcheck: the leader stays definitely lost, what it reaches
   * and nothing else reached is indirectly lost (an earlier leader included) */
  for (uint64_t i = 0; i < s->n; i++) {
    if (s->st[i] != ST_UNREACHED) continue; /* reached, indirect, or a leader already done */
    s->sp = 0;
    push(s, i);
    while (s->sp) {
      uint64_t j = s->stack[--s->sp];
      s->st[j] |= CLIQUE_DONE;
      uint64_t lo = (s->blk[j].addr + 7) & ~(uint64_t)7, hi = s->blk[j].addr + s->blk[j].size;
      for (uint64_t p = lo; p + 8 <= hi; p += 8) {
        int64_t k = find_block(s, *(const uint64_t *)(uintptr_t)p);
        if (k < 0 || (uint64_t)k == i || (s->st[k] & ST_MASK) != ST_UNREACHED) continue;
        int done = s->st[k] & CLIQUE_DONE;
        s->st[k] = ST_INDIRECT | CLIQUE_DONE;
        if (!done) push(s, (uint64_t)k);
      }
    }
  }
}

static uint32_t kind_of(uint8_t st) {
  switch (st & ST_MASK) {
    case ST_UNREACHED: return MS_LEAK_DEFINITE;
    case ST_INDIRECT: return MS_LEAK_INDIRECT;
    case ST_POSSIBLE: return MS_LEAK_POSSIBLE;
    default: return MS_LEAK_REACHABLE;
  }
}

/* Stop, scan, resume. entry_sp: the caller's frame (the scanner's own stack is a root from
 * there up); regs: its callee-saved registers. Returns MS_LEAK_CHECK_DONE or _FAILED. */
static int run_scan(scan_t *s, uint64_t entry_sp, const void *regs, size_t regs_len,
                    uint64_t *stuck) {
  int self = (int)syscall(SYS_gettid);
  int rc = MS_LEAK_CHECK_FAILED;
  dl_iterate_phdr(collect_module, s);
  char *maps = map_pages(REACH_MAPS_BUF);
  if (!maps) return rc;

  /* 2. stop the world */
  _ms_live_lock_all();
  atomic_store(&n_slots, 0);
  atomic_store(&resume_word, 0);
  atomic_store(&stopping, 1);
  for (int round = 0; round < 8 && signal_new_threads(self); round++) {
    uint64_t t0 = now_ns();
    for (;;) {
      uint32_t n = atomic_load(&n_slots), waiting = 0;
      for (uint32_t i = 0; i < n; i++) waiting += atomic_load(&slots[i].state) == 0;
      if (!waiting || now_ns() - t0 > REACH_STOP_WAIT_NS) break;
      struct timespec ts = {0, 200000};
      nanosleep(&ts, NULL);
    }
  }
  atomic_store(&stopping, 0);
  _ms_live_unlock_all();

  /* 3. the blocks */
  uint64_t n = 0;
  _ms_live_visit(count_block, &n);
  s->cap = n + 1;
  s->blk_bytes = s->cap * sizeof *s->blk;
  s->st_bytes = s->cap;
  s->stack_cap = 2 * s->cap;
  s->stack_bytes = s->stack_cap * sizeof *s->stack;
  s->blk = map_filled(s->blk_bytes);
  s->st = map_filled(s->st_bytes);
  s->stack = map_pages(s->stack_bytes);
  if (s->blk && s->st && s->stack) {
    _ms_live_visit(copy_block, s);
    sort_blocks(s->blk, (int64_t)s->n);
    s->lo = s->n ? s->blk[0].addr : 0;
    for (uint64_t i = 0; i < s->n; i++) {
      uint64_t end = s->blk[i].addr + (s->blk[i].size ? s->blk[i].size : 1);
      if (end > s->hi) s->hi = end;
    }
    build_dir(s);
    /* 4. roots */
    read_maps(s, maps);
    for (uint32_t i = 0; i < s->n_seg; i++) scan_root(s, s->seg[i].lo, s->seg[i].hi);
    scan_words(s, (uint64_t)(uintptr_t)regs, (uint64_t)(uintptr_t)regs + regs_len, 1);
    scan_thread(s, _ms_reach_from ? _ms_reach_from : skip_own_frames(s, entry_sp),
                (uint64_t)pthread_self());
    uint32_t ns = atomic_load(&n_slots);
    for (uint32_t i = 0; i < ns; i++) {
      int st = atomic_load(&slots[i].state);
      if (st == 1) {
        scan_thread(s, slots[i].sp, slots[i].tp);
      } else if (st == 0) {
        (*stuck)++;
        uint64_t sp = syscall_sp(atomic_load(&slots[i].tid));
        if (sp) scan_thread(s, sp, 0);
      }
    }
    drain(s);
    /* 5. what no root reaches */
    classify(s);
    rc = MS_LEAK_CHECK_DONE;
  }

  /* 6. resume, and wait until every stopped thread has left the handler (the slots are
   * reused by the next check) */
  atomic_store(&resume_word, 1);
  futex_wake(&resume_word);
  uint64_t t0 = now_ns();
  uint32_t ns = atomic_load(&n_slots);
  for (uint32_t i = 0; i < ns; i++)
    while (atomic_load(&slots[i].state) == 1 && now_ns() - t0 < REACH_STOP_WAIT_NS) {
      futex_wake(&resume_word);
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
  unmap_pages(maps, REACH_MAPS_BUF);
  return rc;
}

static uint8_t state_at(const scan_t *s, uint64_t addr, int *found) {
  int64_t i = find_block(s, addr);
  *found = i >= 0 && s->blk[i].addr == addr;
  return *found ? s->st[i] : 0;
}

static void scan_free(scan_t *s) {
  unmap_pages(s->blk, s->blk_bytes);
  unmap_pages(s->st, s->st_bytes);
  unmap_pages(s->stack, s->stack_bytes);
  unmap_pages(s->dir, s->dir_bytes);
  unmap_pages(s->vma, REACH_MAX_VMAS * sizeof *s->vma);
  unmap_pages(s->seg, REACH_MAX_SEGS * sizeof *s->seg);
}

static int scan_init(scan_t *s) {
  memset(s, 0, sizeof *s);
  s->vma = map_pages(REACH_MAX_VMAS * sizeof *s->vma);
  s->seg = map_pages(REACH_MAX_SEGS * sizeof *s->seg);
  if (!slots) slots = map_pages(REACH_MAX_THREADS * sizeof *slots);
  return s->vma && s->seg && slots && install_handler() ? 0 : -1;
}

/* The check for a dump: sets d->summary.leak_check and every allocation row's kind, and the
 * totals per class (ms_reach_totals_t) when totals is not NULL. Called with the re-entrancy
 * guard held, outside every tracker lock. */
__attribute__((noinline)) int _ms_reach_check(ms_dump_alloc_t *allocs, uint32_t n_allocs,
                                              uint64_t totals[MS_LEAK_KINDS][2]) {
  jmp_buf regs;
  setjmp(regs); /* the callers' callee-saved registers, as a root */
  uint64_t entry_sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
  if (atomic_load(&_ms_sample_rate) != 1) return MS_LEAK_CHECK_SAMPLED;
  pthread_mutex_lock(&reach_mutex);
  scan_t s;
  uint64_t stuck = 0;
  int rc = MS_LEAK_CHECK_FAILED;
  if (scan_init(&s) == 0) rc = run_scan(&s, entry_sp, regs, sizeof regs, &stuck);
  if (rc == MS_LEAK_CHECK_DONE) {
    for (uint32_t i = 0; i < n_allocs; i++) {
      int found;
      uint8_t st = state_at(&s, allocs[i].address, &found);
      allocs[i].kind = found ? kind_of(st) : MS_LEAK_UNKNOWN;
    }
    if (totals)
      for (uint64_t i = 0; i < s.n; i++) {
        uint32_t k = kind_of(s.st[i]);
        totals[k][0] += s.blk[i].size;
        totals[k][1]++;
      }
  }
  if (stuck) {
    char line[160];
    snprintf(line, sizeof line,
             "memscope: leak check: %llu threads did not stop (they block signal %d); their "
             "stacks were scanned while they ran\n", (unsigned long long)stuck, stop_signal);
    _ms_write_stderr(line);
  }
  scan_free(&s);
  pthread_mutex_unlock(&reach_mutex);
  return rc;
}
