/* Data-suite helpers (tests/support/data_fixture.h). */
#include "tests/support/data_fixture.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/synth.h"

char *siam_fixture_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/siam-test-XXXXXX", base && *base ? base : "/tmp");
    char *dir = mkdtemp(buf);
    assert_non_null(dir);
    char *out = strdup(dir);
    assert_non_null(out);
    return out;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void siam_fixture_rmdir(const char *dir)
{
    if (dir && *dir)
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *siam_fixture_write(const char *dir, const char *name, const void *bytes, size_t len)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

unsigned char *siam_fixture_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

void siam_fixture_synth(const char *dir, int identities, int images, int size, int train_pairs,
                        int test_pairs, unsigned long long seed)
{
    siam_synth_options o;
    siam_synth_options_init(&o);
    o.identities = identities;
    o.images_per_identity = images;
    o.size = size;
    o.test_identities = identities / 3 > 2 ? identities / 3 : 2;
    o.train_pairs = train_pairs;
    o.test_pairs = test_pairs;
    o.seed = seed;
    siam_error e = {{0}};
    int rc = siam_synth_write(dir, &o, &e);
    if (rc != 0)
        fail_msg("synthetic set: %s", e.msg);
}

siam_images *siam_fixture_named_bank(const int *sizes, int people)
{
    int n = 0;
    for (int p = 0; p < people; p++)
        n += sizes[p];
    siam_error err;
    siam_images *im = siam_images_new(n, 4, 4, "/nowhere", &err);
    assert_non_null(im);
    const char **who = malloc((size_t)n * sizeof *who), **files = malloc((size_t)n * sizeof *files);
    char(*names)[32] = malloc((size_t)n * 2 * sizeof *names);
    assert_true(who && files && names);
    int k = 0;
    for (int p = 0; p < people; p++)
        for (int i = 0; i < sizes[p]; i++, k++) {
            snprintf(names[2 * k], 32, "P%d", p);
            snprintf(names[2 * k + 1], 32, "P%d_%04d.jpg", p, i + 1);
            who[k] = names[2 * k];
            files[k] = names[2 * k + 1];
        }
    assert_int_equal(siam_images_set_names(im, who, files, &err), 0);
    free(who), free(files), free(names);
    return im;
}

int siam_fixture_person_of(const siam_images *im, int32_t i)
{
    return atoi(im->people[i] + 1);
}
