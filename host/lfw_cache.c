/* Image-bank cache files (format and rules in host/lfw_cache.h). */
#include "host/lfw_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/hash.h"
#include "host/parallel.h"
#include "host/regular_file.h"

static const char MAGIC[8] = {'S', 'I', 'A', 'M', 'I', 'M', 'G', 1};

typedef struct cache_header {
    char magic[8];
    uint32_t version, height, width, count, crop, reserved;
    uint64_t pairs_hash, list_hash, content_hash, source_len, names_len;
} cache_header;

uint64_t siam_cache_contents(const uint64_t *file_hashes, int count)
{
    uint64_t h = SIAM_HASH64_INIT;
    for (int i = 0; i < count; i++)
        h = siam_hash64_u64(h, file_hashes[i]);
    return h;
}

typedef struct hash_job {
    const char *const *paths;
    uint64_t *out;
} hash_job;

static int hash_one(void *ctx, int i, siam_error *err)
{
    const hash_job *job = ctx;
    return siam_hash64_file(job->paths[i], &job->out[i], err);
}

/* What the key's files hold now: their siam_cache_contents. */
static int contents_now(const siam_cache_key *key, uint64_t *out, siam_error *err)
{
    uint64_t *each = malloc(sizeof *each * ((size_t)key->count + 1));
    if (each == NULL)
        return siam_fail(err, "out of memory");
    hash_job job = { key->paths, each };
    int rc = siam_parallel_for(key->count, key->threads, hash_one, &job, err);
    if (rc == 0)
        *out = siam_cache_contents(each, key->count);
    free(each);
    return rc;
}

static uint64_t names_bytes(const siam_cache_key *key)
{
    uint64_t n = 0;
    for (int i = 0; i < key->count; i++)
        n += strlen(key->names[i]) + 1;
    return n;
}

static void header_fill(cache_header *h, const siam_cache_key *key)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, MAGIC, sizeof MAGIC);
    h->version = SIAM_CACHE_VERSION;
    h->height = (uint32_t)key->height;
    h->width = (uint32_t)key->width;
    h->count = (uint32_t)key->count;
    h->crop = (uint32_t)key->crop;
    h->pairs_hash = key->pairs_hash;
    h->list_hash = key->list_hash;
    h->content_hash = key->content_hash;
    h->source_len = strlen(key->source);
    h->names_len = names_bytes(key);
}

static int mkdir_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int siam_cache_dir(char *out, size_t cap, const char *override, siam_error *err)
{
    const char *env = override ? override : getenv("SIAMLUA_CACHE");
    const char *home = getenv("HOME");
    int n;
    if (override && !*override)
        return siam_fail(err, "empty cache directory name");
    if (env && *env)
        n = snprintf(out, cap, "%s", env);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.cache/siamlua", home);
    else
        return siam_fail(err, "no cache directory: neither $SIAMLUA_CACHE nor $HOME is set");
    if (n < 0 || (size_t)n >= cap)
        return siam_fail(err, "cache directory path too long");
    if (mkdir_parents(out) < 0)
        return siam_fail(err, "cannot create cache directory %s: %s", out, strerror(errno));
    /* mkdir's EEXIST is also what a file in the directory's place gives. */
    struct stat st;
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
        return siam_fail(err, "cache directory %s exists and is not a directory", out);
    return 0;
}

int siam_cache_path(char *out, size_t cap, const char *dir, const siam_cache_key *key,
                    siam_error *err)
{
    uint64_t h = siam_hash64(SIAM_HASH64_INIT, key->source, strlen(key->source));
    h = siam_hash64(h, key->set, strlen(key->set));
    h = siam_hash64_u64(h, ((uint64_t)key->height << 32) | (uint32_t)key->width);
    if (key->crop > 0) /* uncropped caches keep their names */
        h = siam_hash64_u64(h, (uint64_t)key->crop);
    int n = snprintf(out, cap, "%s/images-%016llx.bin", dir, (unsigned long long)h);
    if (n < 0 || (size_t)n >= cap)
        return siam_fail(err, "cache file path too long under %s", dir);
    return 0;
}

static int miss(char *why, size_t cap, const char *reason)
{
    if (why && cap)
        snprintf(why, cap, "%s", reason);
    return 0;
}

static int read_exact(FILE *f, void *p, size_t n)
{
    return n == 0 || fread(p, 1, n, f) == n;
}

int siam_cache_read(const char *path, const siam_cache_key *key, uint8_t *pixels, char *why,
                    size_t why_cap)
{
    /* Not a plain fopen: a FIFO in the cache's place would block it. */
    int error;
    mode_t mode;
    FILE *f = siam_fopen_regular(path, &error, &mode);
    if (f == NULL && error == ENOENT)
        return miss(why, why_cap, "no cache file");
    if (f == NULL) {
        char d[160];
        snprintf(d, sizeof d, "unreadable: %s", error ? strerror(error) : siam_file_kind(mode));
        return miss(why, why_cap, d);
    }
    struct stat st;
    cache_header want, got;
    header_fill(&want, key);
    uint64_t pix = (uint64_t)key->count * key->height * key->width;
    uint64_t size = sizeof want + want.source_len + want.names_len + pix + 8;
    char *strings = NULL;
    int hit = 0;
    if (fstat(fileno(f), &st) < 0 || st.st_size == 0) {
        miss(why, why_cap, "corrupt: empty cache file");
        goto done;
    }
    if (!read_exact(f, &got, sizeof got)) {
        miss(why, why_cap, "truncated: shorter than its header");
        goto done;
    }
    if (memcmp(got.magic, MAGIC, sizeof MAGIC) != 0) {
        miss(why, why_cap, "corrupt: not a siamlua image cache (bad magic)");
        goto done;
    }
    if (got.version != want.version) {
        miss(why, why_cap, "stale: cache format version differs");
        goto done;
    }
    if (got.height != want.height || got.width != want.width) {
        miss(why, why_cap, "stale: built for another image size");
        goto done;
    }
    if (got.crop != want.crop) {
        miss(why, why_cap, "stale: built for another crop");
        goto done;
    }
    if (got.pairs_hash != want.pairs_hash) {
        miss(why, why_cap, "stale: the pairs file changed");
        goto done;
    }
    if (got.list_hash != want.list_hash || got.count != want.count ||
        got.names_len != want.names_len) {
        miss(why, why_cap, "stale: the image files changed (names, sizes or times)");
        goto done;
    }
    if (got.source_len != want.source_len) {
        miss(why, why_cap, "stale: built from another directory");
        goto done;
    }
    if ((uint64_t)st.st_size != size) {
        char d[96];
        snprintf(d, sizeof d, "%s: %lld bytes, expected %llu",
                 (uint64_t)st.st_size < size ? "truncated" : "corrupt", (long long)st.st_size,
                 (unsigned long long)size);
        miss(why, why_cap, d);
        goto done;
    }
    strings = malloc(want.source_len + want.names_len + 1);
    if (strings == NULL) {
        miss(why, why_cap, "out of memory reading the cache");
        goto done;
    }
    if (!read_exact(f, strings, want.source_len + want.names_len) ||
        !read_exact(f, pixels, pix)) {
        miss(why, why_cap, "truncated: read failed");
        goto done;
    }
    if (memcmp(strings, key->source, want.source_len) != 0) {
        miss(why, why_cap, "stale: built from another directory");
        goto done;
    }
    const char *p = strings + want.source_len;
    for (int i = 0; i < key->count; i++) {
        size_t n = strlen(key->names[i]) + 1;
        if (memcmp(p, key->names[i], n) != 0) {
            miss(why, why_cap, "stale: the image list differs");
            goto done;
        }
        p += n;
    }
    uint64_t sum;
    if (!read_exact(f, &sum, sizeof sum)) {
        miss(why, why_cap, "truncated: no checksum");
        goto done;
    }
    uint64_t h = siam_hash64(SIAM_HASH64_INIT, &got, sizeof got);
    h = siam_hash64(h, strings, want.source_len + want.names_len);
    h = siam_hash64(h, pixels, pix);
    if (h != sum) {
        miss(why, why_cap, "corrupt: checksum mismatch");
        goto done;
    }
    uint64_t now = 0;
    siam_error herr;
    /* A key without the files cannot vouch for their contents. */
    if (key->paths == NULL || contents_now(key, &now, &herr) < 0) {
        miss(why, why_cap, "an image file cannot be read");
        goto done;
    }
    if (now != got.content_hash) {
        miss(why, why_cap, "stale: an image file's contents changed (same names, sizes and "
                           "times)");
        goto done;
    }
    hit = 1;
    if (why && why_cap)
        why[0] = '\0';
done:
    free(strings);
    fclose(f);
    return hit;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int siam_cache_write(const char *path, const siam_cache_key *key, const uint8_t *pixels,
                     siam_error *err)
{
    cache_header h;
    header_fill(&h, key);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (tmp == NULL)
        return siam_fail(err, "out of memory writing the cache");
    snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        siam_fail(err, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    uint64_t pix = (uint64_t)key->count * key->height * key->width;
    /* Source and names as one block, hashed as the reader sees them. */
    size_t slen = h.source_len + h.names_len;
    char *strings = malloc(slen + 1);
    int rc = strings ? 0 : -1;
    uint64_t sum = siam_hash64(SIAM_HASH64_INIT, &h, sizeof h);
    if (strings) {
        memcpy(strings, key->source, h.source_len);
        char *q = strings + h.source_len;
        for (int i = 0; i < key->count; i++) {
            size_t n = strlen(key->names[i]) + 1;
            memcpy(q, key->names[i], n);
            q += n;
        }
        sum = siam_hash64(sum, strings, slen);
        sum = siam_hash64(sum, pixels, pix);
        rc = write_all(fd, &h, sizeof h);
        rc = rc < 0 ? rc : write_all(fd, strings, slen);
        rc = rc < 0 ? rc : write_all(fd, pixels, pix);
    }
    free(strings);
    rc = rc < 0 ? rc : write_all(fd, &sum, sizeof sum);
    rc = rc < 0 ? rc : fsync(fd);
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        unlink(tmp);
        siam_fail(err, "cannot write cache %s: %s", path, strerror(saved));
        free(tmp);
        return -1;
    }
    free(tmp);
    /* Make the rename itself durable; failure here loses nothing but
     * durability, so it is not an error. */
    char *dir = strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) {
        *slash = '\0';
        int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(dir);
    return 0;
}
