/* Crash-safe file output: whole-file atomic replacement (temp file in the
 * same directory, fsync, rename, fsync of the directory), a line log built on
 * it for per-epoch CSV/JSONL, and mkdir -p. No formatting of content here. */
#ifndef SIAM_ATOMIC_FILE_H
#define SIAM_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "kernels/error.h"

/* Creates `path` and every missing parent (mode 0777 before umask). An
 * existing directory is success; an existing non-directory is an error. */
int siam_mkdir_p(const char *path, siam_error *err);

/* Replaces `path` with exactly `n` bytes of `data`. Readers see either the
 * old file or the complete new one, never a mix, even after a crash or power
 * loss (POSIX rename is atomic; fsync of file then directory makes the new
 * name durable). The parent directory must exist. */
int siam_atomic_write(const char *path, const void *data, size_t n, siam_error *err);

/* Streaming form for content produced piecewise (checkpoints, tables):
 * write through af->fp, then _commit (publish) or _abort (discard). Both
 * free `af`; exactly one of them must be called. _abort(NULL) is fine.
 *
 * The temp file is "<path>.tmp.XXXXXX" (mkstemp), and its writer holds an
 * exclusive flock(2) on it from _begin until the rename or removal. A
 * process killed while writing leaves its temp file but not the lock (the
 * kernel drops it), so _begin first removes every "<path>.tmp.XXXXXX" whose
 * lock it can take: the leftovers of dead writers, never the file another
 * live process is writing (a pid in the name could not tell: pids are
 * reused, and other machines sharing the folder have their own). Only
 * temp files of the same target are touched; the cleanup is best effort
 * and never fails the write. */
typedef struct siam_atomic_file {
    FILE *fp;          /* open on the temp file; write here */
    char *path;        /* final name */
    char *tmp_path;    /* temp name in the same directory */
    int fd;            /* the temp file's descriptor, under fp */
    int write_errno;   /* errno of the first write that failed, 0 if none */
} siam_atomic_file;

siam_atomic_file *siam_atomic_file_begin(const char *path, siam_error *err);
/* Why writing through af->fp failed: the errno of the first failed write
 * (ENOSPC on a full disk), or 0. A stream's error flag alone has lost it
 * by the time the caller looks. */
int siam_atomic_file_errno(const siam_atomic_file *af);
int siam_atomic_file_commit(siam_atomic_file *af, siam_error *err);
void siam_atomic_file_abort(siam_atomic_file *af);

/* Publishes a complete file another program wrote (gnuplot's PNG) under its
 * final name: fsync `tmp_path`, rename it to `path`, fsync the directory.
 * Both names must be in the same directory. */
int siam_atomic_publish(const char *tmp_path, const char *path, siam_error *err);

/* A text file that grows by whole lines (metrics.csv, metrics.jsonl, one
 * line per epoch) and is valid on disk after every append.
 *
 * Why rewrite instead of append: an O_APPEND write torn by a crash leaves a
 * partial last line that gnuplot, spreadsheets and naive CSV readers take as
 * a real row. Rewriting the whole file atomically on each append means the
 * file on disk is always a sequence of complete lines. The cost is the file
 * size per epoch (a few kB for hundreds of epochs), which is negligible next
 * to an epoch of training.
 *
 * Opening an existing file (a resumed run) keeps its complete lines; a
 * trailing fragment without '\n' (written by some other tool) is dropped.
 * Owned by the caller: siam_linelog_free (NULL fine). */
typedef struct siam_linelog siam_linelog;

siam_linelog *siam_linelog_open(const char *path, siam_error *err);
void siam_linelog_free(siam_linelog *log);

/* Appends `line` (a trailing '\n' is added when missing; embedded newlines
 * are rejected so one call is one line) and republishes the file. On error
 * the file and the in-memory copy are unchanged. */
int siam_linelog_append(siam_linelog *log, const char *line, siam_error *err);

/* Number of complete lines held. */
size_t siam_linelog_lines(const siam_linelog *log);

/* Keeps the first `n` lines and republishes (a run resumed from the
 * checkpoint of epoch k drops the rows written after it). */
int siam_linelog_truncate(siam_linelog *log, size_t n, siam_error *err);

/* The current content, NUL-terminated; valid until the next call. */
const char *siam_linelog_text(const siam_linelog *log);

#endif
