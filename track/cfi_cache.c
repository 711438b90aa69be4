/* cfi_cache.c — a stack walker for x86-64 that reads each function's DWARF call-frame
 * information (.eh_frame) once and then walks with a cached rule per return address.
 *
 * Why: exact mode takes a stack on every allocation. libgcc's _Unwind_Backtrace interprets the
 * CFI of every frame on every walk (~160 ns a frame here); libunwind caches, but opens a pipe in
 * the traced program. Most frames of a program obey a rule of three numbers: where the caller's
 * stack pointer is (the CFA: rsp or rbp plus an offset), where the return address is saved and
 * where rbp is saved (relative to the CFA). That rule depends only on the return address, so it
 * is computed once per address (find the FDE with libgcc's _Unwind_Find_FDE, which is lock-free
 * on glibc >= 2.35; run the CIE's and FDE's instructions up to the call) and kept in a
 * lock-free table; a walk is then a few loads per frame and is right for code without frame
 * pointers. A frame whose CFI needs more (DWARF expressions, signal frames, registers saved in
 * other registers) makes the walk return -1 and the caller walks with libgcc instead, which
 * handles everything: the cache is an accelerator, never the only way.
 *
 * Rules are keyed by address, so a library unloaded and another loaded at the same place would
 * find stale rules: dlclose() (interposed in stack_walk.c) bumps an epoch that every rule
 * carries, and a rule of an older epoch is computed again.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "stack_walk.h"

#define CACHE_BITS 16
#define CACHE_SLOTS (1u << CACHE_BITS) /* 64K return addresses, 1 MiB touched as used */
#define PROBES 8
#define MAX_FRAME_BYTES (16u << 20) /* a frame larger than this is not believed */

/* DWARF register numbers of x86-64 */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* A rule, packed in one word so that it is published with one store:
 *   bits 0-1 kind, bit 2 CFA from rbp (else rsp), bit 3 rbp saved, bits 8-15 epoch,
 *   bits 16-39 CFA offset (unsigned), bits 40-51 RA offset + 2048, bits 52-63 rbp offset + 2048 */
#define KIND_NONE 0u     /* not computed (a slot being filled) */
#define KIND_STEP 1u     /* a plain frame: step with the rule */
#define KIND_END 2u      /* outermost frame (return address undefined) or no CFI: stop */
#define KIND_FALLBACK 3u /* needs the full unwinder */

typedef struct slot {
  _Atomic uint64_t pc;
  _Atomic uint64_t rule;
} slot_t;

typedef const void *(*find_fde_fn)(void *pc, void *bases);
typedef struct eh_bases {
  void *tbase, *dbase, *func;
} eh_bases_t;

static slot_t *cache;
static find_fde_fn find_fde;
static _Atomic uint32_t epoch = 1;

void _ms_cfi_init(void *find_fde_function) {
  void *p = mmap(NULL, sizeof(slot_t) * CACHE_SLOTS, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  cache = p == MAP_FAILED ? NULL : p;
  find_fde = (find_fde_fn)find_fde_function;
}

/* A rule carries the epoch's low 8 bits and a shared-table key the next 16 (above the 47 bits of
 * a user-space pc), so a rule cached before a dlclose matches again only after 2^24 more
 * dlcloses; a thread's own caches are emptied by its next walk whenever the epoch changed. */
void _ms_cfi_flush(void) { atomic_fetch_add_explicit(&epoch, 1, memory_order_release); }

/* ------------------------------------------------------------------ reading .eh_frame */

typedef struct reader {
  const uint8_t *p, *end;
  int bad;
} reader_t;

static uint64_t uleb(reader_t *r) {
  uint64_t v = 0;
  for (unsigned shift = 0; r->p < r->end; shift += 7) {
    uint8_t b = *r->p++;
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  r->bad = 1;
  return 0;
}

static int64_t sleb(reader_t *r) {
  int64_t v = 0;
  unsigned shift = 0;
  uint8_t b = 0;
  while (r->p < r->end) {
    b = *r->p++;
    if (shift < 64) v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
    shift += 7;
    if (!(b & 0x80)) {
      if (shift < 64 && (b & 0x40)) v |= -((int64_t)1 << shift);
      return v;
    }
  }
  r->bad = 1;
  return 0;
}

static uint64_t fixed(reader_t *r, unsigned n) {
  if ((size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return 0;
  }
  uint64_t v = 0;
  memcpy(&v, r->p, n); /* little-endian */
  r->p += n;
  return v;
}

/* Skip an encoded pointer (DW_EH_PE_*): only its size matters here, the function's start
 * comes from _Unwind_Find_FDE. Returns -1 for an encoding this reader does not know. */
static int skip_encoded(reader_t *r, uint8_t enc) {
  if (enc == 0xff) return 0; /* omitted */
  switch (enc & 0x0f) {
  case 0x00: case 0x04: case 0x0c: fixed(r, 8); return 0;
  case 0x02: case 0x0a: fixed(r, 2); return 0;
  case 0x03: case 0x0b: fixed(r, 4); return 0;
  case 0x01: uleb(r); return 0;
  case 0x09: sleb(r); return 0;
  default: return -1;
  }
}

/* Register rules the walk can follow. */
enum { R_SAME = 0, R_OFFSET, R_UNDEF, R_OTHER };
typedef struct regs_state {
  uint8_t cfa_reg;
  int64_t cfa_off;
  int cfa_expr;
  uint8_t rbp_rule, ra_rule;
  int64_t rbp_off, ra_off;
} regs_state_t;

typedef struct cie {
  uint64_t code_align;
  int64_t data_align;
  uint64_t ra_reg;
  uint8_t fde_enc;
  int has_aug_data, signal_frame;
  reader_t insns;
} cie_t;

static int parse_cie(const uint8_t *c, cie_t *out) {
  uint32_t len;
  memcpy(&len, c, 4);
  if (len == 0 || len == 0xffffffffu) return -1;
  reader_t r = {c + 8, c + 4 + len, 0}; /* after length and CIE id */
  uint8_t version = (uint8_t)fixed(&r, 1);
  const char *aug = (const char *)r.p;
  size_t alen = strnlen(aug, (size_t)(r.end - r.p));
  r.p += alen + 1;
  if (r.p > r.end || strstr(aug, "eh")) return -1;
  memset(out, 0, sizeof *out);
  out->fde_enc = 0; /* absptr */
  out->code_align = uleb(&r);
  out->data_align = sleb(&r);
  out->ra_reg = version == 1 ? fixed(&r, 1) : uleb(&r);
  if (aug[0] == 'z') {
    uint64_t n = uleb(&r);
    const uint8_t *data_end = r.p + n;
    if (data_end > r.end) return -1;
    out->has_aug_data = 1;
    for (const char *a = aug + 1; *a && !r.bad; a++) {
      if (*a == 'R') out->fde_enc = (uint8_t)fixed(&r, 1);
      else if (*a == 'L') fixed(&r, 1);
      else if (*a == 'P') {
        uint8_t enc = (uint8_t)fixed(&r, 1);
        if (skip_encoded(&r, enc) < 0) return -1;
      } else if (*a == 'S') out->signal_frame = 1;
      else break; /* unknown: the rest of the data is skipped by its length */
    }
    r.p = data_end;
  } else if (aug[0]) {
    return -1;
  }
  if (r.bad) return -1;
  out->insns = r;
  return 0;
}

/* Run CFA instructions while the location is <= target. Returns 1 when target was passed,
 * 0 at the end of the instructions, -1 on an instruction this walker cannot follow. */
static int run_insns(reader_t *r, const cie_t *cie, regs_state_t *st, const regs_state_t *init,
                     uint64_t *loc, uint64_t target) {
  regs_state_t saved[8];
  unsigned depth = 0;
  while (r->p < r->end && !r->bad) {
    uint8_t op = *r->p++;
    uint64_t reg = 0;
    int64_t off = 0;
    switch (op & 0xc0) {
    case 0x40: /* advance_loc */
      *loc += (uint64_t)(op & 0x3f) * cie->code_align;
      if (*loc > target) return 1;
      continue;
    case 0x80: /* offset */
      reg = op & 0x3f;
      off = (int64_t)uleb(r) * cie->data_align;
      goto set_offset;
    case 0xc0: /* restore */
      reg = op & 0x3f;
      goto restore;
    }
    switch (op) {
    case 0x00: break; /* nop */
    case 0x02: *loc += fixed(r, 1) * cie->code_align; if (*loc > target) return 1; break;
    case 0x03: *loc += fixed(r, 2) * cie->code_align; if (*loc > target) return 1; break;
    case 0x04: *loc += fixed(r, 4) * cie->code_align; if (*loc > target) return 1; break;
    case 0x05: reg = uleb(r); off = (int64_t)uleb(r) * cie->data_align; goto set_offset;
    case 0x06: reg = uleb(r); goto restore;
    case 0x07: /* undefined */
      reg = uleb(r);
      if (reg == REG_RA) st->ra_rule = R_UNDEF;
      else if (reg == REG_RBP) st->rbp_rule = R_UNDEF;
      break;
    case 0x08: /* same_value */
      reg = uleb(r);
      if (reg == REG_RA) st->ra_rule = R_OTHER;
      else if (reg == REG_RBP) st->rbp_rule = R_SAME;
      break;
    case 0x09: /* register */
      reg = uleb(r);
      uleb(r);
      if (reg == REG_RA) st->ra_rule = R_OTHER;
      else if (reg == REG_RBP) st->rbp_rule = R_OTHER;
      break;
    case 0x0a: /* remember_state */
      if (depth == 8) return -1;
      saved[depth++] = *st;
      break;
    case 0x0b: /* restore_state */
      if (depth == 0) return -1;
      *st = saved[--depth];
      break;
    case 0x0c: st->cfa_reg = (uint8_t)uleb(r); st->cfa_off = (int64_t)uleb(r); st->cfa_expr = 0; break;
    case 0x0d: st->cfa_reg = (uint8_t)uleb(r); st->cfa_expr = 0; break;
    case 0x0e: st->cfa_off = (int64_t)uleb(r); break;
    case 0x0f: { /* def_cfa_expression */
      uint64_t n = uleb(r);
      if (n > (uint64_t)(r->end - r->p)) return -1;
      r->p += n;
      st->cfa_expr = 1;
      break;
    }
    case 0x10: case 0x16: { /* expression, val_expression */
      reg = uleb(r);
      uint64_t n = uleb(r);
      if (n > (uint64_t)(r->end - r->p)) return -1;
      r->p += n;
      if (reg == REG_RA) st->ra_rule = R_OTHER;
      else if (reg == REG_RBP) st->rbp_rule = R_OTHER;
      break;
    }
    case 0x11: reg = uleb(r); off = sleb(r) * cie->data_align; goto set_offset;
    case 0x12: st->cfa_reg = (uint8_t)uleb(r); st->cfa_off = sleb(r) * cie->data_align; st->cfa_expr = 0; break;
    case 0x13: st->cfa_off = sleb(r) * cie->data_align; break;
    case 0x14: case 0x15: /* val_offset(_sf) */
      reg = uleb(r);
      if (op == 0x14) uleb(r);
      else sleb(r);
      if (reg == REG_RA) st->ra_rule = R_OTHER;
      else if (reg == REG_RBP) st->rbp_rule = R_OTHER;
      break;
    case 0x2e: uleb(r); break; /* GNU_args_size */
    case 0x2f: reg = uleb(r); off = -(int64_t)uleb(r) * cie->data_align; goto set_offset;
    default: return -1; /* set_loc and vendor extensions: not here */
    }
    continue;
  set_offset:
    if (reg == REG_RA) st->ra_rule = R_OFFSET, st->ra_off = off;
    else if (reg == REG_RBP) st->rbp_rule = R_OFFSET, st->rbp_off = off;
    continue;
  restore:
    if (!init) return -1; /* restore inside the CIE itself */
    if (reg == REG_RA) st->ra_rule = init->ra_rule, st->ra_off = init->ra_off;
    else if (reg == REG_RBP) st->rbp_rule = init->rbp_rule, st->rbp_off = init->rbp_off;
  }
  return r->bad ? -1 : 0;
}

static uint64_t pack(unsigned kind, const regs_state_t *st, uint32_t ep) {
  uint64_t w = kind | ((uint64_t)(ep & 0xff) << 8);
  if (kind != KIND_STEP) return w;
  w |= (st->cfa_reg == REG_RBP ? 4u : 0u) | (st->rbp_rule == R_OFFSET ? 8u : 0u);
  w |= (uint64_t)st->cfa_off << 16;
  w |= (uint64_t)(st->ra_off + 2048) << 40;
  w |= (uint64_t)((st->rbp_rule == R_OFFSET ? st->rbp_off : 0) + 2048) << 52;
  return w;
}

/* The rule for the frame whose return address is pc. */
static uint64_t compute_rule(uint64_t pc, uint32_t ep) {
  if (!find_fde) return pack(KIND_FALLBACK, NULL, ep);
  eh_bases_t bases = {0, 0, 0};
  const uint8_t *fde = find_fde((void *)(uintptr_t)(pc - 1), &bases);
  if (!fde) return pack(KIND_END, NULL, ep); /* as libgcc: no CFI, end of the stack */
  uint32_t len;
  int32_t cie_delta;
  memcpy(&len, fde, 4);
  memcpy(&cie_delta, fde + 4, 4);
  if (len == 0xffffffffu || len < 8) return pack(KIND_FALLBACK, NULL, ep);
  cie_t cie;
  if (parse_cie(fde + 4 - cie_delta, &cie) < 0 || cie.signal_frame || cie.ra_reg != REG_RA)
    return pack(KIND_FALLBACK, NULL, ep);
  reader_t r = {fde + 8, fde + 4 + len, 0};
  if (skip_encoded(&r, cie.fde_enc) < 0 || skip_encoded(&r, cie.fde_enc & 0x0f) < 0)
    return pack(KIND_FALLBACK, NULL, ep);
  if (cie.has_aug_data) {
    uint64_t n = uleb(&r);
    if (r.bad || n > (uint64_t)(r.end - r.p)) return pack(KIND_FALLBACK, NULL, ep);
    r.p += n;
  }
  regs_state_t st = {.cfa_reg = REG_RSP, .cfa_off = 8, .rbp_rule = R_SAME, .ra_rule = R_SAME};
  uint64_t loc = (uint64_t)(uintptr_t)bases.func, target = pc - 1;
  reader_t ci = cie.insns;
  if (run_insns(&ci, &cie, &st, NULL, &loc, UINT64_MAX) < 0) return pack(KIND_FALLBACK, NULL, ep);
  regs_state_t init = st;
  if (run_insns(&r, &cie, &st, &init, &loc, target) < 0) return pack(KIND_FALLBACK, NULL, ep);
  if (st.ra_rule == R_UNDEF) return pack(KIND_END, NULL, ep);
  if (st.cfa_expr || (st.cfa_reg != REG_RSP && st.cfa_reg != REG_RBP) || st.cfa_off < 0 ||
      st.cfa_off >= (1 << 24) || st.ra_rule != R_OFFSET || st.ra_off < -2048 ||
      st.ra_off >= 2048 || (st.rbp_rule != R_SAME && st.rbp_rule != R_OFFSET) ||
      st.rbp_off < -2048 || st.rbp_off >= 2048)
    return pack(KIND_FALLBACK, NULL, ep);
  return pack(KIND_STEP, &st, ep);
}

static uint64_t rule_of(uint64_t pc_) {
  uint32_t ep = atomic_load_explicit(&epoch, memory_order_acquire);
  if (!cache) return compute_rule(pc_, ep);
  /* the table's key: pc and the epoch's bits 8-23 (user-space pcs fit in 47 bits) */
  uint64_t pc = pc_ | ((uint64_t)((ep >> 8) & 0xffff) << 48);
  uint32_t i = (uint32_t)((pc * 0x9E3779B97F4A7C15ull) >> (64 - CACHE_BITS));
  for (unsigned probe = 0; probe < PROBES; probe++, i = (i + 1) & (CACHE_SLOTS - 1)) {
    slot_t *s = &cache[i];
    uint64_t key = atomic_load_explicit(&s->pc, memory_order_acquire);
    if (key == pc) {
      uint64_t w = atomic_load_explicit(&s->rule, memory_order_acquire);
      if ((w & 3) != KIND_NONE && ((w >> 8) & 0xff) == (ep & 0xff)) return w;
      if ((w & 3) == KIND_NONE) return compute_rule(pc_, ep); /* being filled */
      w = compute_rule(pc_, ep); /* an older epoch: a library was unloaded since */
      atomic_store_explicit(&s->rule, w, memory_order_release);
      return w;
    }
    if (key == 0) {
      uint64_t expected = 0;
      if (atomic_compare_exchange_strong_explicit(&s->pc, &expected, pc, memory_order_acq_rel,
                                                  memory_order_acquire)) {
        uint64_t w = compute_rule(pc_, ep);
        atomic_store_explicit(&s->rule, w, memory_order_release);
        return w;
      }
      if (expected == pc) return compute_rule(pc_, ep);
    }
  }
  return compute_rule(pc_, ep); /* neighbourhood full: correct, just not cached */
}

/* The rule of the return address pc at depth n through the thread's own small caches, which
 * stay in the CPU's cache where the shared table's scattered slots would not, then the shared
 * table. (A cache by depth for every frame was tried: python's consecutive stacks differ in
 * depth, so below the top it missed more than it hit.) */
static inline uint64_t rule_cached(ms_unwind_cache_t *c, int n, uint64_t pc, uint32_t ep) {
  if (!c) return rule_of(pc);
  /* the top frames first: memscope's own and the allocator's callers, the same every walk,
   * in two cache lines that every walk touches */
  uint64_t *t = n < 8 ? &c->top[2 * n] : NULL;
  if (t && t[0] == pc && ((t[1] >> 8) & 0xff) == (ep & 0xff)) return t[1];
  uint64_t *e = &c->by_pc[2 * ((pc ^ (pc >> 9)) & (MS_UNWIND_L0 - 1))];
  uint64_t w;
  if (e[0] == pc && ((e[1] >> 8) & 0xff) == (ep & 0xff)) {
    w = e[1];
  } else {
    w = rule_of(pc);
    _ms_pair_put(e, pc, w);
  }
  if (t) _ms_pair_put(t, pc, w);
  return w;
}

/* Rejoining the last walk. A walk is a function of its state (pc, sp, bp) and of the stack
 * words it reads (return addresses, saved rbp): when this walk reaches a state the last walk
 * also passed through, and every word the last walk read from there on still holds what it
 * read, the rest of this walk is the rest of the last one. Those words are at known addresses,
 * so checking them is independent loads the CPU issues together, where walking is a chain of
 * dependent ones: a repeated call path (an interpreter's deep, repetitive stack) costs little
 * more than its changed top. Anything not verified is walked; the result is the same. */
/* w (the last walk) passes through the state this walk is in at frame n, at its frame i: take
 * the frames below from it if the words it read from there still hold what it read. Returns
 * the walk's frame count, or -1 (then the caller walks on). On success w becomes this walk. */
static int rejoin(ms_unwind_walk_t *w, uint32_t i, void **buf, int n, int max) {
  uint32_t have = w->n - i, m = have;
  if ((uint32_t)(max - n) < m) m = (uint32_t)(max - n); /* this walk keeps fewer frames */
  else if (!w->complete && m < (uint32_t)(max - n)) return -1; /* it wants frames w lacks */
  /* the words that lead from frame i to each copied frame; and, when the copy ends where the
   * last walk ended (the stack's end), the word that ended it */
  uint32_t last = m == have && w->complete ? i + m : i + m - 1;
  for (uint32_t k = i; k < last; k++) {
    const ms_unwind_frame_t *f = &w->f[k];
    uint64_t next_pc = k + 1 < w->n ? w->f[k + 1].pc : 0;
    if (f->ra_addr && *(const uint64_t *)(uintptr_t)f->ra_addr != next_pc) return -1;
    if (f->bp_addr && k + 1 < w->n && *(const uint64_t *)(uintptr_t)f->bp_addr != w->f[k + 1].bp)
      return -1;
  }
  for (uint32_t k = 0; k < m; k++) buf[n + (int)k] = (void *)(uintptr_t)w->f[i + k].pc;
  /* the record becomes this walk: its frames 0..n-1 are already in place; move the shared part
   * next to them when this walk's top was shorter or longer than the last one's */
  if ((uint32_t)n != i && (uint32_t)n + m <= MS_UNWIND_LAST)
    memmove(&w->f[n], &w->f[i], m * sizeof *w->f);
  if ((uint32_t)n + m <= MS_UNWIND_LAST) {
    w->complete = m == have && w->complete;
    w->n = (uint32_t)n + m;
  } else {
    w->n = 0;
  }
  return n + (int)m;
}

/* The walk proper: frame by frame with the cached rules, writing each frame's state into the
 * thread's record of the last walk in place (an entry is overwritten only once this walk is past
 * its stack position, so the rest stays usable for a rejoin), until it can rejoin. */
int _ms_cfi_walk(void **buf, int max, uint64_t pc, uint64_t sp, uint64_t bp, ms_unwind_cache_t *c) {
  int n = 0;
  uint32_t ep = atomic_load_explicit(&epoch, memory_order_acquire);
  ms_unwind_walk_t *w = c ? &c->last : NULL;
  uint32_t i = 0;
  if (c && c->epoch != ep) { /* a library was unloaded since this thread last walked */
    memset(c->top, 0, sizeof c->top);
    memset(c->by_pc, 0, sizeof c->by_pc);
    c->epoch = ep;
  }
  int joinable = w && w->n && w->epoch == ep;
  if (w) w->epoch = ep;
  while (n < max && pc) {
    if (joinable) { /* the last walk's states are in increasing sp, like this walk's */
      while (i < w->n && w->f[i].sp < sp) i++;
      if (i == w->n) {
        joinable = 0;
      } else if (w->f[i].sp == sp && w->f[i].pc == pc && w->f[i].bp == bp) {
        int r = rejoin(w, i, buf, n, max);
        if (r >= 0) return r;
        joinable = 0; /* the stack changed below here: walk it */
      }
      /* writing entry n now would destroy an entry a later frame could rejoin at */
      if ((uint32_t)n > i) joinable = 0;
    }
    buf[n] = (void *)(uintptr_t)pc;
    uint64_t rw = rule_cached(c, n, pc, ep);
    unsigned kind = rw & 3;
    ms_unwind_frame_t *f = w && n < MS_UNWIND_LAST ? &w->f[n] : NULL;
    if (f) f->sp = sp, f->pc = pc, f->bp = bp, f->ra_addr = 0, f->bp_addr = 0;
    n++;
    if (kind == KIND_END) break;
    if (kind != KIND_STEP) {
      if (w) w->n = 0;
      return -1;
    }
    uint64_t cfa = ((rw & 4) ? bp : sp) + ((rw >> 16) & 0xffffff);
    if (cfa <= sp || cfa - sp > MAX_FRAME_BYTES) { /* not a believable frame */
      if (w) w->n = 0;
      return -1;
    }
    int64_t ra_off = (int64_t)((rw >> 40) & 0xfff) - 2048;
    int64_t bp_off = (int64_t)((rw >> 52) & 0xfff) - 2048;
    uint64_t ra_addr = cfa + (uint64_t)ra_off;
    uint64_t ra = *(const uint64_t *)(uintptr_t)ra_addr;
    if (f) f->ra_addr = ra_addr;
    if (rw & 8) {
      uint64_t bp_addr = cfa + (uint64_t)bp_off;
      bp = *(const uint64_t *)(uintptr_t)bp_addr;
      if (f) f->bp_addr = bp_addr;
    }
    sp = cfa;
    pc = ra;
  }
  /* kept for the next walk; one cut at max frames says so (it cannot vouch for what is below) */
  if (w) {
    w->n = n <= MS_UNWIND_LAST ? (uint32_t)n : 0;
    w->complete = n < max || !pc;
  }
  return n;
}
