/* dump_free.c — release everything an ms_dump_t owns.
 *
 * Used by the reader (also on its error paths, where the dump is only partly filled) and by
 * whoever built a dump with malloc (ms_dump_example, the converter). It therefore relies only
 * on what the reader guarantees of a partial dump: every array pointer is NULL or a calloc'd
 * block of n_* elements, and every string/sub-array pointer inside is NULL or owned. After
 * the call *d is all zeroes, so a second ms_dump_free() is harmless.
 */
#include "dump.h"

#include <stdlib.h>
#include <string.h>

void ms_dump_free(ms_dump_t *d) {
  if (!d) return;
  free(d->process.exe);
  if (d->process.argv)
    for (uint32_t i = 0; i < d->process.argc; i++) free(d->process.argv[i]);
  free(d->process.argv);
  free(d->options.checks);
  if (d->modules)
    for (uint32_t i = 0; i < d->n_modules; i++) free(d->modules[i].path);
  free(d->modules);
  if (d->stacks)
    for (uint32_t i = 0; i < d->n_stacks; i++) free(d->stacks[i].frames);
  free(d->stacks);
  if (d->tags)
    for (uint32_t i = 0; i < d->n_tags; i++) free(d->tags[i]);
  free(d->tags);
  free(d->sites);
  free(d->allocs);
  free(d->classes);
  if (d->variables)
    for (uint32_t i = 0; i < d->n_variables; i++) {
      ms_dump_variable_t *v = &d->variables[i];
      free(v->name);
      free(v->type);
      free(v->file);
      free(v->events);
    }
  free(d->variables);
  free(d->timeline);
  if (d->errors)
    for (uint32_t i = 0; i < d->n_errors; i++) free(d->errors[i].detail);
  free(d->errors);
  if (d->threads)
    for (uint32_t i = 0; i < d->n_threads; i++) free(d->threads[i].name);
  free(d->threads);
  free(d->crossings);
  memset(d, 0, sizeof *d);
}
