/* Atomic whole-file replacement, the line log built on it, and mkdir -p.
 * See atomic_file.h for the guarantees and why the line log rewrites. */
#include "host/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

siam_atomic_file *siam_atomic_file_begin(const char *path, siam_error *err)
{
    if (!path || !*path) {
        siam_fail(err, "atomic write: empty path");
        return NULL;
    }
    siam_atomic_file *af = calloc(1, sizeof *af);
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof ".tmp.XXXXXX");
    char *final = strdup(path);
    if (!af || !tmp || !final) {
        free(af), free(tmp), free(final);
        siam_fail(err, "atomic write %s: out of memory", path);
        return NULL;
    }
    /* Same directory as the target, so rename() never crosses a file system. */
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(tmp);
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
        close(fd), unlink(tmp);
        free(af), free(tmp), free(final);
        return NULL;
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        siam_fail(err, "atomic write %s: fdopen: %s", path, strerror(errno));
        close(fd), unlink(tmp);
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
    if (af->fp)
        fclose(af->fp);
    unlink(af->tmp_path);
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
        what = "write", e = EIO;
    else if (fflush(af->fp) != 0)
        what = "flush", e = errno;
    else if (fsync(fileno(af->fp)) != 0)
        what = "fsync", e = errno;
    if (!what) {
        int rc = fclose(af->fp);
        af->fp = NULL;
        if (rc != 0)
            what = "close", e = errno;
    }
    if (!what && rename(af->tmp_path, af->path) != 0)
        what = "rename", e = errno;
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
                  strerror(errno));
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
