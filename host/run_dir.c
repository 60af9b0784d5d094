/* Run-folder claiming (host/run_dir.h). */
#include "host/run_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct siam_dir_lock {
    int fd;
};

int siam_mkdir_new(const char *path, siam_error *err)
{
    if (mkdir(path, 0777) == 0)
        return 0;
    if (errno == EEXIST)
        return 1;
    return siam_fail(err, "%s: cannot create: %s", path, strerror(errno));
}

static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

siam_dir_lock *siam_dir_lock_take(const char *dir, long *holder, siam_error *err)
{
    *holder = 0;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.lock", dir) >= (int)sizeof path) {
        siam_fail(err, "%s: path too long", dir);
        return NULL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        siam_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            long pid = read_pid(fd);
            *holder = pid > 0 ? pid : -1;
            if (pid > 0)
                siam_fail(err, "%s is in use by process %ld", dir, pid);
            else
                siam_fail(err, "%s is in use by another process", dir);
        } else {
            siam_fail(err, "%s: cannot lock: %s", path, strerror(e));
        }
        close(fd);
        return NULL;
    }
    siam_dir_lock *lock = malloc(sizeof *lock);
    if (lock == NULL) {
        close(fd);
        siam_fail(err, "%s: out of memory", path);
        return NULL;
    }
    lock->fd = fd;
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    /* The pid is only for the message another process shows: failing to
     * write it does not weaken the lock, so it is not an error. */
    if (ftruncate(fd, 0) == 0) {
        ssize_t wrote = pwrite(fd, pid, (size_t)n, 0);
        (void)wrote;
    }
    return lock;
}

void siam_dir_lock_release(siam_dir_lock *lock)
{
    if (lock == NULL)
        return;
    close(lock->fd); /* closing the only descriptor drops the flock */
    free(lock);
}
