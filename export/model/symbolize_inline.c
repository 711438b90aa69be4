/* symbolize_inline.c — the functions the compiler inlined at an address, from DWARF (libdw).
 *
 * The line table answers "which source line is this instruction", the symbol table "which
 * function holds it"; neither says that the line belongs to a function inlined into that one
 * (issue 17: a site read "main demo.c:22" where line 22 is inside session_new). The DWARF
 * tree does: under the DW_TAG_subprogram holding the code, the DW_TAG_inlined_subroutine DIEs
 * whose ranges contain the address are the inlined calls, nested as they were inlined, each
 * with the name of what was inlined (its abstract origin) and where it was called from
 * (DW_AT_call_file/line). This is what eu-addr2line -i and gdb show.
 *
 * Why an index: dwarf_getscopes() answers the same question but walks the compilation unit
 * from its start on every call; with large CUs that was 2 ms per address (40 s for the 17k
 * addresses of the scale test). Here each module's subprograms are listed once (their address
 * ranges, sorted), an address finds its subprogram by binary search, and only that function's
 * own DIE subtree is descended. libdw is the library already used for symbolisation.
 */
#include "symbolize_inline.h"

#include "model.h"  /* ms_grow */

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

typedef struct fn_range {
  uint64_t lo, hi;       /* run-time addresses [lo, hi) */
  Dwarf_Die die;         /* the DW_TAG_subprogram */
} fn_range_t;

struct ms_inline_index {
  Dwarf_Addr bias;
  fn_range_t *v;
  uint32_t n, cap;
};

static void add_range(ms_inline_index_t *ix, uint64_t lo, uint64_t hi, const Dwarf_Die *die) {
  if (hi <= lo) return;
  /* out of memory: fewer functions indexed, their inlined frames are not shown */
  if (ms_grow(&ix->v, ix->n, &ix->cap, sizeof *ix->v, 1024) != 0) return;
  ix->v[ix->n++] = (fn_range_t){lo, hi, *die};
}

/* Subprograms with code under die: at CU level, and inside namespaces and classes (C++). */
static void collect(ms_inline_index_t *ix, Dwarf_Die *parent, int depth) {
  Dwarf_Die c;
  if (depth > 8 || dwarf_child(parent, &c) != 0) return;
  do {
    int tag = dwarf_tag(&c);
    if (tag == DW_TAG_subprogram) {
      Dwarf_Addr base, start, end;
      ptrdiff_t off = 0;
      while ((off = dwarf_ranges(&c, off, &base, &start, &end)) > 0)
        add_range(ix, start + ix->bias, end + ix->bias, &c);
    } else if (tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
               tag == DW_TAG_union_type) {
      collect(ix, &c, depth + 1);
    }
  } while (dwarf_siblingof(&c, &c) == 0);
}

static int by_lo(const void *a, const void *b) {
  const fn_range_t *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

ms_inline_index_t *ms_inline_index_new(Dwfl_Module *mod) {
  Dwarf_Addr bias = 0;
  Dwarf *dw = mod ? dwfl_module_getdwarf(mod, &bias) : NULL;
  if (!dw) return NULL;
  ms_inline_index_t *ix = calloc(1, sizeof *ix);
  if (!ix) return NULL;
  ix->bias = bias;
  Dwarf_Off off = 0, next;
  size_t hsize;
  while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
    Dwarf_Die cu;
    if (dwarf_offdie(dw, off + hsize, &cu)) collect(ix, &cu, 0);
    off = next;
  }
  if (ix->n) qsort(ix->v, ix->n, sizeof *ix->v, by_lo);
  return ix;
}

void ms_inline_index_free(ms_inline_index_t *ix) {
  if (!ix) return;
  free(ix->v);
  free(ix);
}

static const char *die_name(Dwarf_Die *die, int *mangled) {
  Dwarf_Attribute at;
  const char *n = NULL;
  /* The linkage name demangles into a C++ name with its scope; C has only DW_AT_name. Both
   * are found through the abstract origin (dwarf_attr_integrate). */
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &at)) n = dwarf_formstring(&at);
  if (!n && dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &at)) n = dwarf_formstring(&at);
  if (n) {
    *mangled = 1;
    return n;
  }
  *mangled = 0;
  if (dwarf_attr_integrate(die, DW_AT_name, &at)) n = dwarf_formstring(&at);
  return n;
}

#define MS_INLINE_NEST 32

uint32_t ms_inline_chain(ms_inline_index_t *ix, uint64_t pc, ms_inline_t *out, uint32_t max) {
  if (!ix || !ix->n || !max) return 0;
  /* The last function starting at or below pc; a few back in case ranges nest or overlap. */
  size_t lo = 0, hi = ix->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->v[mid].lo <= pc) lo = mid + 1;
    else hi = mid;
  }
  const fn_range_t *fn = NULL;
  for (size_t k = lo, tries = 0; k > 0 && tries < 8; k--, tries++)
    if (pc >= ix->v[k - 1].lo && pc < ix->v[k - 1].hi) {
      fn = &ix->v[k - 1];
      break;
    }
  if (!fn) return 0;
  /* Descend from the function through the lexical blocks and inlined calls that contain pc:
   * the inlined calls met on the way are the chain, outermost first. */
  Dwarf_Die chain[MS_INLINE_NEST], cur = fn->die, c;
  uint32_t depth = 0;
  Dwarf_Addr dpc = pc - ix->bias;
  while (depth < MS_INLINE_NEST && dwarf_child(&cur, &c) == 0) {
    int found = 0;
    do {
      int tag = dwarf_tag(&c);
      if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block) && dwarf_haspc(&c, dpc) == 1) {
        found = 1;
        break;
      }
    } while (dwarf_siblingof(&c, &c) == 0);
    if (!found) break;
    if (dwarf_tag(&c) == DW_TAG_inlined_subroutine) chain[depth++] = c;
    cur = c;
  }
  if (!depth) return 0;
  Dwarf_Die cudie;
  Dwarf_Files *files = NULL;
  size_t nfiles = 0;
  if (!dwarf_diecu(&chain[0], &cudie, NULL, NULL) || dwarf_getsrcfiles(&cudie, &files, &nfiles) != 0)
    files = NULL;
  uint32_t k = 0;
  for (uint32_t i = depth; i-- > 0 && k < max;) {   /* innermost first */
    ms_inline_t *o = &out[k++];
    memset(o, 0, sizeof *o);
    o->name = die_name(&chain[i], &o->mangled);
    Dwarf_Attribute at;
    Dwarf_Word w;
    if (dwarf_attr(&chain[i], DW_AT_call_line, &at) && dwarf_formudata(&at, &w) == 0)
      o->call_line = (uint32_t)w;
    if (files && dwarf_attr(&chain[i], DW_AT_call_file, &at) && dwarf_formudata(&at, &w) == 0 &&
        w < nfiles)
      o->call_file = dwarf_filesrc(files, (size_t)w, NULL, NULL);
  }
  return k;
}
