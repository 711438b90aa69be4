/* outfile.h — writing an output file without harming what is already there (export/outfile.c).
 * Used by the library's dumps (track/snapshot.c) and by `memscope run` / `memscope convert`.
 *
 * Rules (docs/USAGE.md, "Output files"):
 *  - the data goes to a new temporary file in the target's own folder, created with
 *    O_CREAT|O_EXCL|O_NOFOLLOW (a name planted in a shared folder such as /tmp is never
 *    followed or reused), and is renamed over the target only when complete;
 *  - the target may be absent or a regular file; a directory, device, FIFO, socket or
 *    symbolic link is refused (a symlink is neither followed nor replaced);
 *  - the folder must exist and be writable.
 * Only system calls and the caller's buffers: safe inside the tracked process (no malloc, no
 * stdio). Errors come back as one line of text in err.
 */
#ifndef MS_OUTFILE_H
#define MS_OUTFILE_H

#include <stddef.h>

#define MS_OUTFILE_PATH_MAX 4096

typedef struct ms_outfile {
  int fd; /* the temporary file, open for writing; -1 when closed */
  char path[MS_OUTFILE_PATH_MAX];
  char tmp[MS_OUTFILE_PATH_MAX + 64];
} ms_outfile_t;

/* Could path be written? 0, or -1 with the reason in err ("is a character device", "folder
 * /x does not exist", ...). Nothing is created. */
int _ms_outfile_check(const char *path, char *err, size_t cap);

/* Check that the folder of path (the part before the last '/', or ".") exists, is a directory
 * and is writable. For templates whose file name is not known yet. 0 or -1 with err. */
int _ms_outfile_check_dir(const char *path, char *err, size_t cap);

/* Check path, then create its temporary file with the given mode (umask applies).
 * 0 with o->fd open, or -1 with err and nothing left behind. */
int _ms_outfile_open(ms_outfile_t *o, const char *path, unsigned mode, char *err, size_t cap);

/* Close o->fd (a caller that wrapped it in a FILE closes it with fclose and sets o->fd = -1
 * first) and move the temporary file to the target (checked again: only over a regular
 * file or nothing). 0, or -1 with err and the temporary file removed. */
int _ms_outfile_commit(ms_outfile_t *o, char *err, size_t cap);

/* Close and remove the temporary file (a failed write). */
void _ms_outfile_abort(ms_outfile_t *o);

#endif
