/* symbolize_inline.h — the chain of inlined calls at an address (symbolize_inline.c). */
#ifndef MEMSCOPE_CLI_SYMBOLIZE_INLINE_H
#define MEMSCOPE_CLI_SYMBOLIZE_INLINE_H

#include <elfutils/libdwfl.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct ms_inline {
  const char *name;        /* the inlined function (owned by libdw), NULL when unnamed */
  int mangled;             /* name is a linkage name: demangle it */
  const char *call_file;   /* where it was called from, NULL when unknown */
  uint32_t call_line;      /* 0 when unknown */
} ms_inline_t;

/* An index of one module's functions (their address ranges), built once; NULL when the
 * module has no DWARF. Valid while the module's Dwfl is open. */
typedef struct ms_inline_index ms_inline_index_t;
ms_inline_index_t *ms_inline_index_new(Dwfl_Module *mod);
void ms_inline_index_free(ms_inline_index_t *ix);

/* The inlined calls whose code contains pc (a run-time address of the module), innermost
 * first, at most max; 0 when pc is not inside any inlined call. */
uint32_t ms_inline_chain(ms_inline_index_t *ix, uint64_t pc, ms_inline_t *out, uint32_t max);

#endif /* MEMSCOPE_CLI_SYMBOLIZE_INLINE_H */
