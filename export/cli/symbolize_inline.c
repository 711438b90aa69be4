/* symbolize_inline.c — the functions the compiler inlined at an address, from DWARF (libdw).
 *
 * The line table answers "which source line is this instruction", the symbol table "which
 * function holds it"; neither says that the line belongs to a function inlined into that one
 * (issue 17: a site read "main demo.c:22" where line 22 is inside session_new). The DWARF
 * scopes at the address do: dwarf_getscopes() lists the DIEs containing it, innermost first,
 * and every DW_TAG_inlined_subroutine among them is one inlined call, with the name of what
 * was inlined (its abstract origin) and where it was called from (DW_AT_call_file/line), up to
 * the DW_TAG_subprogram that really holds the code. This is what eu-addr2line -i and gdb do.
 * libdw is the library already used for the rest of symbolisation (Debian libdw-dev).
 */
#include "symbolize_inline.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <string.h>

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

uint32_t ms_inline_chain(Dwfl_Module *mod, uint64_t pc, ms_inline_t *out, uint32_t max) {
  if (!mod || !max) return 0;
  Dwarf_Addr bias = 0;
  Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
  if (!cu) return 0;
  Dwarf_Die *scopes = NULL;
  int n = dwarf_getscopes(cu, pc - bias, &scopes);
  if (n <= 0) {
    free(scopes);
    return 0;
  }
  Dwarf_Files *files = NULL;
  size_t nfiles = 0;
  if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0) files = NULL;
  uint32_t k = 0;
  int i = 0;
  while (i < n && k < max) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_subprogram) break;   /* the function that holds the code: done */
    if (tag != DW_TAG_inlined_subroutine) {   /* lexical blocks */
      i++;
      continue;
    }
    ms_inline_t *o = &out[k++];
    memset(o, 0, sizeof *o);
    o->name = die_name(&scopes[i], &o->mangled);
    Dwarf_Attribute at;
    Dwarf_Word w;
    if (dwarf_attr(&scopes[i], DW_AT_call_line, &at) && dwarf_formudata(&at, &w) == 0)
      o->call_line = (uint32_t)w;
    if (files && dwarf_attr(&scopes[i], DW_AT_call_file, &at) && dwarf_formudata(&at, &w) == 0 &&
        w < nfiles)
      o->call_file = dwarf_filesrc(files, (size_t)w, NULL, NULL);
    /* dwarf_getscopes follows an inlined instance with the scopes of the function that was
     * inlined (its abstract definition), not with the code it was inlined into: the concrete
     * containing scopes come from dwarf_getscopes_die on the instance itself (as in
     * eu-addr2line -i). Its list starts with the instance. */
    Dwarf_Die *outer = NULL;
    int no = dwarf_getscopes_die(&scopes[i], &outer);
    free(scopes);
    scopes = outer;
    n = no;
    i = 1;
  }
  free(scopes);
  return k;
}
