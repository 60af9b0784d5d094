/* Regular-file opening (host/regular_file.h). */
#include "host/regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

FILE *siam_open_regular(const char *path, const char *what, siam_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        siam_fail(err, "%s: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        siam_fail(err, "%s: not a regular file (%s)", path, siam_file_kind(st.st_mode));
        return NULL;
    }
    /* Without O_NONBLOCK, opening a FIFO for reading waits for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        siam_fail(err, "%s: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    int known = fstat(fd, &st) == 0;
    if (!known || !S_ISREG(st.st_mode)) {
        siam_fail(err, "%s: not a regular file (%s)", path,
                  known ? siam_file_kind(st.st_mode) : "fstat failed");
        close(fd);
        return NULL;
    }
    /* Regular files ignore O_NONBLOCK; cleared so the stream reads as usual. */
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        siam_fail(err, "%s: cannot open %s: %s", path, what, strerror(errno));
        close(fd);
    }
    return f;
}
