/* Claiming a run folder: creating a directory only when it is new (so two
 * runs started in the same second never share one), and an advisory lock a
 * process holds while it writes a folder (so two processes never train the
 * same grid configuration into it at once). The lock is flock(2) on
 * <dir>/.lock: the kernel drops it when the holder exits or is killed, so a
 * crash never leaves a folder locked. */
#ifndef SIAM_RUN_DIR_H
#define SIAM_RUN_DIR_H

#include "kernels/error.h"

/* Creates the directory `path` (its parent must exist). Returns 0 when it
 * was created here, 1 when something of that name already exists, -1 with
 * the reason in err. */
int siam_mkdir_new(const char *path, siam_error *err);

typedef struct siam_dir_lock siam_dir_lock;

/* Takes the lock of directory `dir` without waiting. NULL when it cannot:
 * *holder is then the pid recorded by the process that holds it (> 0), or 0
 * when the lock file could not be used at all (err says why). The lock file
 * records the holder's pid for that message. */
siam_dir_lock *siam_dir_lock_take(const char *dir, long *holder, siam_error *err);

/* Releases the lock (NULL is fine). The lock file stays: removing it would
 * let a third process lock a new file while a second still holds the old. */
void siam_dir_lock_release(siam_dir_lock *lock);

#endif
