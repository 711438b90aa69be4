/* symtarget.c — a tiny -g program whose addresses test_symbolize looks up.
 *
 * It prints what a dump's module map would hold for it (load bias, executable range,
 * build-id) and a return address inside ms_symtarget_caller, captured by a callee at a known
 * line, so the test can check that symbolising that address gives this file and that line.
 * Output: "BIAS START END BUILDID RETADDR LINE" (hex, hex, hex, hex, hex, decimal).
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t bias, start, end;
static char build_id[65];

static int self(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  (void)arg;
  if (info->dlpi_name && info->dlpi_name[0]) return 0;
  bias = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      start = bias + ph->p_vaddr;
      end = start + ph->p_memsz;
    }
    if (ph->p_type == PT_NOTE) {
      const char *p = (const char *)(bias + ph->p_vaddr), *e = p + ph->p_memsz;
      while (p + sizeof(ElfW(Nhdr)) <= e) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        const char *name = p + sizeof *nh;
        const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4))
          for (unsigned k = 0; k < nh->n_descsz && k < 32; k++)
            snprintf(build_id + 2 * k, 3, "%02x", desc[k]);
        p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
      }
    }
  }
  return 1;
}

static uintptr_t captured;

__attribute__((noinline)) static void ms_symtarget_capture(void) {
  captured = (uintptr_t)__builtin_return_address(0);
  __asm__ volatile("" ::: "memory");
}

int ms_symtarget_line;

__attribute__((noinline)) void ms_symtarget_caller(void) {
  ms_symtarget_line = __LINE__ + 1;
  ms_symtarget_capture();
  __asm__ volatile("" ::: "memory");   /* keep the call from being a tail call */
}

int main(void) {
  dl_iterate_phdr(self, NULL);
  ms_symtarget_caller();
  printf("%llx %llx %llx %s %llx %d\n", (unsigned long long)bias, (unsigned long long)start,
         (unsigned long long)end, build_id[0] ? build_id : "-", (unsigned long long)captured,
         ms_symtarget_line);
  return 0;
}
