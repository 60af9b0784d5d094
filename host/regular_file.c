/* Regular-file opening (host/regular_file.h). */
#include "host/regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "host/escape.h"

const char *siam_file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

int siam_open_regular_fd(const char *path, int *error, mode_t *mode)
{
    struct stat st;
    *error = 0;
    *mode = 0;
    if (stat(path, &st) != 0) {
        *error = errno;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        *mode = st.st_mode;
        return -1;
    }
    /* Without O_NONBLOCK, opening a FIFO for reading waits for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *error = errno;
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *error = S_ISREG(st.st_mode) ? errno : 0;
        *mode = st.st_mode;
        close(fd);
        return -1;
    }
    return fd;
}

FILE *siam_fopen_regular(const char *path, int *error, mode_t *mode)
{
    int fd = siam_open_regular_fd(path, error, mode);
    if (fd < 0)
        return NULL;
    /* Regular files ignore O_NONBLOCK; cleared so the stream reads as usual. */
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        *error = errno;
        close(fd);
    }
    return f;
}

int siam_regular_file_fail(siam_error *err, const char *path, const char *what, int error,
                           mode_t mode)
{
    char shown[SIAM_ESCAPE_CAP(512)];
    siam_escape(shown, sizeof shown, path, strlen(path));
    if (error)
        return siam_fail(err, "%s: cannot open %s: %s", shown, what, strerror(error));
    return siam_fail(err, "%s: not a regular file (%s)", shown, siam_file_kind(mode));
}

FILE *siam_open_regular(const char *path, const char *what, siam_error *err)
{
    int error;
    mode_t mode;
    FILE *f = siam_fopen_regular(path, &error, &mode);
    if (f == NULL)
        siam_regular_file_fail(err, path, what, error, mode);
    return f;
}
