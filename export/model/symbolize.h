/* symbolize.h — turn return addresses from a dump into function, file and line.
 *
 * Dumps hold raw addresses and are symbolised here, in the converter (the tracked process
 * symbolises only its own stderr error reports, track/errors.c). The symboliser is given the
 * dump's module map; for each address it finds the module, opens that module's
 * binary once (or its /usr/lib/debug/.build-id file), checks that the build-id matches what
 * the tracked process had loaded, and asks DWARF for file:line and the symbol table for the
 * function. It degrades to module+offset when the binary is missing, stripped or different.
 */
#ifndef MEMSCOPE_CLI_SYMBOLIZE_H
#define MEMSCOPE_CLI_SYMBOLIZE_H

#include <stdint.h>

#include "dump.h"
#include "model.h"

typedef struct ms_symbolizer ms_symbolizer_t;

/* mods must outlive the symboliser. debug_dir NULL = /usr/lib/debug. no_files: never open
 * binaries (module+offset only). Returns NULL only when out of memory. */
ms_symbolizer_t *ms_symbolizer_new(const ms_dump_module_t *mods, uint32_t n_mods,
                                   const char *debug_dir, int no_files);

/* Fill f for address. Strings in f are owned by the symboliser. Each module's binary is opened
 * on first use; callers cache per address (the model does). */
void ms_symbolize(ms_symbolizer_t *s, uint64_t address, ms_frame_t *f);

/* Like ms_symbolize, with the functions the compiler inlined at address as frames of their
 * own (model.h ms_frame_t.inlined): out[0..n-2] the inlined calls, innermost first, out[n-1]
 * the function that holds the code, file:line of each being where the next inner one was
 * called. Returns n (1..max; 1 when nothing is inlined there). max >= 1. The one inline
 * reader (symbolize_inline.c): the model's frames, pprof's lines and the std-header labels
 * all come from here. */
#define MS_MAX_INLINE 16
uint32_t ms_symbolize_all(ms_symbolizer_t *s, uint64_t address, ms_frame_t *out, uint32_t max);

/* Index of the module containing address, or MS_DUMP_NONE. */
uint32_t ms_symbolizer_module_of(const ms_symbolizer_t *s, uint64_t address);

/* After symbolising: the best quality reached for module i, and whether its file's build-id
 * differed from the dump's. */
uint32_t ms_symbolizer_module_quality(const ms_symbolizer_t *s, uint32_t i, uint32_t *mismatch);

/* 1 when the module is memscope's own library or mimalloc (frames hidden from stack tops). */
int ms_symbolizer_module_internal(const ms_symbolizer_t *s, uint32_t i);

/* The pointee type's name of variable `var` as seen from the code at return address `address`
 * (e.g. "struct point" for `struct point *p`, "std::vector<int>" for a vector pointer), from
 * DWARF; NULL when the module has no DWARF there or no such pointer variable is in scope.
 * Written into buf. (typenames.c) */
const char *ms_symbolize_var_type(ms_symbolizer_t *s, uint64_t address, const char *var,
                                  char *buf, size_t len);

/* The libdwfl module holding address, opened if needed, and its load bias; NULL when there
 * is no usable file. For the DWARF readers beside this file (typenames.c). */
struct Dwfl_Module *ms_symbolizer_dwfl_module(ms_symbolizer_t *s, uint64_t address);

void ms_symbolizer_free(ms_symbolizer_t *s);

#endif /* MEMSCOPE_CLI_SYMBOLIZE_H */
