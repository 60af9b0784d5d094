/* Atomic whole-file replacement, the line log built on it, and mkdir -p.
 * See atomic_file.h for the guarantees and why the line log rewrites. */
#include "host/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

int siam_mkdir_p(const char *path, siam_error *err)
{
    if (!path || !*path)
        return siam_fail(err, "mkdir -p: empty path");
    size_t n = strlen(path);
    char *buf = malloc(n + 1);
    if (!buf)
        return siam_fail(err, "mkdir -p %s: out of memory", path);
    memcpy(buf, path, n + 1);
    /* Create each prefix ending before a '/', then the whole path. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        if (buf[i - 1] == '/')
            continue; /* "a//b": the prefix was already made */
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            siam_fail(err, "mkdir -p %s: cannot create %s: %s", path, buf, strerror(e));
            free(buf);
            return -1;
        }
        struct stat st;
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
            siam_fail(err, "mkdir -p %s: %s exists and is not a directory", path, buf);
            free(buf);
            return -1;
        }
        buf[i] = saved;
    }
    free(buf);
    return 0;
}

/* The directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* Makes a rename inside `dir` durable: without it a power loss can bring
 * back the old directory entry even though rename() returned. */
static int fsync_dir(const char *dir, siam_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return siam_fail(err, "opening directory %s for fsync: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* Some file systems (tmpfs in old kernels, certain FUSE mounts) refuse
     * fsync on a directory; the rename itself has happened, so go on. */
    if (rc != 0 && e != EINVAL && e != EROFS)
        return siam_fail(err, "fsync of directory %s: %s", dir, strerror(e));
    return 0;
}

/* mkstemp's suffix: ".tmp." and six characters from [A-Za-z0-9]. */
#define TMP_SUFFIX ".tmp.XXXXXX"

static int is_temp_of(const char *name, const char *base, size_t nbase)
{
    if (strncmp(name, base, nbase) != 0 || strncmp(name + nbase, ".tmp.", 5) != 0)
        return 0;
    const char *x = name + nbase + 5;
    for (int i = 0; i < 6; i++)
        if (!((x[i] >= 'A' && x[i] <= 'Z') || (x[i] >= 'a' && x[i] <= 'z') ||
              (x[i] >= '0' && x[i] <= '9')))
            return 0;
    return x[6] == '\0';
}

/* Removes the temp files of `path` that no live writer holds: every writer
 * holds an exclusive flock on its temp file until it is renamed or removed,
 * and the kernel drops the lock when the process dies however it dies. So
 * a temp file whose lock can be taken belongs to a dead writer (a killed
 * run left 1.16 GB of them). A lock works where a pid in the name does not:
 * pids are reused, and another machine or container sharing the folder has
 * its own. Best effort: a file that cannot be opened or removed stays. */
static void remove_stale_temps(const char *path)
{
    char *dir = dir_of(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t nbase = strlen(base), ndir = dir ? strlen(dir) : 0;
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!is_temp_of(e->d_name, base, nbase))
            continue;
        char *full = malloc(ndir + strlen(e->d_name) + 2);
        if (!full)
            break;
        sprintf(full, "%s/%s", dir, e->d_name);
        int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat held, now;
        /* Removed only while we hold its lock and it is still the file we
         * locked: a writer that locks after us sees its name gone and
         * starts over (siam_atomic_file_begin). */
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &held) == 0 &&
            lstat(full, &now) == 0 && held.st_dev == now.st_dev && held.st_ino == now.st_ino)
            unlink(full);
        if (fd >= 0)
            close(fd);
        free(full);
    }
    if (d)
        closedir(d);
    free(dir);
}

/* A new temp file beside `path`, open and locked (see remove_stale_temps);
 * -1 with errno set on failure. */
static int create_locked_temp(char *tmp, size_t n, const char *path)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        memcpy(tmp, path, n);
        memcpy(tmp + n, TMP_SUFFIX, sizeof TMP_SUFFIX);
        int fd = mkstemp(tmp);
        if (fd < 0)
            return -1;
        struct stat held, now;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &held) == 0 &&
            lstat(tmp, &now) == 0 && held.st_dev == now.st_dev && held.st_ino == now.st_ino)
            return fd;
        /* Another writer's cleanup took it between mkstemp and flock. */
        close(fd);
    }
    errno = EAGAIN;
    return -1;
}

/* af->fp writes through these, so that the errno of a failed write is
 * kept (stdio keeps only an error flag). */
static ssize_t temp_write(void *cookie, const char *buf, size_t n)
{
    siam_atomic_file *af = cookie;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(af->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!af->write_errno)
                af->write_errno = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int temp_close(void *cookie)
{
    siam_atomic_file *af = cookie;
    return close(af->fd);
}

static const cookie_io_functions_t temp_io = { .write = temp_write, .close = temp_close };

int siam_atomic_file_errno(const siam_atomic_file *af)
{
    return af ? af->write_errno : 0;
}

siam_atomic_file *siam_atomic_file_begin(const char *path, siam_error *err)
{
    if (!path || !*path) {
        siam_fail(err, "atomic write: empty path");
        return NULL;
    }
    siam_atomic_file *af = calloc(1, sizeof *af);
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof TMP_SUFFIX);
    char *final = strdup(path);
    if (!af || !tmp || !final) {
        free(af), free(tmp), free(final);
        siam_fail(err, "atomic write %s: out of memory", path);
        return NULL;
    }
    remove_stale_temps(path);
    /* Same directory as the target, so rename() never crosses a file system. */
    int fd = create_locked_temp(tmp, n, path);
    if (fd < 0) {
        siam_fail(err, "atomic write %s: cannot create temp file %s: %s", path, tmp,
                  strerror(errno));
        free(af), free(tmp), free(final);
        return NULL;
    }
    /* mkstemp makes 0600; results are meant to be read by others, as a
     * plain fopen would allow under the usual umask 022. (Reading the umask
     * would mean setting it, a process-wide change; so fixed 0644.) */
    if (fchmod(fd, 0644) != 0) {
        siam_fail(err, "atomic write %s: chmod of %s: %s", path, tmp, strerror(errno));
        unlink(tmp), close(fd);
        free(af), free(tmp), free(final);
        return NULL;
    }
    af->fd = fd;
    af->fp = fopencookie(af, "wb", temp_io);
    if (!af->fp) {
        siam_fail(err, "atomic write %s: opening a stream on %s: %s", path, tmp,
                  strerror(errno));
        unlink(tmp), close(fd);
        free(af), free(tmp), free(final);
        return NULL;
    }
    af->path = final;
    af->tmp_path = tmp;
    return af;
}

void siam_atomic_file_abort(siam_atomic_file *af)
{
    if (!af)
        return;
    /* Unlinked while still locked, so no cleanup can race the removal. */
    unlink(af->tmp_path);
    if (af->fp)
        fclose(af->fp);
    free(af->tmp_path);
    free(af->path);
    free(af);
}

int siam_atomic_file_commit(siam_atomic_file *af, siam_error *err)
{
    if (!af)
        return siam_fail(err, "atomic write: no file to commit");
    const char *what = NULL;
    int e = 0;
    if (ferror(af->fp))
        what = "write", e = af->write_errno ? af->write_errno : EIO;
    else if (fflush(af->fp) != 0)
        what = "flush", e = af->write_errno ? af->write_errno : errno;
    else if (fsync(af->fd) != 0)
        what = "fsync", e = errno;
    /* Renamed before the close that drops the lock: a temp name without
     * its lock is fair game for another writer's cleanup. */
    if (!what && rename(af->tmp_path, af->path) != 0)
        what = "rename", e = errno;
    if (!what) {
        int rc = fclose(af->fp);
        af->fp = NULL;
        if (rc != 0)
            what = "close", e = errno;
    }
    if (what) {
        siam_fail(err, "atomic write %s: %s of %s failed: %s", af->path, what, af->tmp_path,
                  strerror(e));
        siam_atomic_file_abort(af);
        return -1;
    }
    char *dir = dir_of(af->path);
    int rc = dir ? fsync_dir(dir, err) : siam_fail(err, "atomic write %s: out of memory",
                                                   af->path);
    free(dir);
    free(af->tmp_path);
    free(af->path);
    free(af);
    return rc;
}

int siam_atomic_publish(const char *tmp_path, const char *path, siam_error *err)
{
    int fd = open(tmp_path, O_RDONLY);
    if (fd < 0)
        return siam_fail(err, "publishing %s: cannot open %s: %s", path, tmp_path,
                         strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return siam_fail(err, "publishing %s: fsync of %s: %s", path, tmp_path, strerror(e));
    if (rename(tmp_path, path) != 0)
        return siam_fail(err, "publishing %s: rename of %s: %s", path, tmp_path,
                         strerror(errno));
    char *dir = dir_of(path);
    rc = dir ? fsync_dir(dir, err) : siam_fail(err, "publishing %s: out of memory", path);
    free(dir);
    return rc;
}

int siam_atomic_write(const char *path, const void *data, size_t n, siam_error *err)
{
    siam_atomic_file *af = siam_atomic_file_begin(path, err);
    if (!af)
        return -1;
    if (n > 0 && fwrite(data, 1, n, af->fp) != n) {
        siam_fail(err, "atomic write %s: writing %zu bytes to %s: %s", path, n, af->tmp_path,
                  strerror(af->write_errno ? af->write_errno : errno));
        siam_atomic_file_abort(af);
        return -1;
    }
    return siam_atomic_file_commit(af, err);
}

struct siam_linelog {
    char *path;
    char *text;   /* NUL-terminated, complete lines only */
    size_t len, cap, lines;
};

static int reserve(siam_linelog *log, size_t need, siam_error *err)
{
    if (need <= log->cap)
        return 0;
    size_t cap = log->cap ? log->cap : 256;
    while (cap < need)
        cap *= 2;
    char *t = realloc(log->text, cap);
    if (!t)
        return siam_fail(err, "line log %s: out of memory for %zu bytes", log->path, cap);
    log->text = t;
    log->cap = cap;
    return 0;
}

siam_linelog *siam_linelog_open(const char *path, siam_error *err)
{
    siam_linelog *log = calloc(1, sizeof *log);
    if (!log || !(log->path = strdup(path))) {
        free(log);
        siam_fail(err, "line log %s: out of memory", path);
        return NULL;
    }
    if (reserve(log, 1, err) != 0)
        goto fail;
    log->text[0] = '\0';
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT)
            return log;
        siam_fail(err, "line log %s: cannot read existing file: %s", path, strerror(errno));
        goto fail;
    }
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (reserve(log, log->len + got + 1, err) != 0) {
            fclose(fp);
            goto fail;
        }
        memcpy(log->text + log->len, chunk, got);
        log->len += got;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        siam_fail(err, "line log %s: read error", path);
        goto fail;
    }
    while (log->len > 0 && log->text[log->len - 1] != '\n')
        log->len--;
    log->text[log->len] = '\0';
    for (size_t i = 0; i < log->len; i++)
        log->lines += log->text[i] == '\n';
    return log;
fail:
    siam_linelog_free(log);
    return NULL;
}

void siam_linelog_free(siam_linelog *log)
{
    if (!log)
        return;
    free(log->text);
    free(log->path);
    free(log);
}

int siam_linelog_append(siam_linelog *log, const char *line, siam_error *err)
{
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\n')
        n--;
    if (memchr(line, '\n', n) || memchr(line, '\r', n))
        return siam_fail(err, "line log %s: line %zu holds a newline; one call is one line",
                         log->path, log->lines + 1);
    if (reserve(log, log->len + n + 2, err) != 0)
        return -1;
    memcpy(log->text + log->len, line, n);
    log->text[log->len + n] = '\n';
    if (siam_atomic_write(log->path, log->text, log->len + n + 1, err) != 0) {
        log->text[log->len] = '\0';
        return -1;
    }
    log->len += n + 1;
    log->text[log->len] = '\0';
    log->lines++;
    return 0;
}

size_t siam_linelog_lines(const siam_linelog *log)
{
    return log->lines;
}

int siam_linelog_truncate(siam_linelog *log, size_t n, siam_error *err)
{
    if (n > log->lines)
        return siam_fail(err, "line log %s: cannot keep %zu lines, it holds %zu", log->path, n,
                         log->lines);
    size_t end = 0;
    for (size_t seen = 0; seen < n; end++)
        seen += log->text[end] == '\n';
    if (siam_atomic_write(log->path, log->text, end, err) != 0)
        return -1;
    log->len = end;
    log->text[end] = '\0';
    log->lines = n;
    return 0;
}

const char *siam_linelog_text(const siam_linelog *log)
{
    return log->text;
}
