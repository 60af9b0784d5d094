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

FILE *siam_fopen_regular(const char *path, int *error, mode_t *mode)
{
    struct stat st;
    *error = 0;
    *mode = 0;
    if (stat(path, &st) != 0) {
        *error = errno;
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *mode = st.st_mode;
        return NULL;
    }
    /* Without O_NONBLOCK, opening a FIFO for reading waits for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *error = errno;
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *error = S_ISREG(st.st_mode) ? errno : 0;
        *mode = st.st_mode;
        close(fd);
        return NULL;
    }
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

FILE *siam_open_regular(const char *path, const char *what, siam_error *err)
{
    int error;
    mode_t mode;
    FILE *f = siam_fopen_regular(path, &error, &mode);
    if (f == NULL) {
        char shown[SIAM_ESCAPE_CAP(512)];
        siam_escape(shown, sizeof shown, path, strlen(path));
        if (error)
            siam_fail(err, "%s: cannot open %s: %s", shown, what, strerror(error));
        else
            siam_fail(err, "%s: not a regular file (%s)", shown, siam_file_kind(mode));
    }
    return f;
}
