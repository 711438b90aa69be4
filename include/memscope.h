/* memscope.h — the whole public API of memscope.
 *
 * memscope replaces the system allocator (it wraps mimalloc) and tracks what the program
 * allocates. Nothing in this header is needed to use it: an unmodified program run with
 * LD_PRELOAD=libmemscope.so or `memscope run` is tracked. The functions below let a program
 * take snapshots, read counters, name variables and record reference counts.
 *
 * Every function is declared weak, and when this header is used outside the library each
 * ms_* name is also a function-like macro that calls the function only if it exists, so a
 * program that includes this header but is neither linked with -lmemscope nor run under
 * LD_PRELOAD still links and runs: every call returns its documented "not loaded" result
 * (MS_ENOTLOADED for int/long results, 0 from ms_class_count(), zeroed counters from ms_stats(),
 * the usual text from ms_strerror()). Taking a function's address (ms_snapshot without
 * parentheses) gives the weak symbol itself: NULL when memscope is not loaded.
 * Compiles cleanly as C99 (-pedantic), C11 and later, and C++11 and later.
 */
#ifndef MEMSCOPE_H
#define MEMSCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMSCOPE_VERSION_MAJOR 0
#define MEMSCOPE_VERSION_MINOR 1
#define MEMSCOPE_VERSION_PATCH 0

#if defined(MS_BUILDING_LIBRARY)
#define MS_API __attribute__((visibility("default")))
#else
#define MS_API __attribute__((weak))
#endif
/* The pointer arguments of ms_track/ms_ref_* are never read or written through: say so, or gcc
 * warns "may be used uninitialized" for MS_TRACK(p) right after p = malloc(n). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && !defined(MS_BUILDING_LIBRARY)
#define MS_NO_ACCESS(i) __attribute__((access(none, i)))
#else
#define MS_NO_ACCESS(i)
#endif

/* Error codes: 0 or negative. One X-macro makes the enum and ms_strerror(). */
#define MS_ERRNO_MAP(X)                                                   \
  X(OK, 0, "success")                                                     \
  X(EINVAL, -1, "invalid argument")                                       \
  X(ENOMEM, -2, "out of memory")                                          \
  X(EIO, -3, "could not write the dump file")                             \
  X(ENOTLOADED, -4, "memscope is not loaded in this process")             \
  X(EBUSY, -5, "another snapshot is being written")                       \
  X(ENOTFOUND, -6, "pointer is not a live block allocated by memscope")

typedef enum ms_errno {
#define MS_ERRNO_ENUM_(name, value, text) MS_##name = value,
  MS_ERRNO_MAP(MS_ERRNO_ENUM_)
#undef MS_ERRNO_ENUM_
} ms_errno_t;

/* Counters for the whole process (exact, not sampled). */
typedef struct ms_stats {
  uint64_t total_allocations;  /* successful allocations since start (realloc counts as one) */
  uint64_t total_frees;        /* frees of memscope blocks (realloc's release counts as one) */
  uint64_t total_bytes;        /* requested bytes allocated since start */
  uint64_t live_bytes;         /* requested bytes in live blocks */
  uint64_t live_allocations;   /* live blocks */
  uint64_t peak_live_bytes;    /* highest live_bytes seen (see docs: accurate to within a
                                  per-thread batch of 64 KiB) */
  uint64_t usable_bytes;       /* bytes the allocator set aside for live blocks (>= live_bytes) */
  uint64_t header_bytes;       /* of usable_bytes, how many hold memscope's headers */
  uint64_t sample_rate;        /* mean bytes between samples; 1 = every allocation; 0 = none */
  uint64_t sampled_allocations;/* allocations recorded with a stack since start */
  uint64_t sampled_live;       /* sampled blocks still live */
  uint64_t stacks;             /* distinct stacks recorded */
  uint64_t errors;             /* memory errors detected */
  uint64_t threads;            /* threads that have allocated */
} ms_stats_t;

/* Per size class counters; size classes follow mimalloc's bins (alloc/size_class.c). */
typedef struct ms_class_stats {
  uint64_t size;               /* largest request (header included) that falls in the class */
  uint64_t allocations, frees; /* since start */
  uint64_t requested_bytes;    /* live requested bytes */
  uint64_t usable_bytes;       /* live usable bytes (header included) */
  uint64_t total_requested;    /* requested bytes since start */
} ms_class_stats_t;

MS_API const char *ms_strerror(int err);

/* Write a dump now. path NULL: the MEMSCOPE_OUTPUT template, else memscope.<pid>.<n>.msp.
 * Thread-safe; returns 0 or a negative MS_* code. */
MS_API int ms_snapshot(const char *path);

/* Read the process-wide counters. */
MS_API int ms_stats(ms_stats_t *out);

/* Number of size classes, and one class's counters (index < ms_class_count()). */
MS_API unsigned ms_class_count(void);
MS_API int ms_class_stats(unsigned index, ms_class_stats_t *out);

/* Change the sampling rate at run time: mean bytes between samples, 1 = all, 0 = none. */
MS_API int ms_set_sample_rate(size_t bytes);

/* Name the heap block that ptr points to (the pointer malloc returned). Strings are copied. */
MS_API MS_NO_ACCESS(1) int ms_track(const void *ptr, const char *name, const char *type, const char *file,
                    int line);

/* Reference counts of a (named or not) heap block: the C counterpart of Rc/Arc tracking.
 * retain/release record +1/-1; ms_ref_set records the count the program itself holds.
 * Each returns the count memscope now holds for the block, or a negative MS_* code. */
MS_API MS_NO_ACCESS(1) long ms_ref_retain(const void *ptr);
MS_API MS_NO_ACCESS(1) long ms_ref_release(const void *ptr);
MS_API MS_NO_ACCESS(1) long ms_ref_set(const void *ptr, long count);

/* Attribute allocations of this thread to a named subsystem until the matching pop.
 * Tags nest (up to 16 deep); the innermost tag wins. name is copied once and interned. */
MS_API int ms_tag_push(const char *name);
MS_API int ms_tag_pop(void);

/* ---- calls that are safe when memscope is not loaded ----
 * Outside the library, each ms_* function name is also a function-like macro: it tests the weak
 * symbol and calls the function only when it is there; otherwise an inline fallback gives the
 * "not loaded" result. (The name inside its own macro is not expanded again, so it calls the
 * real function.) Arguments are evaluated once. Define MS_NO_SAFE_CALLS to get the bare weak
 * declarations only. */
#if defined(__cplusplus)
#define MS_INLINE_ static inline
#else
#define MS_INLINE_ static __inline__
#endif
/* The text of an MS_* code: what ms_strerror() returns, loaded or not (the library's
 * ms_strerror is this function too). */
MS_INLINE_ const char *ms_strerror_unloaded_(int err) {
  switch (err) {
#define MS_ERRNO_CASE_(name, value, text) \
  case value:                            \
    return text;
    MS_ERRNO_MAP(MS_ERRNO_CASE_)
#undef MS_ERRNO_CASE_
    default: return "unknown error";
  }
}
#if !defined(MS_BUILDING_LIBRARY) && !defined(MS_NO_SAFE_CALLS)
MS_INLINE_ int ms_stats_unloaded_(ms_stats_t *out) {
  if (out) {
    ms_stats_t zero = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    *out = zero;
  }
  return (int)MS_ENOTLOADED;
}
MS_INLINE_ int ms_class_stats_unloaded_(ms_class_stats_t *out) {
  if (out) {
    ms_class_stats_t zero = {0, 0, 0, 0, 0, 0};
    *out = zero;
  }
  return (int)MS_ENOTLOADED;
}
#undef MS_INLINE_
#define ms_strerror(err) (ms_strerror ? ms_strerror(err) : ms_strerror_unloaded_(err))
#define ms_snapshot(path) (ms_snapshot ? ms_snapshot(path) : (int)MS_ENOTLOADED)
#define ms_stats(out) (ms_stats ? ms_stats(out) : ms_stats_unloaded_(out))
#define ms_class_count() (ms_class_count ? ms_class_count() : 0u)
#define ms_class_stats(index, out) \
  (ms_class_stats ? ms_class_stats((index), (out)) : ((void)(index), ms_class_stats_unloaded_(out)))
#define ms_set_sample_rate(bytes) \
  (ms_set_sample_rate ? ms_set_sample_rate(bytes) : ((void)(bytes), (int)MS_ENOTLOADED))
#define ms_track(ptr, name, type, file, line)                                  \
  (ms_track ? ms_track((ptr), (name), (type), (file), (line)) : (int)MS_ENOTLOADED)
#define ms_ref_retain(ptr) (ms_ref_retain ? ms_ref_retain(ptr) : (long)MS_ENOTLOADED)
#define ms_ref_release(ptr) (ms_ref_release ? ms_ref_release(ptr) : (long)MS_ENOTLOADED)
#define ms_ref_set(ptr, count) \
  (ms_ref_set ? ms_ref_set((ptr), (count)) : ((void)(count), (long)MS_ENOTLOADED))
#define ms_tag_push(name) (ms_tag_push ? ms_tag_push(name) : (int)MS_ENOTLOADED)
#define ms_tag_pop() (ms_tag_pop ? ms_tag_pop() : (int)MS_ENOTLOADED)
#endif

/* ---- convenience macros ---- */

#if defined(__cplusplus) || !defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L
#define MS_TYPENAME_(var) "?"
#else
#define MS_TYPENAME_(var)                                                           \
  _Generic((var), char *: "char *", const char *: "const char *",                 \
           signed char *: "signed char *", unsigned char *: "unsigned char *",     \
           short *: "short *", unsigned short *: "unsigned short *", int *: "int *", \
           unsigned *: "unsigned *", long *: "long *", unsigned long *: "unsigned long *", \
           long long *: "long long *", unsigned long long *: "unsigned long long *", \
           float *: "float *", double *: "double *", long double *: "long double *", \
           void *: "void *", const void *: "const void *", char **: "char **",       \
           void **: "void **", default: "?")
#endif

/* MS_TRACK(var): name the block var points to, with var's name, its type (pointers to the
 * basic C types are named automatically in C11 and later; use MS_TRACK_AS for your own types,
 * and in C99 and C++), file, line. Each macro evaluates to the function's result, or
 * MS_ENOTLOADED (as an int, or a long for the MS_REF* ones) when memscope is not loaded. */
#define MS_TRACK(var) MS_TRACK_AS(var, MS_TYPENAME_(var))
#define MS_TRACK_AS(var, typestr)                                                   \
  (ms_track ? ms_track((const void *)(var), #var, (typestr), __FILE__, __LINE__)    \
            : (int)MS_ENOTLOADED)
#define MS_REF_RETAIN(ptr) \
  (ms_ref_retain ? ms_ref_retain((const void *)(ptr)) : (long)MS_ENOTLOADED)
#define MS_REF_RELEASE(ptr) \
  (ms_ref_release ? ms_ref_release((const void *)(ptr)) : (long)MS_ENOTLOADED)
#define MS_REF(ptr, count) \
  (ms_ref_set ? ms_ref_set((const void *)(ptr), (long)(count)) : (long)MS_ENOTLOADED)
#define MS_SNAPSHOT(path) (ms_snapshot ? ms_snapshot(path) : (int)MS_ENOTLOADED)
#define MS_TAG_PUSH(name) (ms_tag_push ? ms_tag_push(name) : (int)MS_ENOTLOADED)
#define MS_TAG_POP() (ms_tag_pop ? ms_tag_pop() : (int)MS_ENOTLOADED)

#ifdef __cplusplus
}
#endif

#endif /* MEMSCOPE_H */
