/* SIAMFIX1 reader: the whole file is read into memory, then parsed with an
 * explicit cursor that checks every length against the bytes left, so a
 * truncated or corrupt file gives a message instead of a wild read. */
#include "tests/support/fixture.h"

#include "kernels/philox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct siam_fixture {
    char *path;
    size_t count;
    siam_fixture_tensor *tensors;
};

typedef struct cursor {
    const unsigned char *p;
    size_t size;
    size_t pos;
} cursor;

static int read_u32(cursor *c, uint32_t *out, const char *what, const char *path,
                    siam_error *err)
{
    if (c->size - c->pos < 4)
        return siam_fail(err, "%s: truncated at byte %zu: %s needs 4 bytes, %zu left", path,
                         c->pos, what, c->size - c->pos);
    const unsigned char *b = c->p + c->pos;
    *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    c->pos += 4;
    return 0;
}

static int read_file(const char *path, unsigned char **buf, size_t *size, siam_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return siam_fail(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(b, ncap);
            if (!nb) {
                free(b);
                fclose(f);
                return siam_fail(err, "%s: out of memory after %zu bytes", path, n);
            }
            b = nb;
            cap = ncap;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return siam_fail(err, "%s: read error after %zu bytes", path, n);
    }
    *buf = b;
    *size = n;
    return 0;
}

static int parse_tensor(cursor *c, siam_fixture_tensor *t, size_t index, const char *path,
                        siam_error *err)
{
    uint32_t len, ndim;
    char what[96];
    snprintf(what, sizeof what, "the name length of tensor %zu", index);
    if (read_u32(c, &len, what, path, err))
        return -1;
    if (len == 0 || len > c->size - c->pos)
        return siam_fail(err, "%s: tensor %zu: name length %u at byte %zu is %s", path, index,
                         len, c->pos - 4, len == 0 ? "zero" : "past the end of the file");
    char *name = malloc((size_t)len + 1);
    if (!name)
        return siam_fail(err, "%s: tensor %zu: out of memory", path, index);
    memcpy(name, c->p + c->pos, len);
    name[len] = '\0';
    c->pos += len;
    t->name = name;
    if (memchr(name, '\0', len))
        return siam_fail(err, "%s: tensor %zu: name contains a NUL byte", path, index);
    snprintf(what, sizeof what, "the ndim of tensor '%.60s'", name);
    if (read_u32(c, &ndim, what, path, err))
        return -1;
    if (ndim > SIAM_FIXTURE_MAX_DIM)
        return siam_fail(err, "%s: tensor '%s': ndim %u exceeds %d", path, name, ndim,
                         SIAM_FIXTURE_MAX_DIM);
    t->ndim = (int)ndim;
    size_t numel = 1;
    for (uint32_t d = 0; d < ndim; d++) {
        snprintf(what, sizeof what, "the shape of tensor '%.60s'", name);
        if (read_u32(c, &t->shape[d], what, path, err))
            return -1;
        /* Compare against the bytes left so the product can never overflow. */
        if (t->shape[d] != 0 && numel > (c->size - c->pos) / 4 / t->shape[d] + 1)
            return siam_fail(err, "%s: tensor '%s': shape exceeds the %zu bytes left", path,
                             name, c->size - c->pos);
        numel *= t->shape[d];
    }
    if (numel > (c->size - c->pos) / 4)
        return siam_fail(err,
                         "%s: truncated in tensor '%s': %zu floats need %zu bytes at byte %zu, "
                         "%zu left",
                         path, name, numel, numel * 4, c->pos, c->size - c->pos);
    float *data = malloc(numel ? numel * sizeof(float) : 1);
    if (!data)
        return siam_fail(err, "%s: tensor '%s': out of memory for %zu floats", path, name,
                         numel);
    for (size_t i = 0; i < numel; i++) {
        const unsigned char *b = c->p + c->pos + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        memcpy(&data[i], &u, 4);
    }
    c->pos += numel * 4;
    t->numel = numel;
    t->data = data;
    return 0;
}

static int parse(siam_fixture *fx, const unsigned char *buf, size_t size, siam_error *err)
{
    const char *path = fx->path;
    cursor c = {buf, size, 0};
    if (size < 8 || memcmp(buf, "SIAMFIX1", 8) != 0)
        return siam_fail(err, "%s: bad magic (expected \"SIAMFIX1\" in the first 8 bytes)",
                         path);
    c.pos = 8;
    uint32_t count;
    if (read_u32(&c, &count, "the tensor count", path, err))
        return -1;
    /* Each tensor takes at least 9 bytes (two lengths and a name byte). */
    if (count > (size - c.pos) / 9)
        return siam_fail(err, "%s: tensor count %u cannot fit in the %zu bytes left", path,
                         count, size - c.pos);
    fx->tensors = calloc(count ? count : 1, sizeof *fx->tensors);
    if (!fx->tensors)
        return siam_fail(err, "%s: out of memory for %u tensors", path, count);
    for (uint32_t i = 0; i < count; i++) {
        fx->count = (size_t)i + 1; /* so that free releases what was parsed */
        if (parse_tensor(&c, &fx->tensors[i], i, path, err))
            return -1;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(fx->tensors[j].name, fx->tensors[i].name) == 0)
                return siam_fail(err, "%s: tensor name '%s' appears twice (%u and %u)", path,
                                 fx->tensors[i].name, j, i);
    }
    if (c.pos != size)
        return siam_fail(err, "%s: %zu trailing bytes after the last of %u tensors", path,
                         size - c.pos, count);
    return 0;
}

siam_fixture *siam_fixture_load(const char *path, siam_error *err)
{
    siam_fixture *fx = calloc(1, sizeof *fx);
    if (!fx) {
        siam_fail(err, "%s: out of memory", path);
        return NULL;
    }
    fx->path = strdup(path);
    if (!fx->path) {
        free(fx);
        siam_fail(err, "%s: out of memory", path);
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t size = 0;
    if (read_file(path, &buf, &size, err)) {
        siam_fixture_free(fx);
        return NULL;
    }
    int rc = parse(fx, buf, size, err);
    free(buf);
    if (rc) {
        siam_fixture_free(fx);
        return NULL;
    }
    return fx;
}

void siam_fixture_free(siam_fixture *fx)
{
    if (!fx)
        return;
    for (size_t i = 0; i < fx->count; i++) {
        free((void *)fx->tensors[i].name);
        free((void *)fx->tensors[i].data);
    }
    free(fx->tensors);
    free(fx->path);
    free(fx);
}

size_t siam_fixture_count(const siam_fixture *fx)
{
    return fx ? fx->count : 0;
}

const siam_fixture_tensor *siam_fixture_at(const siam_fixture *fx, size_t i)
{
    return fx && i < fx->count ? &fx->tensors[i] : NULL;
}

const siam_fixture_tensor *siam_fixture_get(const siam_fixture *fx, const char *name,
                                            siam_error *err)
{
    for (size_t i = 0; i < fx->count; i++)
        if (strcmp(fx->tensors[i].name, name) == 0)
            return &fx->tensors[i];
    siam_fail(err, "%s: no tensor named '%s'", fx->path, name);
    return NULL;
}

const float *siam_fixture_data(const siam_fixture *fx, const char *name, size_t numel,
                               siam_error *err)
{
    const siam_fixture_tensor *t = siam_fixture_get(fx, name, err);
    if (!t)
        return NULL;
    if (t->numel != numel) {
        siam_fail(err, "%s: tensor '%s' holds %zu values, expected %zu", fx->path, name,
                  t->numel, numel);
        return NULL;
    }
    return t->data;
}

float *siam_fixture_philox(const siam_fixture *fx, const char *name, size_t numel,
                           siam_error *err)
{
    char dname[512];
    if ((size_t)snprintf(dname, sizeof dname, "%s.philox", name) >= sizeof dname) {
        siam_fail(err, "%s: tensor name '%.40s...' too long", fx->path, name);
        return NULL;
    }
    const float *d = siam_fixture_data(fx, dname, 4, err);
    if (!d)
        return NULL;
    /* seed and stream are small integers, exact in float32. */
    if (!(d[0] >= 0 && d[0] < 16777216.0f && d[1] >= 0 && d[1] < 16777216.0f)) {
        siam_fail(err, "%s: '%s' has seed %g and stream %g, not small integers", fx->path,
                  dname, (double)d[0], (double)d[1]);
        return NULL;
    }
    uint64_t seed = (uint64_t)d[0], stream = (uint64_t)d[1];
    float lo = d[2], range = d[3] - d[2];
    float *out = malloc(numel ? numel * sizeof *out : 1);
    if (!out) {
        siam_fail(err, "%s: out of memory for %zu floats of '%s'", fx->path, numel, name);
        return NULL;
    }
    for (size_t i = 0; i < numel; i++)
        out[i] = lo + range * siam_philox_uniform(seed, stream, i);
    return out;
}

float *siam_fixture_input(const siam_fixture *fx, const char *name, size_t numel,
                          siam_error *err)
{
    for (size_t i = 0; i < fx->count; i++) {
        const siam_fixture_tensor *t = &fx->tensors[i];
        if (strcmp(t->name, name) != 0)
            continue;
        if (t->numel != numel) {
            siam_fail(err, "%s: tensor '%s' holds %zu values, expected %zu", fx->path, name,
                      t->numel, numel);
            return NULL;
        }
        float *out = malloc(numel ? numel * sizeof *out : 1);
        if (!out) {
            siam_fail(err, "%s: out of memory for %zu floats of '%s'", fx->path, numel, name);
            return NULL;
        }
        memcpy(out, t->data, numel * sizeof *out);
        return out;
    }
    char dname[512];
    snprintf(dname, sizeof dname, "%s.philox", name);
    if (!siam_fixture_get(fx, dname, NULL)) {
        siam_fail(err, "%s: no tensor named '%s' nor '%s.philox'", fx->path, name, name);
        return NULL;
    }
    return siam_fixture_philox(fx, name, numel, err);
}
