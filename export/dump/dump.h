/* dump.h — the in-memory form of a memscope dump, shared by the writer and the reader.
 *
 * The library fills an ms_dump_t from the tracker's state (track/snapshot.c) and hands it to
 * ms_dump_write(), which serialises it as MessagePack (docs/FORMAT.md). The converter reads a
 * file back into the same struct with ms_dump_read(), which treats the file as untrusted.
 * Keeping one struct for both sides is what keeps writer and reader in step: a field added
 * here is added to FORMAT.md, the writer, the reader and the round-trip test together.
 *
 * Conventions: all times are nanoseconds since the process started (CLOCK_MONOTONIC based);
 * indexes into other arrays are uint32_t and MS_DUMP_NONE means "none"; strings are
 * NUL-terminated, owned by the dump, may be NULL when unknown. Stacks hold raw return
 * addresses, innermost first. Byte/count figures derived from samples are already weighted
 * (unbiased estimates; exact when sample_rate == 1).
 */
#ifndef MEMSCOPE_EXPORT_DUMP_H
#define MEMSCOPE_EXPORT_DUMP_H

#include <stddef.h>
#include <stdint.h>

#define MS_DUMP_MAGIC "MEMSCOPE"   /* first element of the top-level array */
#define MS_DUMP_FORMAT_VERSION 2   /* bump with every change to FORMAT.md */
#define MS_DUMP_NONE UINT32_MAX
#define MS_DUMP_LIFETIME_BUCKETS 8 /* <1us <10us <100us <1ms <10ms <100ms <1s >=1s */

/* Reader limits (docs/FORMAT.md "Limits"); the writer never produces more than these. */
#define MS_DUMP_MAX_FILE ((uint64_t)4 << 30)   /* bytes in one dump file */
#define MS_DUMP_MAX_COUNT (64u << 20)           /* elements in any one array */
#define MS_DUMP_MAX_STRING (1u << 20)           /* bytes in one string */
#define MS_DUMP_MAX_DEPTH 1024u                 /* frames in one stack */

typedef enum ms_dump_reason {
  MS_DUMP_REASON_SNAPSHOT = 0, /* ms_snapshot() */
  MS_DUMP_REASON_EXIT = 1,     /* at exit: live allocations are leaks */
  MS_DUMP_REASON_SIGNAL = 2,   /* MEMSCOPE_SNAPSHOT_SIGNAL */
} ms_dump_reason_t;

typedef struct ms_dump_process {
  uint64_t pid, ppid;
  char *exe;                    /* /proc/self/exe target */
  char **argv;                  /* cmdline, argc entries */
  uint32_t argc;
  uint64_t start_time_unix_ns;  /* wall clock at start */
  uint64_t dump_time_ns;        /* when the dump was taken (since start) */
  uint32_t reason;              /* ms_dump_reason_t */
  uint32_t sequence;            /* %n of this dump */
} ms_dump_process_t;

typedef struct ms_dump_options {
  uint64_t sample_rate;         /* 0 statistics only, 1 exact, else mean bytes between samples */
  uint32_t stack_depth;
  uint32_t interval_ms;
  char *checks;                 /* MEMSCOPE_CHECKS in force, normalised */
} ms_dump_options_t;

typedef struct ms_dump_summary {  /* exact counters (from the allocator core) */
  uint64_t total_allocations, total_frees, total_bytes;
  uint64_t live_bytes, live_allocations;
  uint64_t peak_live_bytes, peak_time_ns;
  uint64_t usable_bytes, header_bytes;   /* live */
  uint64_t rss_bytes, peak_rss_bytes;    /* at dump time, from /proc */
  uint64_t sampled_allocations;          /* samples taken since start */
  uint32_t leak_check;                   /* ms_dump_leak_check_t (version 2) */
} ms_dump_summary_t;

/* Whether the allocation rows carry reachability classes (summary.leak_check). */
typedef enum ms_dump_leak_check {
  MS_LEAK_CHECK_OFF = 0,      /* not requested (MEMSCOPE_LEAK_CHECK unset) */
  MS_LEAK_CHECK_DONE = 1,     /* every live block classified */
  MS_LEAK_CHECK_SAMPLED = 2,  /* requested, but sampling: classes cannot be computed */
  MS_LEAK_CHECK_FAILED = 3,   /* requested, could not run (out of memory, no free signal) */
} ms_dump_leak_check_t;

/* A live block's class after a leak check, with valgrind memcheck's meanings (allocs[].kind). */
typedef enum ms_dump_leak_kind {
  MS_LEAK_UNKNOWN = 0,        /* no scan (or the block appeared after it) */
  MS_LEAK_DEFINITE = 1,       /* nothing points to it */
  MS_LEAK_INDIRECT = 2,       /* only lost blocks point to it */
  MS_LEAK_POSSIBLE = 3,       /* reached, but only through an interior pointer somewhere */
  MS_LEAK_REACHABLE = 4,      /* a root still points to it (through start pointers) */
} ms_dump_leak_kind_t;
#define MS_LEAK_KINDS 5

typedef struct ms_dump_module {
  char *path;
  uint64_t base;                /* load bias (address of the ELF's vaddr 0) */
  uint64_t start, end;          /* mapped executable range */
  uint8_t build_id[32];
  uint32_t build_id_len;        /* 0 when the module has none */
} ms_dump_module_t;

typedef struct ms_dump_stack {
  uint32_t depth;
  uint64_t *frames;             /* return addresses, innermost first */
} ms_dump_stack_t;

typedef struct ms_dump_site {   /* one allocation call site = one stack (and tag) */
  uint32_t stack;               /* index into stacks */
  uint32_t tag;                 /* index into tags or MS_DUMP_NONE */
  uint64_t live_bytes, live_count;       /* estimated */
  uint64_t total_bytes, total_count;     /* estimated, since start */
  uint64_t peak_bytes, peak_count;       /* live at the moment of the global peak */
  uint64_t temp_count, temp_bytes;       /* freed soon after allocation (< 1 ms, no other
                                            allocation by the thread in between) */
  uint64_t realloc_count;                /* reallocs of blocks from this site */
  uint64_t lifetime[MS_DUMP_LIFETIME_BUCKETS]; /* freed sampled blocks by lifetime */
} ms_dump_site_t;

typedef struct ms_dump_alloc {  /* a live sampled allocation */
  uint64_t address, size;       /* requested size */
  uint64_t weight_bytes;        /* estimated bytes it stands for (== size when rate 1) */
  uint64_t time_ns;
  uint32_t stack, thread, tag;  /* thread: index into threads */
  uint32_t kind;                /* ms_dump_leak_kind_t (version 2) */
} ms_dump_alloc_t;

typedef struct ms_dump_class {
  uint64_t size;                /* upper bound of the class (header included) */
  uint64_t allocations, frees;
  uint64_t requested_bytes, usable_bytes;  /* live */
  uint64_t total_requested;
} ms_dump_class_t;

typedef enum ms_dump_event_kind {
  MS_EV_ALLOC = 0, MS_EV_TRACK = 1, MS_EV_REALLOC = 2, MS_EV_FREE = 3,
  MS_EV_RETAIN = 4, MS_EV_RELEASE = 5, MS_EV_REFSET = 6,
} ms_dump_event_kind_t;

typedef struct ms_dump_event {
  uint64_t time_ns;
  uint32_t kind;                /* ms_dump_event_kind_t */
  uint32_t thread;
  int64_t count;                /* reference count after retain/release/refset */
  uint64_t address, size;       /* block after the event (realloc: the new one) */
  uint32_t stack;               /* where it happened, or MS_DUMP_NONE */
} ms_dump_event_t;

typedef struct ms_dump_variable {
  char *name, *type, *file;
  uint32_t line;
  uint64_t address, size;
  uint64_t alloc_time_ns;
  uint64_t free_time_ns;        /* valid when freed != 0 */
  uint32_t freed;
  uint32_t thread;
  uint32_t alloc_stack, free_stack;
  uint32_t n_events;
  ms_dump_event_t *events;
} ms_dump_variable_t;

typedef struct ms_dump_point {
  uint64_t time_ns, live_bytes, rss_bytes;
} ms_dump_point_t;

/* Memory-error kinds, the one table: the number stored in dumps (docs/FORMAT.md) and the name
 * the library's stderr reports, the JSON and every report use. Numbers are part of the format:
 * append, never renumber. */
#define MS_DUMP_ERROR_KINDS(X)                   \
  X(DOUBLE_FREE, 0, "double_free")               \
  X(INVALID_FREE, 1, "invalid_free")             \
  X(BUFFER_OVERFLOW, 2, "buffer_overflow")       \
  X(USE_AFTER_FREE, 3, "use_after_free")         \
  X(BUFFER_UNDERFLOW, 4, "buffer_underflow")

typedef enum ms_dump_error_kind {
#define MS_DUMP_ERR_ENUM_(id, value, name) MS_ERR_##id = value,
  MS_DUMP_ERROR_KINDS(MS_DUMP_ERR_ENUM_)
#undef MS_DUMP_ERR_ENUM_
} ms_dump_error_kind_t;

/* The names indexed by kind, as an initializer: `static const char *const t[] = ...;`. */
#define MS_DUMP_ERR_NAME_(id, value, name) [value] = name,
#define MS_DUMP_ERROR_KIND_NAMES {MS_DUMP_ERROR_KINDS(MS_DUMP_ERR_NAME_)}

/* The name of an error kind, "unknown" for a number this build does not know. */
static inline const char *ms_dump_error_kind_name(uint32_t kind) {
  static const char *const names[] = MS_DUMP_ERROR_KIND_NAMES;
  return kind < sizeof names / sizeof *names && names[kind] ? names[kind] : "unknown";
}

typedef struct ms_dump_error {
  uint32_t kind;                /* ms_dump_error_kind_t */
  uint32_t thread;
  uint64_t address, size, time_ns;
  uint32_t stack, alloc_stack, free_stack;
  char *detail;                 /* free text, may be NULL */
} ms_dump_error_t;

typedef struct ms_dump_thread {
  uint64_t tid;
  char *name;
  uint32_t alive;
  uint64_t allocations, frees, allocated_bytes, freed_bytes;  /* exact */
} ms_dump_thread_t;

typedef struct ms_dump_crossing { /* sampled memory allocated from one module, freed from another */
  uint32_t alloc_module, free_module;   /* indexes into modules */
  uint64_t count, bytes;                /* estimated */
} ms_dump_crossing_t;

typedef struct ms_dump {
  uint32_t format_version;
  ms_dump_process_t process;
  ms_dump_options_t options;
  ms_dump_summary_t summary;
  uint32_t n_modules;   ms_dump_module_t *modules;
  uint32_t n_stacks;    ms_dump_stack_t *stacks;
  uint32_t n_tags;      char **tags;
  uint32_t n_sites;     ms_dump_site_t *sites;
  uint32_t n_allocs;    ms_dump_alloc_t *allocs;
  uint32_t n_classes;   ms_dump_class_t *classes;
  uint32_t n_variables; ms_dump_variable_t *variables;
  uint32_t n_timeline;  ms_dump_point_t *timeline;
  uint32_t n_errors;    ms_dump_error_t *errors;
  uint32_t n_threads;   ms_dump_thread_t *threads;
  uint32_t n_crossings; ms_dump_crossing_t *crossings;
} ms_dump_t;

/* Serialise d to fd as MessagePack. Returns 0 or a negative MS_* code. Uses plain malloc for
 * its buffer (inside the library the re-entrancy guard routes that to mimalloc untracked). */
int ms_dump_write(const ms_dump_t *d, int fd);

/* Read a dump from memory. Untrusted input: every count, index and length is checked.
 * On error returns a negative MS_* code and writes a one-line reason (no trailing newline)
 * into err. On success *out owns everything; release with ms_dump_free(). */
int ms_dump_read_buffer(const void *data, size_t len, ms_dump_t *out, char *err, size_t errlen);
/* Same, from a file path (reads it whole; refuses files larger than the limit in FORMAT.md). */
int ms_dump_read_file(const char *path, ms_dump_t *out, char *err, size_t errlen);
void ms_dump_free(ms_dump_t *d);

/* Test helper (export/dump/dump_example.c): fill d with a small, deterministic dump in which every
 * field holds a distinct non-zero value and every index is valid (variant selects one of a
 * few shapes: 0 = full example, 1 = empty dump, 2 = one of everything). Allocated with malloc,
 * release with ms_dump_free(). Used by the round-trip test, the fuzz seed corpus and golden
 * tests. Returns 0 or MS_ENOMEM. */
int ms_dump_example(ms_dump_t *d, unsigned variant);

#endif /* MEMSCOPE_EXPORT_DUMP_H */
