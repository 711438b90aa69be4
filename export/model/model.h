/* model.h — the converter's model of one dump: everything every output needs, computed once.
 *
 * The reader (export/dump/dump.h) gives raw facts: return addresses, per-site counters, live
 * samples. Every output (JSON, HTML, SVG, folded stacks, the text report, diff) needs the same
 * interpretation of them: symbolised frames, stacks with memscope's and mimalloc's own frames
 * hidden, sites sorted, leaks grouped by stack, per-thread / per-module / per-tag views,
 * fragmentation, named-variable lifecycles and usage-pattern findings. ms_model_build() does
 * all of that once, so the outputs only format and can never disagree with each other.
 *
 * Ownership: the model keeps a pointer to the dump (which must outlive it) and owns
 * everything else, including every string reachable from it. All arrays are read-only for
 * consumers. Indexes are uint32_t; MS_DUMP_NONE means "none".
 *
 * Stability: this header is shared with the reports (export/report/). Fields are only ever
 * added, never renamed or removed.
 *
 * Sites, threads, crossings, variables, errors and classes keep every column of their dump
 * record under the same name: model.c copies them by walking the record's table in
 * export/dump/dump_schema.h, so a column added there needs its member here (the build says
 * so) and nothing else.
 */
#ifndef MEMSCOPE_CLI_MODEL_H
#define MEMSCOPE_CLI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "dump.h"

/* ------------------------------------------------------------------ frames and stacks */

typedef enum ms_sym_quality {
  MS_SYM_NONE = 0,    /* no module: only the raw address is known */
  MS_SYM_OFFSET = 1,  /* module + offset (binary missing, stripped or build-id mismatch) */
  MS_SYM_SYMTAB = 2,  /* function name from the ELF symbol table, no line */
  MS_SYM_DWARF = 3,   /* function, file and line from DWARF */
} ms_sym_quality_t;

typedef struct ms_frame {
  uint64_t address;       /* return address as recorded */
  uint64_t offset;        /* address - module load bias (stable across ASLR); 0 if no module */
  const char *function;   /* NULL when unknown (C++ names are demangled when possible) */
  const char *file;       /* source file, NULL when unknown */
  uint32_t line;          /* 0 when unknown */
  uint32_t module;        /* index into model->modules or MS_DUMP_NONE */
  const char *module_path;/* the module's path, NULL when none */
  uint32_t quality;       /* ms_sym_quality_t */
  uint32_t internal;      /* 1: frame of memscope itself or of mimalloc (hidden from stacks) */
  uint64_t key_hash;      /* hash of the symbolised identity (function, file, line, or module
                             basename + offset): equal across runs despite ASLR */
  uint32_t inlined;       /* 1: a function the compiler inlined at this address; the frames of
                             one address are listed innermost (inlined) first, the function
                             that really holds the code last; file:line of an outer one is the
                             inlined call's */
} ms_frame_t;

typedef struct ms_mstack {
  uint32_t depth;         /* frames after hiding memscope's/mimalloc's frames at the top */
  uint32_t *frames;       /* indexes into model->frames, innermost first */
  uint32_t raw_depth;     /* depth in the dump, before hiding */
  uint32_t key;           /* symbolic identity: stacks with the same key have the same
                             symbolised frames (ASLR-independent); 0..n_keys-1 */
  uint64_t key_hash;      /* hash of the shown frames' key_hash sequence: compare stacks of
                             different dumps (diff) with this */
  uint32_t truncated;     /* 1: the tracker cut this stack at its depth limit (raw_depth reached
                             the dump's options.stack_depth): the outermost frames are missing */
} ms_mstack_t;

/* ------------------------------------------------------------------ sites, leaks */

typedef struct ms_msite {
  uint32_t dump_index;    /* index into dump->sites */
  uint32_t stack;         /* index into model->stacks (same numbering as dump->stacks) */
  uint32_t tag;           /* index into model->tags or MS_DUMP_NONE */
  uint32_t module;        /* module that made the allocation (first shown frame), or NONE */
  uint64_t live_bytes, live_count;
  uint64_t total_bytes, total_count;
  uint64_t peak_bytes, peak_count;
  uint64_t temp_bytes, temp_count;
  uint64_t realloc_count;
  uint64_t lifetime[MS_DUMP_LIFETIME_BUCKETS];
  double avg_size;        /* total_bytes / total_count (0 when no count) */
} ms_msite_t;

typedef struct ms_leak {  /* live allocations of an EXIT dump, grouped by stack */
  uint32_t stack;         /* index into model->stacks */
  uint32_t site;          /* index into model->sites of a site with that stack, or NONE */
  uint64_t bytes, count;  /* estimated (weights) */
  uint64_t sampled;       /* live samples behind the estimate */
  uint64_t first_time_ns; /* earliest allocation time among them */
  uint32_t kind;          /* ms_dump_leak_kind_t: the leak check's class (UNKNOWN without one) */
  uint32_t suppressed;    /* 1 + index of the matching suppression, 0 when shown */
} ms_leak_t;

/* Leak suppressions (suppress.c): LSan-style "leak:PATTERN" lines matched against the
 * function and module names of a leak's allocating stack. */
typedef struct ms_suppression {
  const char *pattern;    /* '*' matches any run of characters; otherwise a substring match */
  int builtin;            /* from memscope's own list */
  uint64_t hits, bytes, count;
} ms_suppression_t;

/* ------------------------------------------------------------------ views */

typedef struct ms_mthread {
  uint64_t tid;
  const char *name;       /* may be NULL */
  uint32_t alive;
  uint64_t allocations, frees, allocated_bytes, freed_bytes;   /* exact, from the dump */
  uint64_t live_bytes, live_count;                             /* estimated from live samples */
  uint32_t top_stack;     /* stack holding most live sampled bytes of this thread, or NONE */
  uint64_t top_stack_bytes;
} ms_mthread_t;

typedef struct ms_mmodule {
  const char *path;
  const char *name;       /* basename of path */
  uint64_t base, start, end;
  char build_id[65];      /* hex, "" when none */
  uint32_t symbols;       /* best ms_sym_quality_t achieved for this module */
  uint32_t build_id_mismatch; /* 1: a file was found but its build-id differs */
  uint32_t internal;      /* 1: libmemscope or libmimalloc */
  uint64_t live_bytes, live_count, total_bytes, total_count;   /* sites allocating from here */
  uint32_t n_sites;
} ms_mmodule_t;

typedef struct ms_mtag {
  const char *name;
  uint64_t live_bytes, live_count, total_bytes, total_count;
  uint32_t n_sites;
} ms_mtag_t;

typedef struct ms_mcrossing {   /* allocated by one module, freed by another */
  uint32_t alloc_module, free_module; /* indexes into model->modules */
  uint64_t count, bytes;
} ms_mcrossing_t;

typedef enum ms_var_state {
  MS_VAR_LIVE = 0,        /* still allocated at a snapshot */
  MS_VAR_FREED = 1,
  MS_VAR_LEAKED = 2,      /* still allocated when the process exited */
} ms_var_state_t;

typedef struct ms_mvariable {
  const char *name, *type, *file;   /* never NULL ("?" when unknown) */
  uint32_t line;
  uint64_t address, size;
  uint64_t alloc_time_ns, free_time_ns;  /* free_time_ns valid when state == FREED */
  uint64_t lifetime_ns;   /* to free, or to the dump time while live */
  uint32_t state;         /* ms_var_state_t */
  uint32_t thread;        /* index into threads or NONE */
  uint32_t alloc_stack, free_stack;  /* indexes into model->stacks or NONE */
  uint32_t n_events;
  const ms_dump_event_t *events;     /* the dump's events (time order) */
  int64_t max_refcount, final_refcount; /* 0 when no reference events */
  uint32_t n_reallocs;
  uint32_t refcount_unbalanced;      /* 1: freed while count > 0, or count went < 0 */
} ms_mvariable_t;

typedef struct ms_merror {
  uint32_t kind;          /* ms_dump_error_kind_t */
  const char *kind_name;  /* "double_free", ... (JSON name) */
  uint32_t thread;
  uint64_t address, size, time_ns;
  uint32_t stack, alloc_stack, free_stack;  /* model stacks or NONE */
  const char *detail;     /* may be NULL */
} ms_merror_t;

/* ------------------------------------------------------------------ fragmentation */

typedef struct ms_mclass {
  uint64_t size;
  uint64_t allocations, frees, live_count;
  uint64_t requested_bytes, usable_bytes, total_requested;
  uint64_t waste_bytes;   /* usable - requested (live) */
  double waste_ratio;     /* waste / usable, 0 when empty */
} ms_mclass_t;

typedef struct ms_fragmentation {
  uint64_t requested_bytes;   /* live, requested by the program */
  uint64_t usable_bytes;      /* live, set aside by the allocator (headers included) */
  uint64_t header_bytes;      /* of usable, memscope's headers */
  uint64_t class_waste_bytes; /* usable - requested - headers: rounding to size classes */
  uint64_t rss_bytes, peak_rss_bytes;
  uint64_t rss_overhead_bytes;/* rss - usable (0 if rss < usable): allocator free pages,
                                 code, stacks, other mappings */
  double internal_ratio;      /* (usable - requested) / usable */
  double rss_ratio;           /* requested / rss (heap efficiency), 0 when rss unknown */
  uint32_t worst_class;       /* index into classes with most waste bytes, or NONE */
  /* The one overhead vocabulary of every output (docs/REPORTS.md "Overhead"):
   *   requested_bytes  what the live blocks were asked for
   *   usable_bytes     what the allocator set aside for them (its slot sizes)
   *   rounding_bytes   = usable - requested: lost to size-class rounding
   *   metadata_bytes   memscope's own record per sampled block (summary.header_bytes)
   *   overhead_bytes   = rounding + metadata
   * (class_waste_bytes above is the older usable - requested - headers, kept for scripts.) */
  uint64_t rounding_bytes, metadata_bytes, overhead_bytes;
} ms_fragmentation_t;

/* ------------------------------------------------------------------ findings */

typedef enum ms_finding_kind {
  MS_FIND_TEMPORARY = 0,      /* many short-lived allocations from one site */
  MS_FIND_REALLOC_GROWTH = 1, /* repeated realloc growth from one site */
  MS_FIND_TINY = 2,           /* many tiny allocations from one site */
  MS_FIND_ONLY_GROWS = 3,     /* site never frees: live == total (and large) */
  MS_FIND_LEAK = 4,           /* biggest leaks at exit */
  MS_FIND_FRAGMENTATION = 5,  /* a size class wastes much memory */
  MS_FIND_REFCOUNT = 6,       /* unbalanced reference counts on a named variable */
  MS_FIND_MEMORY_ERROR = 7,   /* errors were detected */
} ms_finding_kind_t;

typedef enum ms_severity { MS_SEV_INFO = 0, MS_SEV_WARNING = 1, MS_SEV_ERROR = 2 } ms_severity_t;

typedef struct ms_finding {
  uint32_t kind;          /* ms_finding_kind_t */
  const char *kind_name;  /* "temporary", "realloc_growth", "tiny", "only_grows", "leak",
                             "fragmentation", "refcount", "memory_error" */
  uint32_t severity;      /* ms_severity_t */
  uint32_t site;          /* index into model->sites, or NONE */
  uint32_t stack;         /* index into model->stacks, or NONE */
  uint64_t bytes, count;  /* the figure the finding is about */
  const char *location;   /* "function (file:line)" of the site to fix, or module+offset */
  const char *message;    /* one sentence: what was seen and what to do */
} ms_finding_t;

/* ------------------------------------------------------------------ the model */

typedef struct ms_model_options {
  int no_symbols;             /* 1: skip symbolisation (module+offset only) */
  const char *debug_dir;      /* extra debug-info root (default /usr/lib/debug) */
  void (*progress)(void *ctx, const char *stage, uint64_t done, uint64_t total);
  void *progress_ctx;
  const char *suppressions;   /* leak suppressions file, NULL for none (built-ins always apply) */
} ms_model_options_t;

typedef struct ms_model {
  const ms_dump_t *dump;

  uint32_t n_frames;    ms_frame_t *frames;     /* one per distinct address */
  uint32_t n_stacks;    ms_mstack_t *stacks;    /* same numbering as dump->stacks */
  uint32_t n_keys;                              /* distinct symbolic stacks */
  const char **key_text;                        /* per key: canonical text used to match
                                                   stacks across dumps; NULL in this version, use key_hash */
  uint32_t n_modules;   ms_mmodule_t *modules;  /* same numbering as dump->modules */

  uint32_t n_sites;     ms_msite_t *sites;      /* sorted: live bytes, then total bytes, desc */
  uint32_t *by_peak;    /* site indexes sorted by peak_bytes desc */
  uint32_t *by_total;   /* by total_bytes desc */
  uint32_t *by_count;   /* by total_count desc */
  uint32_t *by_temp;    /* by temp_count desc */

  uint32_t is_exit;     /* dump taken at exit: live allocations are leaks */
  uint32_t n_leaks;     ms_leak_t *leaks;       /* sorted by bytes desc (empty unless is_exit) */
  uint64_t leaked_bytes, leaked_count;  /* every live block of the exit dump, all kinds */
  uint32_t leak_check;  /* dump->summary.leak_check (ms_dump_leak_check_t) */
  uint64_t kind_bytes[MS_LEAK_KINDS], kind_count[MS_LEAK_KINDS]; /* by class, unsuppressed */
  uint64_t suppressed_bytes, suppressed_count;                  /* blocks suppressions hid */
  uint32_t n_suppressions; ms_suppression_t *suppressions;       /* built-ins, then the file's */

  uint32_t n_threads;   ms_mthread_t *threads;  /* same numbering as dump->threads */
  uint32_t n_tags;      ms_mtag_t *tags;        /* same numbering as dump->tags */
  uint32_t n_crossings; ms_mcrossing_t *crossings; /* sorted by bytes desc */
  uint32_t n_variables; ms_mvariable_t *variables; /* dump order */
  uint32_t n_errors;    ms_merror_t *errors;
  uint32_t n_classes;   ms_mclass_t *classes;   /* dump order (ascending size) */
  ms_fragmentation_t fragmentation;
  uint32_t n_findings;  ms_finding_t *findings; /* most important first */

  uint64_t live_sampled_bytes, live_sampled_count;   /* sum over dump->allocs (estimates) */
  uint64_t temp_bytes, temp_count;                   /* sum over sites */
  uint64_t peak_site_bytes;   /* sum of the sites' peak_bytes: what the flame graph and the
                                 sites table attribute of summary.peak_live_bytes (equal at
                                 rate 1; an estimate of it when sampled) */
  uint32_t n_truncated;       /* stacks cut at the depth limit */

  void *priv_;          /* symboliser, string arena: internal */
} ms_model_t;

/* The JSON/text name of a leak kind: "definitely_lost", ..., "unknown". */
const char *ms_leak_kind_name(uint32_t kind);
/* Load opt->suppressions' lines after the built-ins; 0, or -1 with a one-line reason in err. */
int ms_suppressions_load(ms_model_t *m, const char *path, char *err, size_t errlen);
/* Mark every leak whose stack matches a suppression and update the totals. */
void ms_suppressions_apply(ms_model_t *m);

/* Build the model. opt may be NULL. Returns 0, or a negative MS_* code with a one-line
 * reason in err. The dump must stay alive while the model is used. */
int ms_model_build(ms_model_t *m, const ms_dump_t *d, const ms_model_options_t *opt,
                   char *err, size_t errlen);
void ms_model_free(ms_model_t *m);

/* The frame at position i (0 = innermost shown) of stack s, or NULL. */
const ms_frame_t *ms_model_frame(const ms_model_t *m, uint32_t stack, uint32_t i);

/* "function (file:line)" / "function (module)" / "module+0xoff" / "0xaddr" of a frame. */
int ms_frame_label(const ms_frame_t *f, char *buf, size_t len);

/* Label of a stack: its first frame outside the C library's allocation wrappers
 * (e.g. strdup), "(no stack)" when empty. */
int ms_stack_label(const ms_model_t *m, uint32_t stack, char *buf, size_t len);

/* Room for element n of a growing array: when n has reached *cap, the array whose pointer is
 * at pv (elements of elem bytes) is reallocated to twice the capacity (first when empty) and
 * *cap updated. 0, or -1 when out of memory (array and *cap unchanged). For the growing tables
 * of the model and of the outputs. */
int ms_grow(void *pv, uint32_t n, uint32_t *cap, size_t elem, uint32_t first);

/* Human-readable byte count ("1.5 MiB") into buf; returns buf. */
const char *ms_fmt_bytes(uint64_t bytes, char *buf, size_t len);

#endif /* MEMSCOPE_CLI_MODEL_H */
