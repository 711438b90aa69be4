/* dump.h — the in-memory form of a memscope dump, shared by the writer and the reader.
 *
 * The library fills an ms_dump_t from the tracker's state (track/snapshot.c) and hands it to
 * ms_dump_write(), which serialises it as MessagePack (docs/FORMAT.md). The converter reads a
 * file back into the same struct with ms_dump_read(), which treats the file as untrusted.
 * The records' members are generated from the schema, dump_schema.h, whose tables also drive
 * the writer, the reader and FORMAT.md's field lists: a field is added there, in one line,
 * and reaches every side together (the round-trip test fills every field; ms_dump_example()
 * gets a value for the new one).
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
#define MS_DUMP_FORMAT_VERSION 3   /* bump with every change to FORMAT.md */
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

typedef struct ms_dump_stack {
  uint32_t depth;
  uint64_t *frames;             /* return addresses, innermost first */
} ms_dump_stack_t;

typedef enum ms_dump_event_kind {
  MS_EV_ALLOC = 0, MS_EV_TRACK = 1, MS_EV_REALLOC = 2, MS_EV_FREE = 3,
  MS_EV_RETAIN = 4, MS_EV_RELEASE = 5, MS_EV_REFSET = 6,
} ms_dump_event_kind_t;

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

/* The largest error kind this build knows (the reader refuses larger ones). */
#define MS_DUMP_ERR_COUNT_(id, value, name) +1
#define MS_ERR_KIND_MAX ((0 MS_DUMP_ERROR_KINDS(MS_DUMP_ERR_COUNT_)) - 1)

/* ---------------------------------------------------------------- the records
 * Their members are generated from the tables of dump_schema.h, where each has its meaning:
 * a U64 column is a uint64_t member of the same name, and so on (MS_DUMP_DECL_* below). */
#include "dump_schema.h"

#define MS_DUMP_DECL_U64(name, aux) uint64_t name;
#define MS_DUMP_DECL_U32(name, aux) uint32_t name;
#define MS_DUMP_DECL_I64(name, aux) int64_t name;
#define MS_DUMP_DECL_BOOL(name, aux) uint32_t name;
#define MS_DUMP_DECL_STR(name, aux) char *name;
#define MS_DUMP_DECL_IDX(name, aux) uint32_t name;
#define MS_DUMP_DECL_ENUM(name, aux) uint32_t name;
#define MS_DUMP_DECL_U64S(name, aux) uint64_t name[aux];
#define MS_DUMP_DECL_STRS(name, aux) char **name; uint32_t aux;
#define MS_DUMP_DECL_BIN32(name, aux) uint8_t name[32]; uint32_t aux;
#define MS_DUMP_DECL_OPT_U64(name, aux) uint64_t name; uint32_t aux;
#define MS_DUMP_DECL_ROWS(name, aux) uint32_t n_##name; struct ms_dump_##aux *name;
#define MS_DUMP_MEMBER(since, type, name, aux, doc) MS_DUMP_DECL_##type(name, aux)

/* typedef struct ms_dump_site { ... } ms_dump_site_t; and so on for every record. */
#define MS_DUMP_TYPEDEF(rec, FIELDS) typedef struct ms_dump_##rec { FIELDS(MS_DUMP_MEMBER) } ms_dump_##rec##_t;
MS_DUMP_RECORDS(MS_DUMP_TYPEDEF)

/* The dump: a singleton section is a member of its name, a table a count and an array. */
#define MS_DUMP_SECTION_MAP(name, rec) ms_dump_##rec##_t name;
#define MS_DUMP_SECTION_TABLE(name, rec) uint32_t n_##name; ms_dump_##rec##_t *name;
#define MS_DUMP_SECTION_STACKS(name, rec) uint32_t n_##name; ms_dump_##rec##_t *name;
#define MS_DUMP_SECTION_TAGS(name, rec) uint32_t n_##name; char **name;
#define MS_DUMP_SECTION_MEMBER(name, kind, rec) MS_DUMP_SECTION_##kind(name, rec)

typedef struct ms_dump {
  uint32_t format_version;
  MS_DUMP_SECTIONS(MS_DUMP_SECTION_MEMBER)
} ms_dump_t;

/* ---------------------------------------------------------------- the schema at run time
 * The same tables as data (dump_schema.c), for the code that walks every field: the writer,
 * the reader, ms_dump_free() and the FORMAT.md generator. */
typedef enum ms_dump_type {
  MS_DT_U64, MS_DT_U32, MS_DT_I64, MS_DT_BOOL, MS_DT_STR, MS_DT_IDX, MS_DT_ENUM, MS_DT_U64S,
  MS_DT_STRS, MS_DT_BIN32, MS_DT_OPT_U64, MS_DT_ROWS,
} ms_dump_type_t;

typedef struct ms_dump_field {
  const char *name;
  uint8_t type;                 /* ms_dump_type_t */
  uint8_t since;                /* format version that added it */
  uint32_t off;                 /* of the member in its record */
  uint32_t aux_off;             /* STRS/BIN32/OPT_U64/ROWS: the companion member in the record;
                                   IDX: the target's count in ms_dump_t */
  uint32_t aux;                 /* ENUM: largest value; U64S: element count */
  const char *aux_name;         /* IDX: the target section ("stacks"); ROWS: the record */
  const struct ms_dump_record *rows;  /* ROWS: the nested record */
  const char *doc;              /* meaning, as FORMAT.md gives it (NULL in libmemscope) */
} ms_dump_field_t;

typedef struct ms_dump_record {
  const char *name;
  uint32_t size, n_fields;
  const ms_dump_field_t *fields;
} ms_dump_record_t;

typedef enum ms_dump_section_kind {
  MS_DS_MAP, MS_DS_TABLE, MS_DS_STACKS, MS_DS_TAGS,
} ms_dump_section_kind_t;

typedef struct ms_dump_section {
  const char *name;
  uint32_t kind;                /* ms_dump_section_kind_t */
  uint32_t off, count_off;      /* member (array pointer for tables) and count in ms_dump_t */
  const ms_dump_record_t *rec;  /* MAP, TABLE: the record; NULL for stacks and tags */
} ms_dump_section_t;

/* Each record's descriptor: ms_dump_record_site, ms_dump_record_event, ... */
#define MS_DUMP_RECORD_DECL(rec, FIELDS) extern const ms_dump_record_t ms_dump_record_##rec;
MS_DUMP_RECORDS(MS_DUMP_RECORD_DECL)

/* The sections in the writer's order (MS_DUMP_SECTIONS). */
extern const ms_dump_section_t ms_dump_sections[];
extern const uint32_t ms_dump_n_sections;

/* Fields of rec that a row of the given format version holds (the first ones). */
uint32_t ms_dump_row_fields(const ms_dump_record_t *rec, uint32_t version);

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
