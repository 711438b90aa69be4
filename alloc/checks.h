/* checks.h — memory-safety checks (MEMSCOPE_CHECKS): which are on, and the small inline pieces
 * the allocator core (alloc/malloc.c) calls at a few marked points. The rest lives in
 * alloc/checks.c (options, canaries, quarantine), alloc/guarded.c (guard-page allocations and
 * the SIGSEGV handler) and track/errors.c (reports, abort-or-continue). docs/CHECKS.md is the
 * user's description.
 *
 * The three tag-word bits header.h calls "reserved" (53..55) belong to the checks; they are per
 * block, so a block allocated before the checks were configured, or while a check was off, is
 * never checked against a canary it does not have:
 *
 *     53  CANARY   8 canary bytes follow the requested size
 *     55  CANARY1  1 canary byte follows the requested size (the slack is 1..7 bytes)
 *     54  GUARDED  the block lives in the guard-page pool (guarded.c), not in mimalloc
 *
 * The canary bits are set at allocation and cleared when the program asks malloc_usable_size
 * (which entitles it to use the slack).
 *
 * Canary layout (NORMAL header shown; SHORT and SAMPLED are the same after the tag word):
 *
 *     +-------------+-----------+--------------------------+------------+---------------+
 *     | guard word  | tag word  | user data (n bytes)      | canary 8/1 | rest of slack |
 *     +-------------+-----------+--------------------------+------------+---------------+
 *                               ^ p                        ^ p + n
 *
 * The slack is what mimalloc's size class leaves between n + header and the block's usable size
 * (guarded blocks: up to the guard page). A block without slack has no canary. The canary is
 * one word or one byte at a fixed place, so that free() checks it with one load and one compare
 * knowing nothing but the tag: that is what keeps this default-on check within a few percent.
 */
#ifndef MEMSCOPE_ALLOC_CHECKS_H
#define MEMSCOPE_ALLOC_CHECKS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define MS_TAG_CANARY (((uint64_t)1) << 53)
#define MS_TAG_GUARDED (((uint64_t)1) << 54)
#define MS_TAG_CANARY1 (((uint64_t)1) << 55)
#define MS_TAG_CANARIES (MS_TAG_CANARY | MS_TAG_CANARY1)

/* Check bits in _ms_check_flags. */
#define MS_CHK_DOUBLE_FREE 0x01u
#define MS_CHK_INVALID_FREE 0x02u
#define MS_CHK_UNDERFLOW 0x04u  /* guard word in the header, verified on free/realloc */
#define MS_CHK_OVERFLOW 0x08u   /* canaries */
#define MS_CHK_QUARANTINE 0x10u /* freed blocks filled and held back, verified on leaving */
#define MS_CHK_UAF 0x20u        /* guard-page sampling (guarded.c) */
#define MS_CHK_HEADERS 0x40u    /* a header on every block (header mode), so the three header
                                   checks above cover every block, not only sampled ones */
/* Checks that need the bytes around every block: any of them selects header mode. */
#define MS_CHK_NEED_HEADERS (MS_CHK_HEADERS | MS_CHK_OVERFLOW | MS_CHK_QUARANTINE | MS_CHK_UAF)
#define MS_CHK_ABORT 0x100u     /* action=abort: every error aborts */
#define MS_CHK_CONTINUE 0x800u  /* action=continue: record and carry on (guard-page faults
                                   still end the process); neither bit: action=default, abort
                                   on heap corruption, continue after a refused double/invalid free */
#define MS_CHK_ACTION (MS_CHK_ABORT | MS_CHK_CONTINUE)
#define MS_CHK_SYM_DLADDR 0x200u /* symbolize=dladdr: never load libdw for stderr reports */
#define MS_CHK_SYM_OFF 0x400u    /* symbolize=off: addresses and module+offset only */

/* The library's default: the checks that cost nothing beyond the header the allocator reads
 * anyway. Canaries are not in it: the free-time read of the block's far end costs an extra
 * cache miss on large blocks, measured at ~20% of malloc/free time (bench/RESULTS.md). */
#define MS_CHK_DEFAULT (MS_CHK_DOUBLE_FREE | MS_CHK_INVALID_FREE | MS_CHK_UNDERFLOW)

#define MS_CANARY_BYTE 0xCBu
#define MS_QUARANTINE_BYTE 0xF5u

/* Written once at start-up (before other threads exist), read on every allocation. */
extern uint32_t _ms_check_flags;
extern uint64_t _ms_quarantine_bytes;  /* per thread */
extern uint64_t _ms_uaf_rate;          /* 1 in this many allocations is guarded; 0 = none */
extern uint64_t _ms_guard_slots;       /* pages in the guard-page pool */
extern uintptr_t _ms_gp_base, _ms_gp_span; /* the guard-page pool; span 0 when there is none */

/* Parse MEMSCOPE_CHECKS into the variables above; 0 on success, -1 on a bad value (the
 * variables are then left at their defaults). Exposed for the unit tests. */
int _ms_checks_parse(const char *s);
/* Canonical text of the checks in force (for dumps and messages). */
const char *_ms_checks_describe(void);
/* Read MEMSCOPE_CHECKS (via _ms_options.checks) and set the checks up. Idempotent. */
void _ms_checks_init(void);
/* Verify canaries of the live sampled blocks (call from snapshots; reports what it finds). */
void _ms_checks_snapshot(void);

static inline int _ms_guarded_contains(const void *p) {
  return (uintptr_t)p - _ms_gp_base < _ms_gp_span;
}

/* ---------------------------------------------------------------- canaries */

/* Bytes of canary after p + n: 8 (CANARY), 1 (CANARY1) or 0. */
static inline size_t _ms_canary_len(uint64_t tag) {
  return (tag & MS_TAG_CANARY) ? 8 : (tag & MS_TAG_CANARY1) ? 1 : 0;
}

/* Write the canary at q for a block with this much slack after its requested bytes; returns
 * the canary bit to put in the tag (0: no slack, or the slack is unknown). */
static inline uint64_t _ms_canary_arm(unsigned char *q, uint64_t slack) {
  if (slack - 8 <= (uint64_t)MS_CLASS_EXACT_MAX) { /* 8 <= slack <= EXACT_MAX (no wrap) */
    const uint64_t w = 0x0101010101010101ull * MS_CANARY_BYTE;
    memcpy(q, &w, 8);
    return MS_TAG_CANARY;
  }
  if (slack - 1 < 7) {
    *q = (unsigned char)MS_CANARY_BYTE;
    return MS_TAG_CANARY1;
  }
  return 0;
}

uint64_t _ms_checks_on_alloc_slow(void *p, void *block, uint64_t tag, uint64_t n);

/* At allocation (malloc.c, before the tag word is stored): arm the canary in the slack between
 * n + header and the usable size of the size class cls (blocks above MS_CLASS_EXACT_MAX have
 * usable size 0 in the table: the subtraction wraps and they get no canary). Over-aligned and
 * guarded blocks take the slow path. Returns the tag to store. */
static inline uint64_t _ms_checks_on_alloc(void *p, void *block, uint64_t tag, uint64_t n,
                                           size_t h, unsigned cls) {
  uint32_t f = _ms_check_flags;
  if (MS_UNLIKELY(tag & MS_TAG_ALIGNED) || MS_UNLIKELY(_ms_guarded_contains(block)))
    return _ms_checks_on_alloc_slow(p, block, tag, n);
  if (f & MS_CHK_OVERFLOW)
    tag |= _ms_canary_arm((unsigned char *)p + n, (uint64_t)_ms_class_usable[cls] - n - h);
  return tag;
}

/* Out of line: report a damaged canary (and abort unless action=continue). */
void _ms_canary_report(const void *p, uint64_t tag, const char *when);

/* 1 when the canary after p + n is intact (or there is none). */
static inline int _ms_canary_intact(const void *p, uint64_t tag, uint64_t n) {
  const unsigned char *q = (const unsigned char *)p + n;
  if (tag & MS_TAG_CANARY) {
    uint64_t v;
    memcpy(&v, q, 8);
    return v == 0x0101010101010101ull * MS_CANARY_BYTE;
  }
  return !(tag & MS_TAG_CANARY1) || *q == MS_CANARY_BYTE;
}

/* At free and realloc (malloc.c): verify the canary of a block that has one. */
static inline void _ms_canary_check_of(const void *p, uint64_t tag, uint64_t n, const char *when) {
  if (MS_UNLIKELY(!_ms_canary_intact(p, tag, n))) _ms_canary_report(p, tag, when);
}
static inline void _ms_canary_check(const void *p, uint64_t tag, const char *when) {
  _ms_canary_check_of(p, tag, _ms_tag_size(tag), when);
}

/* ---------------------------------------------------------------- free / realloc hooks */

/* Called by release_block() after the block's statistics are updated and its tag says FREED,
 * instead of handing it to mimalloc, when the block is guarded or the quarantine is on.
 * Returns 1 when it took the block (guard-page pool or quarantine), 0 when the caller must
 * mi_free() it. */
int _ms_checks_release(void *p, uint64_t tag, void *block);

/* realloc of a block with CANARY or GUARDED: verify the canary; returns 1 when the block is
 * guarded (the caller must then use _ms_guarded_realloc, which always moves it). */
int _ms_checks_realloc(const void *p, uint64_t tag);
void *_ms_guarded_realloc(void *p, uint64_t tag, size_t n, void *caller);

/* ---------------------------------------------------------------- guard-page pool (guarded.c) */

/* Maybe serve this allocation from the guard-page pool (1 in _ms_uaf_rate): returns the block
 * start (user pointer = block + h, right-aligned against a guard page) or NULL. The per-thread
 * countdown is inline; the slow part runs once per sample. */
extern __thread int64_t _ms_gp_countdown __attribute__((tls_model("initial-exec")));
void *_ms_guarded_alloc_slow(size_t n, size_t h, size_t align, int zero);
static inline void *_ms_guarded_alloc(size_t n, size_t h, size_t align, int zero) {
  if (MS_LIKELY(--_ms_gp_countdown > 0)) return NULL;
  return _ms_guarded_alloc_slow(n, h, align, zero);
}
/* live_tag() on a pointer in the pool: 1 = a live guarded block, carry on validating its header;
 * 0 = reported (double free of a guarded block, interior pointer...) or silently refused. */
int _ms_guarded_validate(const void *p, int report);
/* Release a guarded block: protect its page, remember the free stack. */
void _ms_guarded_release(void *p, uint64_t tag);
size_t _ms_guarded_usable(const void *p, uint64_t tag);
void _ms_guarded_init(void);

#endif /* MEMSCOPE_ALLOC_CHECKS_H */
