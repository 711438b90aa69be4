/* dump_schema.c — the tables of dump_schema.h as data: one field descriptor per column.
 *
 * The writer, the reader, ms_dump_free() and the FORMAT.md generator walk these descriptors
 * instead of naming each field again, so a column added to a table in dump_schema.h is
 * written, read, range-checked, freed and documented without another edit. Compiled into both
 * msdump and libmemscope (the writer needs it inside the tracked process): constant data only.
 */
#include "dump.h"

#include <stddef.h>

/* What each type's descriptor needs besides the member's offset: aux_off, aux, aux_name, rows.
 * REC is the record being described (defined around each table below). */
#define AUX_NONE_ 0, 0, NULL, NULL
#define AUX_U64(name, aux) AUX_NONE_
#define AUX_U32(name, aux) AUX_NONE_
#define AUX_I64(name, aux) AUX_NONE_
#define AUX_BOOL(name, aux) AUX_NONE_
#define AUX_STR(name, aux) AUX_NONE_
#define AUX_IDX(name, aux) offsetof(ms_dump_t, n_##aux), 0, #aux, NULL
#define AUX_ENUM(name, aux) 0, (aux), NULL, NULL
#define AUX_U64S(name, aux) 0, (aux), NULL, NULL
#define AUX_STRS(name, aux) offsetof(REC, aux), 0, NULL, NULL
#define AUX_BIN32(name, aux) offsetof(REC, aux), 0, NULL, NULL
#define AUX_OPT_U64(name, aux) offsetof(REC, aux), 0, NULL, NULL
#define AUX_ROWS(name, aux) offsetof(REC, n_##name), 0, #aux, &ms_dump_record_##aux

/* The tracked process writes dumps and never documents them: libmemscope leaves the meanings
 * out of its copy of the tables (MS_BUILDING_LIBRARY), the converter and the tests keep them. */
#ifdef MS_BUILDING_LIBRARY
#define DOC_(doc) NULL
#else
#define DOC_(doc) doc
#endif
#define FIELD(since, type, name, aux, doc) \
  {#name, MS_DT_##type, since, offsetof(REC, name), AUX_##type(name, aux), DOC_(doc)},
#define RECORD(r, table)                                                           \
  static const ms_dump_field_t r##_fields[] = {table(FIELD)};                      \
  const ms_dump_record_t ms_dump_record_##r = {#r, sizeof(REC),                  \
                                               sizeof r##_fields / sizeof *r##_fields, \
                                               r##_fields};

/* One line a record; a nested record (event) before the one holding it (variable). */
#define REC ms_dump_process_t
RECORD(process, MS_DUMP_PROCESS_FIELDS)
#undef REC
#define REC ms_dump_options_t
RECORD(options, MS_DUMP_OPTIONS_FIELDS)
#undef REC
#define REC ms_dump_summary_t
RECORD(summary, MS_DUMP_SUMMARY_FIELDS)
#undef REC
#define REC ms_dump_module_t
RECORD(module, MS_DUMP_MODULE_FIELDS)
#undef REC
#define REC ms_dump_site_t
RECORD(site, MS_DUMP_SITE_FIELDS)
#undef REC
#define REC ms_dump_alloc_t
RECORD(alloc, MS_DUMP_ALLOC_FIELDS)
#undef REC
#define REC ms_dump_class_t
RECORD(class, MS_DUMP_CLASS_FIELDS)
#undef REC
#define REC ms_dump_event_t
RECORD(event, MS_DUMP_EVENT_FIELDS)
#undef REC
#define REC ms_dump_variable_t
RECORD(variable, MS_DUMP_VARIABLE_FIELDS)
#undef REC
#define REC ms_dump_point_t
RECORD(point, MS_DUMP_POINT_FIELDS)
#undef REC
#define REC ms_dump_error_t
RECORD(error, MS_DUMP_ERROR_FIELDS)
#undef REC
#define REC ms_dump_thread_t
RECORD(thread, MS_DUMP_THREAD_FIELDS)
#undef REC
#define REC ms_dump_crossing_t
RECORD(crossing, MS_DUMP_CROSSING_FIELDS)
#undef REC
#define REC ms_dump_point_site_t
RECORD(point_site, MS_DUMP_POINT_SITE_FIELDS)
#undef REC

#define SEC_REC_MAP(rec) &ms_dump_record_##rec
#define SEC_REC_TABLE(rec) &ms_dump_record_##rec
#define SEC_REC_STACKS(rec) NULL
#define SEC_REC_TAGS(rec) NULL
#define SEC_OFF_MAP(name) offsetof(ms_dump_t, name), 0
#define SEC_OFF_TABLE(name) offsetof(ms_dump_t, name), offsetof(ms_dump_t, n_##name)
#define SEC_OFF_STACKS(name) SEC_OFF_TABLE(name)
#define SEC_OFF_TAGS(name) SEC_OFF_TABLE(name)
#define SECTION(name, kind, rec) {#name, MS_DS_##kind, SEC_OFF_##kind(name), SEC_REC_##kind(rec)},

const ms_dump_section_t ms_dump_sections[] = {MS_DUMP_SECTIONS(SECTION)};
const uint32_t ms_dump_n_sections = sizeof ms_dump_sections / sizeof *ms_dump_sections;

uint32_t ms_dump_row_fields(const ms_dump_record_t *rec, uint32_t version) {
  uint32_t n = 0;
  while (n < rec->n_fields && rec->fields[n].since <= version) n++;
  return n;
}
