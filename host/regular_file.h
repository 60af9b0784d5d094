/* Opening a file that must be a regular file, for the readers that take a
 * path from the user (images, pairs files, checkpoints, caches): a FIFO,
 * device, socket or directory is refused by name instead of blocking the
 * reader or reading a stream that never ends. */
#ifndef SIAM_REGULAR_FILE_H
#define SIAM_REGULAR_FILE_H

#include <stdio.h>
#include <sys/stat.h>

#include "kernels/error.h"

/* "a FIFO", "a directory", "a character device", "a block device",
 * "a socket", or "not a regular file" for anything else. */
const char *siam_file_kind(mode_t mode);

/* Opens path for reading ("rb") when it is a regular file (a symbolic
 * link is followed). Checked with stat before opening (opening a device
 * may have effects), then opened without blocking and checked again on the
 * descriptor, so a path that becomes a FIFO between the two cannot hang
 * the caller. On failure returns NULL with *error the errno of the call
 * that failed, or 0 when the path is no regular file, its type then in
 * *mode (siam_file_kind names it). For callers that word the message
 * themselves. The caller fcloses the stream. */
FILE *siam_fopen_regular(const char *path, int *error, mode_t *mode);

/* The same as a descriptor (open for reading; O_NONBLOCK, which regular
 * files ignore, still set), for readers that want no stream; -1 on failure
 * with *error and *mode as above. The caller closes it. */
int siam_open_regular_fd(const char *path, int *error, mode_t *mode);

/* The message for a failure of the two above: "x: cannot open <what>:
 * <strerror>" or "x: not a regular file (a FIFO)", the path escaped
 * (host/escape.h). Returns -1. */
int siam_regular_file_fail(siam_error *err, const char *path, const char *what, int error,
                           mode_t mode);

/* siam_fopen_regular with that message. */
FILE *siam_open_regular(const char *path, const char *what, siam_error *err);

#endif
