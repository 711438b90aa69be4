/* outfile.c — creating output files safely (the rules are in outfile.h): a temporary file made
 * with O_EXCL|O_NOFOLLOW in the target's folder, renamed only over a regular file or nothing.
 *
 * Why these rules: `memscope convert X -o /dev/full` run as root used to rename its temporary
 * file over the device node; a dump path template in /tmp could be pre-created by another user
 * as a symlink to one of our files. Checking the target with lstat() and creating the temporary
 * file exclusively, without following links, closes both. The check before rename() and the
 * rename itself are two steps; when the target is absent the rename is RENAME_NOREPLACE, so
 * nothing that appears in between is replaced. The remaining window (a regular file swapped for
 * a non-regular one between lstat and rename) needs write access to the folder, i.e. someone
 * who could remove the node anyway (and in a sticky folder such as /tmp, only its owner).
 *
 * No malloc and no stdio: the library calls this from inside the tracked process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static unsigned tmp_counter; /* distinguishes temporary files of one process (atomic adds) */

static const char *kind_of(mode_t m) {
  if (S_ISDIR(m)) return "is a directory";
  if (S_ISCHR(m)) return "is a character device";
  if (S_ISBLK(m)) return "is a block device";
  if (S_ISFIFO(m)) return "is a FIFO";
  if (S_ISSOCK(m)) return "is a socket";
  if (S_ISLNK(m)) return "is a symbolic link";
  return "is not a regular file";
}

/* The existing target, if any, must be a regular file. 0 absent or regular, -1 with err. */
static int check_target(const char *path, char *err, size_t cap) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (errno == ENOENT) return 0;
    snprintf(err, cap, "%s: cannot write: %s", path, strerror(errno));
    return -1;
  }
  if (S_ISREG(st.st_mode)) return 0;
  snprintf(err, cap, "%s: %s; memscope only creates files or replaces regular ones%s", path,
           kind_of(st.st_mode), S_ISLNK(st.st_mode) ? " (it never follows a link)" : "");
  return -1;
}

/* The folder part of path into dir ("." when there is none). -1 when path names a folder. */
static int dir_of(const char *path, char *dir, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (!slash) return snprintf(dir, cap, ".") < 0 ? -1 : 0;
  if (slash[1] == 0) return -1; /* "x/": a folder, not a file */
  size_t n = (size_t)(slash - path);
  if (n == 0) n = 1; /* "/x": the root folder */
  if (n >= cap) return -1;
  memcpy(dir, path, n);
  dir[n] = 0;
  return 0;
}

int _ms_outfile_check_dir(const char *path, char *err, size_t cap) {
  char dir[MS_OUTFILE_PATH_MAX];
  if (!path || !*path) {
    snprintf(err, cap, "empty output file name");
    return -1;
  }
  if (strlen(path) >= sizeof dir) {
    snprintf(err, cap, "%.200s...: output path too long", path);
    return -1;
  }
  if (dir_of(path, dir, sizeof dir) != 0) {
    snprintf(err, cap, "%s: names a folder, not a file", path);
    return -1;
  }
  struct stat st;
  if (stat(dir, &st) != 0) {
    snprintf(err, cap, "%s: folder %s %s", path, dir,
             errno == ENOENT ? "does not exist" : strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, cap, "%s: %s is not a folder", path, dir);
    return -1;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    snprintf(err, cap, "%s: folder %s is not writable (%s)", path, dir, strerror(errno));
    return -1;
  }
  return 0;
}

int _ms_outfile_check(const char *path, char *err, size_t cap) {
  if (_ms_outfile_check_dir(path, err, cap) != 0) return -1;
  return check_target(path, err, cap);
}

int _ms_outfile_open(ms_outfile_t *o, const char *path, unsigned mode, char *err, size_t cap) {
  o->fd = -1;
  o->tmp[0] = 0;
  if (_ms_outfile_check(path, err, cap) != 0) return -1;
  snprintf(o->path, sizeof o->path, "%s", path);
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  for (int attempt = 0; attempt < 100; attempt++) {
    unsigned n = __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED);
    /* PATH.tmp.PID.N next to the target; a short hidden name when that would be too long */
    if (strlen(base) + 32 <= 255)
      snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%d.%u", path, (int)getpid(), n);
    else
      snprintf(o->tmp, sizeof o->tmp, "%.*s.memscope-tmp.%d.%u", (int)(base - path), path,
               (int)getpid(), n);
    o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
    if (o->fd >= 0) return 0;
    if (errno != EEXIST) break;
  }
  snprintf(err, cap, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
  o->tmp[0] = 0;
  return -1;
}

void _ms_outfile_abort(ms_outfile_t *o) {
  if (o->fd >= 0) close(o->fd);
  o->fd = -1;
  if (o->tmp[0]) unlink(o->tmp);
  o->tmp[0] = 0;
}

int _ms_outfile_commit(ms_outfile_t *o, char *err, size_t cap) {
  if (cap) err[0] = 0;
  int rc = o->fd >= 0 ? close(o->fd) : 0; /* or the caller closed it (fclose) */
  o->fd = -1;
  if (rc != 0) {
    snprintf(err, cap, "%s: could not finish writing: %s", o->path, strerror(errno));
    _ms_outfile_abort(o);
    return -1;
  }
  for (int attempt = 0; attempt < 8; attempt++) {
    if (check_target(o->path, err, cap) != 0) break;
    /* absent: only if it is still absent; a regular file: replace it */
    if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE) == 0) {
      o->tmp[0] = 0;
      return 0;
    }
    if (errno == EEXIST) {
      struct stat st;
      if (lstat(o->path, &st) == 0 && S_ISREG(st.st_mode) && rename(o->tmp, o->path) == 0) {
        o->tmp[0] = 0;
        return 0;
      }
      continue; /* changed under us: look again */
    }
    if (errno == EINVAL || errno == ENOSYS) { /* a file system without RENAME_NOREPLACE */
      if (rename(o->tmp, o->path) == 0) {
        o->tmp[0] = 0;
        return 0;
      }
    }
    snprintf(err, cap, "%s: cannot move the finished file into place: %s", o->path,
             strerror(errno));
    break;
  }
  if (cap && !err[0]) snprintf(err, cap, "%s: kept changing while memscope replaced it", o->path);
  _ms_outfile_abort(o);
  return -1;
}
