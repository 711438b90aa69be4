/* typenames.c — the type name of an MS_TRACK'ed variable, from DWARF at conversion time.
 *
 * MS_TRACK(var) records var's name, file and line; in C only pointers to basic types get a
 * type name at compile time (_Generic), and C++ gets none, so the dump says "?". The variable's
 * declaration is in the program's DWARF: from a code address in the function that named it
 * (the stack captured by ms_track, or the allocation stack), dwarf_getscopes gives the
 * enclosing scopes and dwarf_getscopevar finds `var` in them (the innermost declaration, as
 * the compiler resolved it). Its type, through typedefs and qualifiers, must be a pointer;
 * the pointee's name is built the way a programmer writes it: "struct point", "point_t"
 * (typedefs keep their name), "std::vector<int, std::allocator<int> >" (C++ names qualified
 * by their namespaces and classes), "const char", "int *". Without DWARF: NULL, and the
 * caller keeps "?".
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbolize.h"

static Dwarf_Die *type_of(Dwarf_Die *die, Dwarf_Die *out) {
  Dwarf_Attribute a;
  if (!dwarf_attr_integrate(die, DW_AT_type, &a)) return NULL;
  return dwarf_formref_die(&a, out);
}

static int is_cplusplus(Dwarf_Die *die) {
  Dwarf_Die cu;
  if (!dwarf_diecu(die, &cu, NULL, NULL)) return 0;
  Dwarf_Word lang;
  Dwarf_Attribute a;
  if (dwarf_formudata(dwarf_attr(&cu, DW_AT_language, &a), &lang) != 0) return 0;
  return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
         lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

/* Append s to buf (at *o, capacity len), keeping it NUL-terminated. */
static void put(char *buf, size_t len, size_t *o, const char *s) {
  while (*s && *o + 1 < len) buf[(*o)++] = *s++;
  buf[*o < len ? *o : len - 1] = 0;
}

/* "ns::Class::" of a C++ type: the names of the namespaces, classes and structs around it. */
static void qualify(Dwarf_Die *die, char *buf, size_t len, size_t *o) {
  Dwarf_Die *scopes = NULL;
  int n = dwarf_getscopes_die(die, &scopes);
  for (int i = n - 1; i >= 1; i--) {   /* [0] is the type itself; outermost last */
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_namespace && tag != DW_TAG_class_type && tag != DW_TAG_structure_type &&
        tag != DW_TAG_union_type)
      continue;
    const char *nm = dwarf_diename(&scopes[i]);
    put(buf, len, o, nm ? nm : "(anonymous namespace)");
    put(buf, len, o, "::");
  }
  free(scopes);
}

/* Name of type die into buf at *o; 0 on success. depth bounds malformed cycles. */
static int type_name(Dwarf_Die *die, char *buf, size_t len, size_t *o, int depth) {
  if (depth > 16) return -1;
  Dwarf_Die next;
  const char *nm = dwarf_diename(die);
  int cxx = is_cplusplus(die);
  switch (dwarf_tag(die)) {
    case DW_TAG_base_type:
      if (!nm) return -1;
      put(buf, len, o, nm);
      return 0;
    case DW_TAG_typedef:
      if (!nm) return -1;
      if (cxx) qualify(die, buf, len, o);
      put(buf, len, o, nm);
      return 0;
    case DW_TAG_structure_type:
    case DW_TAG_class_type:
    case DW_TAG_union_type:
    case DW_TAG_enumeration_type: {
      int tag = dwarf_tag(die);
      if (!cxx) put(buf, len, o, tag == DW_TAG_union_type ? "union " : tag == DW_TAG_enumeration_type ? "enum " : "struct ");
      if (cxx) qualify(die, buf, len, o);
      put(buf, len, o, nm ? nm : "(anonymous)");
      return 0;
    }
    case DW_TAG_const_type:
    case DW_TAG_volatile_type: {
      const char *q = dwarf_tag(die) == DW_TAG_const_type ? "const " : "volatile ";
      if (!type_of(die, &next)) {   /* const void */
        put(buf, len, o, q);
        put(buf, len, o, "void");
        return 0;
      }
      put(buf, len, o, q);
      return type_name(&next, buf, len, o, depth + 1);
    }
    case DW_TAG_pointer_type:
      if (!type_of(die, &next)) put(buf, len, o, "void");
      else if (type_name(&next, buf, len, o, depth + 1) != 0) return -1;
      put(buf, len, o, " *");
      return 0;
    default:
      return -1;   /* arrays, functions, pointers to members: keep "?" */
  }
}

const char *ms_symbolize_var_type(ms_symbolizer_t *s, uint64_t address, const char *var,
                                  char *buf, size_t len) {
  if (!var || !*var || len < 2) return NULL;
  Dwfl_Module *mod = ms_symbolizer_dwfl_module(s, address);
  if (!mod) return NULL;
  Dwarf_Addr pc = address > 0 ? address - 1 : address, bias = 0;
  Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
  if (!cu) return NULL;
  Dwarf_Die *scopes = NULL, found, t;
  int n = dwarf_getscopes(cu, pc - bias, &scopes);
  if (n <= 0) return NULL;
  int at = dwarf_getscopevar(scopes, n, var, 0, NULL, 0, 0, &found);
  free(scopes);
  if (at < 0 || !type_of(&found, &t)) return NULL;
  /* Through typedefs and qualifiers of the pointer itself (`point_ptr p`, `T *const p`). */
  for (int i = 0; i < 16; i++) {
    int tag = dwarf_tag(&t);
    if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
        tag != DW_TAG_restrict_type)
      break;
    Dwarf_Die u;
    if (!type_of(&t, &u)) return NULL;
    t = u;
  }
  if (dwarf_tag(&t) != DW_TAG_pointer_type) return NULL;
  Dwarf_Die pointee;
  size_t o = 0;
  buf[0] = 0;
  if (!type_of(&t, &pointee)) put(buf, len, &o, "void");
  else if (type_name(&pointee, buf, len, &o, 0) != 0) return NULL;
  return buf[0] ? buf : NULL;
}
