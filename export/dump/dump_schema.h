/* dump_schema.h — the dump format's records, written once (docs/FORMAT.md).
 *
 * Every record kind of a dump is one X-macro table below, one line a field, in wire order:
 *
 *   X(since, TYPE, name, aux, "meaning")
 *
 * since    the format version that added the field. Fields are only ever appended: a row
 *          written by version v has the fields with since <= v (older rows are shorter).
 * TYPE     wire and memory type (the table "Types" below); aux is its parameter or 0.
 * name     the C member of ms_dump_<record>_t, and the map key / column name on disk.
 * meaning  what FORMAT.md says of it (its field tables are generated from these lines).
 *
 * From these tables come the structs of dump.h, the writer (dump_write.c), the reader and its
 * range checks (dump_read.c), ms_dump_free(), FORMAT.md's field lists (test/dump_schema_doc.c
 * prints them; the ctest `dump_schema_doc` fails when FORMAT.md differs) and the copies into the
 * converter's model (export/model/model.c copies a column to the same-named model member). A new field is one line here
 * (and a version bump: FORMAT.md "Versioning"); a new record kind is a table here, a line in
 * MS_DUMP_RECORDS and in MS_DUMP_SECTIONS, and a RECORD in dump_schema.c.
 *
 * Types (aux):
 *   U64        uint64                         | U32   uint32 (the reader refuses > 2^32-1)
 *   I64        int64, may be negative         | BOOL  MessagePack bool, uint32_t 0/1 in memory
 *   STR        str or nil (char *, NULL)      | IDX   index into section aux, or nil (MS_DUMP_NONE)
 *   ENUM       uint32 of at most aux          | U64S  array of exactly aux uint64
 *   STRS       array of str/nil; aux: the uint32_t count member
 *   BIN32      bin of 0-32 bytes (uint8_t[32]); aux: the uint32_t length member
 *   OPT_U64    uint64, or nil when the uint32_t member aux is 0
 *   ROWS       array of rows of record aux (ms_dump_<aux>_t *), count member n_<name>
 * This header is plain preprocessor data: it includes nothing and declares nothing.
 */
#ifndef MEMSCOPE_EXPORT_DUMP_SCHEMA_H
#define MEMSCOPE_EXPORT_DUMP_SCHEMA_H

/* ---------------------------------------------------------------- singletons (maps) */

#define MS_DUMP_PROCESS_FIELDS(X)                                                          \
  X(1, U64, pid, 0, "process id")                                                          \
  X(1, U64, ppid, 0, "parent process id")                                                  \
  X(1, STR, exe, 0, "target of `/proc/self/exe`")                                          \
  X(1, STRS, argv, argc, "the command line, `argv[0]` first")                              \
  X(1, U64, start_time_unix_ns, 0, "wall clock when tracking started, ns since the epoch") \
  X(1, U64, dump_time_ns, 0, "when this dump was taken, ns since start")                   \
  X(1, ENUM, reason, MS_DUMP_REASON_SIGNAL,                                                \
    "0 `ms_snapshot()`, 1 exit (live allocations are leaks), 2 signal")                    \
  X(1, U32, sequence, 0, "the `%n` of this dump (0, 1, 2 ... per process)")

#define MS_DUMP_OPTIONS_FIELDS(X)                                                          \
  X(1, U64, sample_rate, 0,                                                                \
    "mean bytes between samples; 1 = every allocation; 0 = statistics only")               \
  X(1, U32, stack_depth, 0, "frames kept per stack")                                       \
  X(1, U32, interval_ms, 0, "period of timeline points")                                   \
  X(1, STR, checks, 0, "`MEMSCOPE_CHECKS` in force, normalised")

#define MS_DUMP_SUMMARY_FIELDS(X)                                                          \
  X(1, U64, total_allocations, 0, "allocations since start (a realloc counts once)")       \
  X(1, U64, total_frees, 0, "frees since start (a realloc counts once)")                   \
  X(1, U64, total_bytes, 0, "requested bytes allocated since start")                       \
  X(1, U64, live_bytes, 0,                                                                 \
    "bytes live now: requested bytes of blocks with a header (all blocks in header mode, " \
    "sampled ones in lean mode), usable bytes of lean-mode unsampled blocks "              \
    "(docs/USAGE.md, \"Block layouts\")")                                                  \
  X(1, U64, live_allocations, 0, "blocks live now")                                        \
  X(1, U64, peak_live_bytes, 0, "highest `live_bytes` seen")                               \
  X(1, U64, peak_time_ns, 0, "when `peak_live_bytes` was seen")                            \
  X(1, U64, usable_bytes, 0, "live bytes the allocator set aside")                         \
  X(1, U64, header_bytes, 0,                                                               \
    "how many of `usable_bytes` are memscope headers (in lean mode: sampled blocks' "      \
    "headers only)")                                                                       \
  X(1, U64, rss_bytes, 0, "resident set now, from `/proc`")                                \
  X(1, U64, peak_rss_bytes, 0, "resident set at its peak, from `/proc`")                   \
  X(1, U64, sampled_allocations, 0, "samples taken since start")                           \
  X(2, ENUM, leak_check, MS_LEAK_CHECK_FAILED,                                             \
    "the leak check (`MEMSCOPE_LEAK_CHECK`): 0 not requested, 1 done (every `allocs` row " \
    "has a class), 2 requested but sampling (`sample_rate` != 1: classes cannot be "       \
    "computed, rows stay 0 = unknown), 3 requested but could not run")

/* ---------------------------------------------------------------- table rows */

#define MS_DUMP_MODULE_FIELDS(X)                                                           \
  X(1, STR, path, 0, "file the module was loaded from")                                    \
  X(1, U64, base, 0,                                                                       \
    "load bias: run-time address of the ELF's virtual address 0 (`addr - base` is the "    \
    "address to look up in the file)")                                                     \
  X(1, U64, start, 0, "start of the mapped executable range `[start, end)`")               \
  X(1, U64, end, 0, "end of the mapped executable range")                                  \
  X(1, BIN32, build_id, build_id_len, "GNU build-id note; empty when the module has none")

#define MS_DUMP_SITE_FIELDS(X)                                                             \
  X(1, IDX, stack, stacks, "where the allocations were made")                              \
  X(1, IDX, tag, tags, "innermost tag at allocation")                                      \
  X(1, U64, live_bytes, 0, "estimated bytes live now")                                     \
  X(1, U64, live_count, 0, "estimated blocks live now")                                    \
  X(1, U64, total_bytes, 0, "estimated bytes allocated since start")                       \
  X(1, U64, total_count, 0, "estimated allocations since start")                           \
  X(1, U64, peak_bytes, 0, "bytes live at the moment of the global peak")                  \
  X(1, U64, peak_count, 0, "blocks live at the moment of the global peak")                 \
  X(1, U64, temp_count, 0,                                                                 \
    "temporary allocations: freed < 1 ms after allocation with no other allocation by "    \
    "the thread in between")                                                               \
  X(1, U64, temp_bytes, 0, "bytes of those temporary allocations")                         \
  X(1, U64, realloc_count, 0, "reallocs of blocks from this site")                         \
  X(1, U64S, lifetime, MS_DUMP_LIFETIME_BUCKETS,                                           \
    "freed sampled blocks by lifetime: < 1 µs, < 10 µs, < 100 µs, < 1 ms, < 10 ms, "       \
    "< 100 ms, < 1 s, ≥ 1 s")

#define MS_DUMP_ALLOC_FIELDS(X)                                                            \
  X(1, U64, address, 0, "user pointer")                                                    \
  X(1, U64, size, 0, "requested size")                                                     \
  X(1, U64, weight_bytes, 0,                                                               \
    "bytes this sample stands for (== `size` when `sample_rate` is 1)")                    \
  X(1, U64, time_ns, 0, "when it was allocated")                                           \
  X(1, IDX, stack, stacks, "where it was allocated")                                       \
  X(1, IDX, thread, threads, "thread that allocated it (none in lean exact mode)")          \
  X(1, IDX, tag, tags, "innermost tag at allocation")                                      \
  X(2, ENUM, kind, MS_LEAK_REACHABLE,                                                      \
    "reachability class from the leak check, valgrind memcheck's meanings: 0 unknown (no " \
    "check, sampling, or the block appeared after the scan), 1 definitely lost (nothing "  \
    "points to it), 2 indirectly lost (only lost blocks point to it), 3 possibly lost "    \
    "(reached, but only through a pointer into its middle somewhere on the way), 4 still " \
    "reachable (a root points to it through start pointers)")

#define MS_DUMP_CLASS_FIELDS(X)                                                            \
  X(1, U64, size, 0, "the class's upper bound (header included)")                          \
  X(1, U64, allocations, 0, "allocations since start")                                     \
  X(1, U64, frees, 0, "frees since start")                                                 \
  X(1, U64, requested_bytes, 0,                                                            \
    "live requested bytes (lean mode: unsampled blocks estimated with the class's mean "   \
    "request)")                                                                            \
  X(1, U64, usable_bytes, 0, "live usable bytes")                                          \
  X(1, U64, total_requested, 0, "requested bytes since start")

#define MS_DUMP_EVENT_FIELDS(X)                                                            \
  X(1, U64, time_ns, 0, "when it happened")                                                \
  X(1, ENUM, kind, MS_EV_REFSET,                                                           \
    "0 alloc, 1 track, 2 realloc, 3 free, 4 retain, 5 release, 6 refset")                  \
  X(1, IDX, thread, threads, "thread it happened on")                                      \
  X(1, I64, count, 0, "reference count after retain/release/refset")                       \
  X(1, U64, address, 0, "the block after the event (realloc: the new block)")              \
  X(1, U64, size, 0, "its size after the event")                                           \
  X(1, IDX, stack, stacks, "where it happened")

#define MS_DUMP_VARIABLE_FIELDS(X)                                                         \
  X(1, STR, name, 0, "as given to `ms_track()`")                                           \
  X(1, STR, type, 0, "as given to `ms_track()`")                                           \
  X(1, STR, file, 0, "as given to `ms_track()`")                                           \
  X(1, U32, line, 0, "as given to `ms_track()`")                                           \
  X(1, U64, address, 0, "the block")                                                       \
  X(1, U64, size, 0, "the block's size")                                                   \
  X(1, U64, alloc_time_ns, 0, "when it was allocated")                                     \
  X(1, OPT_U64, free_time_ns, freed, "when it was freed; nil while the block is live")     \
  X(1, IDX, thread, threads, "thread that named it")                                       \
  X(1, IDX, alloc_stack, stacks, "where it was allocated")                                 \
  X(1, IDX, free_stack, stacks, "where it was freed")                                      \
  X(1, ROWS, events, event, "its history, oldest first")

#define MS_DUMP_POINT_FIELDS(X)                                                            \
  X(1, U64, time_ns, 0, "when the point was taken (one per `interval_ms`, in time order)") \
  X(1, U64, live_bytes, 0, "`summary.live_bytes` then")                                    \
  X(1, U64, rss_bytes, 0, "resident set then")

#define MS_DUMP_ERROR_FIELDS(X)                                                            \
  X(1, ENUM, kind, MS_ERR_KIND_MAX,                                                        \
    "0 double_free, 1 invalid_free, 2 buffer_overflow, 3 use_after_free, "                 \
    "4 buffer_underflow")                                                                  \
  X(1, IDX, thread, threads, "thread that hit it")                                         \
  X(1, U64, address, 0, "the block concerned")                                             \
  X(1, U64, size, 0, "its size")                                                           \
  X(1, U64, time_ns, 0, "when it was detected")                                            \
  X(1, IDX, stack, stacks, "where it was detected")                                        \
  X(1, IDX, alloc_stack, stacks, "where the block was allocated")                          \
  X(1, IDX, free_stack, stacks, "where the block was freed")                               \
  X(1, STR, detail, 0, "free text")

#define MS_DUMP_THREAD_FIELDS(X)                                                           \
  X(1, U64, tid, 0, "kernel thread id")                                                    \
  X(1, STR, name, 0, "thread name")                                                        \
  X(1, BOOL, alive, 0, "still running")                                                    \
  X(1, U64, allocations, 0, "allocations by the thread (exact)")                           \
  X(1, U64, frees, 0, "frees by the thread (exact)")                                       \
  X(1, U64, allocated_bytes, 0, "bytes it allocated (exact)")                              \
  X(1, U64, freed_bytes, 0, "bytes it freed (exact)")

/* version 3: who held the memory at each timeline point (track/timeline.c) */
#define MS_DUMP_POINT_SITE_FIELDS(X)                                                       \
  X(3, IDX, point, timeline, "the timeline point")                                         \
  X(3, IDX, stack, stacks, "the site, by its stack (the `sites` row with that `stack`)")   \
  X(3, U64, bytes, 0, "estimated live bytes of that site at that point")
#define MS_DUMP_CROSSING_FIELDS(X)                                                         \
  X(1, IDX, alloc_module, modules, "module that allocated")                                \
  X(1, IDX, free_module, modules, "module that freed")                                     \
  X(1, U64, count, 0, "estimated blocks")                                                  \
  X(1, U64, bytes, 0, "estimated bytes")

/* ---------------------------------------------------------------- the records
 * R(record, table): each record kind once; dump.h declares ms_dump_<record>_t from its table. */
#define MS_DUMP_RECORDS(R)                        \
  R(process, MS_DUMP_PROCESS_FIELDS)              \
  R(options, MS_DUMP_OPTIONS_FIELDS)              \
  R(summary, MS_DUMP_SUMMARY_FIELDS)              \
  R(module, MS_DUMP_MODULE_FIELDS)                \
  R(site, MS_DUMP_SITE_FIELDS)                    \
  R(alloc, MS_DUMP_ALLOC_FIELDS)                  \
  R(class, MS_DUMP_CLASS_FIELDS)                  \
  R(event, MS_DUMP_EVENT_FIELDS)                  \
  R(variable, MS_DUMP_VARIABLE_FIELDS)            \
  R(point, MS_DUMP_POINT_FIELDS)                  \
  R(error, MS_DUMP_ERROR_FIELDS)                  \
  R(thread, MS_DUMP_THREAD_FIELDS)                \
  R(crossing, MS_DUMP_CROSSING_FIELDS)           \
  R(point_site, MS_DUMP_POINT_SITE_FIELDS)

/* ---------------------------------------------------------------- the top-level sections
 * S(name, KIND, record): in the writer's order. KIND: MAP (a singleton, member `name`),
 * TABLE (rows of ms_dump_<record>_t, members n_<name> and name), and the two tables whose
 * rows are not records: STACKS (arrays of return addresses) and TAGS (strings). */
#define MS_DUMP_SECTIONS(S)  \
  S(process, MAP, process)   \
  S(options, MAP, options)   \
  S(summary, MAP, summary)   \
  S(modules, TABLE, module)  \
  S(stacks, STACKS, stack)   \
  S(tags, TAGS, tag)         \
  S(sites, TABLE, site)      \
  S(allocs, TABLE, alloc)    \
  S(classes, TABLE, class)   \
  S(variables, TABLE, variable) \
  S(timeline, TABLE, point)  \
  S(errors, TABLE, error)    \
  S(threads, TABLE, thread)  \
  S(crossings, TABLE, crossing) \
  S(timeline_sites, TABLE, point_site)

#endif /* MEMSCOPE_EXPORT_DUMP_SCHEMA_H */
