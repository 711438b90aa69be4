/* checks.c — MEMSCOPE_CHECKS: parsing the option, canary reports, the quarantine of freed
 * blocks, and the hooks alloc/malloc.c calls on free and realloc (see checks.h for the canary
 * layout and the tag bits, guarded.c for guard pages, track/errors.c for the reports).
 *
 * Quarantine: a freed block (unless memscope's own, or too large) is filled with
 * MS_QUARANTINE_BYTE and pushed on a FIFO owned by the freeing thread, bounded by bytes
 * (quarantine=SIZE) and entries; its tag word keeps saying FREED, so a second free of it is a
 * reliable double free. When the FIFO is full the oldest block leaves: its bytes are compared
 * with the pattern (a difference is a write after free) and it goes back to mimalloc. Each
 * thread has its own FIFO (thread-local, mmap'd), so there is no lock on the path; a thread's
 * FIFO is drained when the thread exits, the main thread's at exit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include <mimalloc.h>

#include "checks.h"
#include "internal.h"
#include "track.h"

uint32_t _ms_check_flags = MS_CHK_DEFAULT;
uint64_t _ms_quarantine_bytes = 1u << 20;
uint64_t _ms_uaf_rate = 1000;
uint64_t _ms_guard_slots = 512;

#define MS_STACK_HERE UINT32_MAX

/* ---------------------------------------------------------------- MEMSCOPE_CHECKS */

typedef struct check_name {
  const char *name;
  uint32_t bit;
} check_name_t;

static const check_name_t check_names[] = {
    {"double-free", MS_CHK_DOUBLE_FREE}, {"invalid-free", MS_CHK_INVALID_FREE},
    {"underflow", MS_CHK_UNDERFLOW},     {"overflow", MS_CHK_OVERFLOW},
    {"canary", MS_CHK_OVERFLOW},         {"quarantine", MS_CHK_QUARANTINE},
    {"uaf", MS_CHK_UAF},                 {"guard-pages", MS_CHK_UAF},
    {"headers", MS_CHK_HEADERS},         {"every-block", MS_CHK_HEADERS},
};

static int name_bit(const char *s, size_t len, uint32_t *bit) {
  for (size_t i = 0; i < sizeof check_names / sizeof *check_names; i++)
    if (strlen(check_names[i].name) == len && strncasecmp(s, check_names[i].name, len) == 0)
      return *bit = check_names[i].bit, 0;
  return -1;
}

static int value_is(const char *v, size_t len, const char *word) {
  return strlen(word) == len && strncasecmp(v, word, len) == 0;
}

static int parse_number(const char *v, size_t len, int size_suffix, uint64_t *out) {
  char buf[32];
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, v, len);
  buf[len] = 0;
  return size_suffix ? _ms_parse_size(buf, out) : _ms_parse_uint(buf, out);
}

/* One token: [+|-|no-]NAME, NAME=VALUE, off|none|default|all. */
static int parse_token(const char *s, size_t len, uint32_t *flags, uint64_t *qbytes,
                       uint64_t *rate, uint64_t *slots) {
  const char *eq = memchr(s, '=', len);
  if (eq) {
    size_t kl = (size_t)(eq - s), vl = len - kl - 1;
    const char *v = eq + 1;
    uint64_t num;
    if (value_is(s, kl, "action")) {
      *flags &= ~MS_CHK_ACTION;
      if (value_is(v, vl, "abort")) *flags |= MS_CHK_ABORT;
      else if (value_is(v, vl, "continue")) *flags |= MS_CHK_CONTINUE;
      else if (!value_is(v, vl, "default")) return -1;
    } else if (value_is(s, kl, "symbolize")) {
      *flags &= ~(MS_CHK_SYM_DLADDR | MS_CHK_SYM_OFF);
      if (value_is(v, vl, "dladdr")) *flags |= MS_CHK_SYM_DLADDR;
      else if (value_is(v, vl, "off")) *flags |= MS_CHK_SYM_OFF;
      else if (!value_is(v, vl, "libdw")) return -1;
    } else if (value_is(s, kl, "quarantine")) {
      if (parse_number(v, vl, 1, &num)) return -1;
      *qbytes = num;
      if (num) *flags |= MS_CHK_QUARANTINE;
      else *flags &= ~MS_CHK_QUARANTINE;
    } else if (value_is(s, kl, "uaf") || value_is(s, kl, "guard-pages")) {
      if (parse_number(v, vl, 0, &num)) return -1;
      *rate = num;
      if (num) *flags |= MS_CHK_UAF;
      else *flags &= ~MS_CHK_UAF;
    } else if (value_is(s, kl, "guard-slots")) {
      if (parse_number(v, vl, 0, &num) || num == 0 || num > 65536) return -1;
      *slots = num;
    } else {
      return -1;
    }
    return 0;
  }
  uint32_t keep = *flags & (MS_CHK_ACTION | MS_CHK_SYM_DLADDR | MS_CHK_SYM_OFF);
  if (value_is(s, len, "off") || value_is(s, len, "none")) {
    *flags = keep;
    return 0;
  }
  if (value_is(s, len, "default")) {
    *flags = MS_CHK_DEFAULT | keep;
    return 0;
  }
  if (value_is(s, len, "all")) {
    *flags |= MS_CHK_DEFAULT | MS_CHK_HEADERS | MS_CHK_OVERFLOW | MS_CHK_QUARANTINE | MS_CHK_UAF;
    return 0;
  }
  int off = 0;
  if (len && (*s == '+' || *s == '-')) off = *s == '-', s++, len--;
  else if (len > 3 && strncasecmp(s, "no-", 3) == 0) off = 1, s += 3, len -= 3;
  uint32_t bit;
  if (name_bit(s, len, &bit)) return -1;
  if (off) *flags &= ~bit;
  else *flags |= bit;
  return 0;
}

int _ms_checks_parse(const char *s) {
  uint32_t flags = MS_CHK_DEFAULT;
  uint64_t qbytes = 1u << 20, rate = 1000, slots = 512;
  if (s) {
    while (*s) {
      while (*s == ',' || *s == ' ') s++;
      size_t len = strcspn(s, ", ");
      if (len && parse_token(s, len, &flags, &qbytes, &rate, &slots)) return -1;
      s += len;
    }
  }
  if ((flags & MS_CHK_UAF) && rate == 0) flags &= ~MS_CHK_UAF;
  if ((flags & MS_CHK_QUARANTINE) && qbytes == 0) flags &= ~MS_CHK_QUARANTINE;
  _ms_check_flags = flags;
  _ms_quarantine_bytes = qbytes;
  _ms_uaf_rate = rate;
  _ms_guard_slots = slots;
  return 0;
}

const char *_ms_checks_describe(void) {
  static char buf[256];
  size_t k = 0;
  buf[0] = 0;
  static const check_name_t shown[] = {
      {"double-free", MS_CHK_DOUBLE_FREE}, {"invalid-free", MS_CHK_INVALID_FREE},
      {"underflow", MS_CHK_UNDERFLOW}, {"headers", MS_CHK_HEADERS}, {"overflow", MS_CHK_OVERFLOW}};
  for (size_t i = 0; i < sizeof shown / sizeof *shown; i++)
    if (_ms_check_flags & shown[i].bit)
      k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s", k ? "," : "", shown[i].name);
  if (_ms_check_flags & MS_CHK_QUARANTINE)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%squarantine=%llu", k ? "," : "",
                          (unsigned long long)_ms_quarantine_bytes);
  if (_ms_check_flags & MS_CHK_UAF)
    k += (size_t)snprintf(buf + k, sizeof buf - k, "%suaf=%llu,guard-slots=%llu", k ? "," : "",
                          (unsigned long long)_ms_uaf_rate, (unsigned long long)_ms_guard_slots);
  if (k == 0) k += (size_t)snprintf(buf, sizeof buf, "off");
  snprintf(buf + k, sizeof buf - k, ",action=%s%s",
           (_ms_check_flags & MS_CHK_ABORT)      ? "abort"
           : (_ms_check_flags & MS_CHK_CONTINUE) ? "continue"
                                                 : "default",
           (_ms_check_flags & MS_CHK_SYM_OFF)      ? ",symbolize=off"
           : (_ms_check_flags & MS_CHK_SYM_DLADDR) ? ",symbolize=dladdr"
                                                   : "");
  return buf;
}

/* ---------------------------------------------------------------- reports */

static uint32_t alloc_stack_of(const void *p, uint64_t tag, uint32_t *free_stack) {
  uint32_t a = 0, f = 0;
  if (tag & MS_TAG_GUARDED) _ms_guarded_stacks(p, &a, &f);
  if (_ms_kind_sampled(_ms_tag_kind(tag))) a = _ms_block_stack(p, tag);
  if (free_stack) *free_stack = f;
  return a;
}

void _ms_canary_report(const void *p, uint64_t tag, const char *when) {
  uint64_t n = _ms_tag_size(tag);
  size_t len = _ms_canary_len(tag), off = 0;
  const unsigned char *q = (const unsigned char *)p + n;
  while (off < len && q[off] == MS_CANARY_BYTE) off++;
  char detail[160];
  snprintf(detail, sizeof detail,
           "%zu bytes after the %llu-byte block %p: canary damaged (found %s)", off,
           (unsigned long long)n, p, when);
  _ms_report_error_ex(MS_ERR_BUFFER_OVERFLOW, q + off, n, MS_STACK_HERE, alloc_stack_of(p, tag, NULL),
                      0, detail);
}

/* ---------------------------------------------------------------- quarantine */

#define Q_ENTRIES 8192

typedef struct q_entry {
  void *p;
  uint64_t tag;
} q_entry_t;

typedef struct q_ring {
  uint32_t head, count; /* oldest at head */
  uint64_t bytes;
  q_entry_t ent[Q_ENTRIES];
} q_ring_t;

static __thread q_ring_t *t_ring __attribute__((tls_model("initial-exec")));
static __thread int t_ring_dead __attribute__((tls_model("initial-exec")));
static pthread_key_t ring_key;
static _Atomic int ring_key_ready;
static _Atomic int at_exit_done;

/* The pattern check of a block leaving quarantine; reports the first modified byte. */
static void q_verify(const q_entry_t *e) {
  const unsigned char *p = e->p;
  uint64_t n = _ms_tag_size(e->tag), i = 0;
  const uint64_t w = 0x0101010101010101ull * MS_QUARANTINE_BYTE;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    if (v != w) break;
  }
  for (; i < n && p[i] == MS_QUARANTINE_BYTE; i++) {
  }
  if (i >= n) return;
  char detail[200];
  snprintf(detail, sizeof detail,
           "write %llu bytes inside the freed %llu-byte block %p, found when the block left "
           "quarantine (the write happened earlier)",
           (unsigned long long)i, (unsigned long long)n, (const void *)p);
  _ms_report_error_ex(MS_ERR_USE_AFTER_FREE, p + i, n, MS_STACK_HERE,
                      alloc_stack_of(p, e->tag, NULL), 0, detail);
}

static void q_evict(q_ring_t *r) {
  q_entry_t e = r->ent[r->head];
  r->head = (r->head + 1) % Q_ENTRIES;
  r->count--;
  r->bytes -= _ms_tag_size(e.tag);
  q_verify(&e);
  mi_free(_ms_block_of(e.p, _ms_tag_kind(e.tag)));
}

static void q_drain(q_ring_t *r) {
  while (r->count) q_evict(r);
}

static void ring_destructor(void *arg) {
  q_ring_t *r = arg;
  t_ring_dead = 1;
  t_ring = NULL;
  if (!r) return;
  q_drain(r); /* mi_free directly; reports (which need the guard down) may happen */
  munmap(r, sizeof *r);
}

static q_ring_t *ring_get(void) {
  q_ring_t *r = t_ring;
  if (MS_LIKELY(r != NULL)) return r;
  if (t_ring_dead || !atomic_load_explicit(&ring_key_ready, memory_order_acquire)) return NULL;
  void *m = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    t_ring_dead = 1;
    return NULL;
  }
  r = m;
  t_ring = r;
  _ms_guard++; /* pthread_setspecific may allocate: keep that out of the program's heap */
  pthread_setspecific(ring_key, r);
  _ms_guard--;
  return r;
}

static int quarantine_put(void *p, uint64_t tag) {
  uint64_t n = _ms_tag_size(tag);
  /* the fill and the check cost O(n): big blocks would dominate (and flush the FIFO at once) */
  if (n > _ms_quarantine_bytes / 8 || n > (256u << 10) || atomic_load_explicit(&at_exit_done, memory_order_relaxed))
    return 0;
  q_ring_t *r = ring_get();
  if (!r) return 0;
  memset(p, MS_QUARANTINE_BYTE, n);
  while (r->count == Q_ENTRIES || (r->count && r->bytes + n > _ms_quarantine_bytes)) q_evict(r);
  r->ent[(r->head + r->count) % Q_ENTRIES] = (q_entry_t){p, tag};
  r->count++;
  r->bytes += n;
  return 1;
}

static void quarantine_at_exit(void) {
  atomic_store(&at_exit_done, 1);
  q_ring_t *r = t_ring;
  if (!r) return;
  q_drain(r);
}

/* ---------------------------------------------------------------- hooks from malloc.c */

/* Allocation with guard pages on, or of an over-aligned block: the slack is not simply the
 * size class's usable size minus n + header. */
uint64_t _ms_checks_on_alloc_slow(void *p, void *block, uint64_t tag, uint64_t n) {
  uint64_t slack;
  if (_ms_guarded_contains(block)) {
    tag |= MS_TAG_GUARDED;
    slack = -((uintptr_t)p + n) & 4095u; /* up to the guard page */
  } else if (tag & MS_TAG_ALIGNED) {
    slack = mi_usable_size(block) - (uint64_t)((char *)p - (char *)block) - n;
  } else {
    slack = (uint64_t)_ms_class_usable[_ms_tag_class(tag)] - n - _ms_hdr_len(_ms_tag_kind(tag));
  }
  if (_ms_check_flags & MS_CHK_OVERFLOW) tag |= _ms_canary_arm((unsigned char *)p + n, slack);
  return tag;
}

int _ms_checks_release(void *p, uint64_t tag, void *block) {
  (void)block;
  if (tag & MS_TAG_GUARDED) {
    _ms_guarded_release(p, tag);
    return 1;
  }
  if ((_ms_check_flags & MS_CHK_QUARANTINE) && !_ms_guard) return quarantine_put(p, tag);
  return 0;
}

int _ms_checks_realloc(const void *p, uint64_t tag) {
  if (tag & MS_TAG_CANARIES) _ms_canary_check(p, tag, "at realloc");
  return (tag & MS_TAG_GUARDED) != 0;
}

/* ---------------------------------------------------------------- snapshots */

#define SNAP_BAD_MAX 16

typedef struct snap_bad {
  const void *p[SNAP_BAD_MAX];
  uint64_t tag[SNAP_BAD_MAX];
  unsigned n;
} snap_bad_t;

static void snap_visit(const ms_block_info_t *r, void *arg) {
  snap_bad_t *b = arg;
  const void *p = r->p;
  uint64_t tag = *_ms_tag_ptr(p);
  if (!(tag & MS_TAG_CANARIES) || b->n == SNAP_BAD_MAX) return;
  if (!_ms_canary_intact(p, tag, _ms_tag_size(tag)))
    b->p[b->n] = p, b->tag[b->n++] = tag;
}

void _ms_checks_snapshot(void) {
  if (!(_ms_check_flags & MS_CHK_OVERFLOW)) return;
  snap_bad_t bad = {.n = 0};
  _ms_live_visit(snap_visit, &bad); /* reports happen after, outside the shard locks */
  int saved = _ms_guard;
  _ms_guard = 0; /* the report path refuses to run inside memscope; this one is deliberate */
  for (unsigned i = 0; i < bad.n; i++) _ms_canary_report(bad.p[i], bad.tag[i], "at a snapshot");
  _ms_guard = saved;
}

/* ---------------------------------------------------------------- set-up */

static _Atomic int checks_ready;

void _ms_checks_init(void) {
  if (atomic_exchange(&checks_ready, 1)) return;
  if (atomic_load(&_ms_init_state) != 2) _ms_init();
  _ms_guard++;
  if (_ms_checks_parse(_ms_options.checks) != 0) {
    char line[400];
    snprintf(line, sizeof line,
             "memscope: warning: ignoring bad value of MEMSCOPE_CHECKS: '%.200s' (keeping the "
             "default; see docs/CHECKS.md)\n",
             _ms_options.checks);
    _ms_write_stderr(line);
    _ms_checks_parse(NULL);
  }
  if (pthread_key_create(&ring_key, ring_destructor) == 0)
    atomic_store_explicit(&ring_key_ready, 1, memory_order_release);
  atexit(quarantine_at_exit); /* runs before the library destructors (the exit dump) */
  if (_ms_check_flags & MS_CHK_UAF) _ms_guarded_init();
  _ms_guard--;
}

/* The allocator core may call _ms_checks_init() from _ms_init(); this covers the case where it
 * does not: the checks start with the library's constructors, before main(). */
__attribute__((constructor(101))) static void checks_constructor(void) { _ms_checks_init(); }
