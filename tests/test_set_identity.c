/* set_identity and file hashes: a fingerprint follows every part of a set's
 * content (pixels, names, size, crop, pairs, labels, folds) and nothing else;
 * a file's hash is the documented block chain; bad paths are errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/hash.h"
#include "host/set_identity.h"
#include "tests/support/tmpdir.h"

/* Four 3x2 images of two people and two pairs over them. */
static siam_pairset *toy_set(void)
{
    siam_error e;
    siam_images *im = siam_images_new(4, 3, 2, "/somewhere", &e);
    assert_non_null(im);
    const char *people[4] = { "A", "A", "B", "B" };
    const char *files[4] = { "A_0001.jpg", "A_0002.jpg", "B_0001.jpg", "B_0002.jpg" };
    assert_int_equal(siam_images_set_names(im, people, files, &e), 0);
    for (int i = 0; i < 4 * 6; i++)
        im->pixels[i] = (uint8_t)(7 * i + 3);
    siam_pairset *ps = siam_pairset_new(im, 2, "toy", &e);
    siam_images_release(im);
    assert_non_null(ps);
    ps->pairs[0] = (siam_pair){ 0, 1, 1.0f, 0 };
    ps->pairs[1] = (siam_pair){ 1, 2, 0.0f, 0 };
    return ps;
}

static void fingerprint_follows_content(void **state)
{
    (void)state;
    siam_pairset *ps = toy_set();
    uint64_t base = siam_pairset_fingerprint(ps);
    assert_int_equal(siam_pairset_fingerprint(ps), base); /* a pure function */

    ps->images->pixels[17] ^= 1;
    assert_true(siam_pairset_fingerprint(ps) != base);
    ps->images->pixels[17] ^= 1;
    ps->images->crop = 140;
    assert_true(siam_pairset_fingerprint(ps) != base);
    ps->images->crop = 0;
    ps->pairs[1].label = 1.0f;
    assert_true(siam_pairset_fingerprint(ps) != base);
    ps->pairs[1].label = 0.0f;
    ps->pairs[1].b = 3;
    assert_true(siam_pairset_fingerprint(ps) != base);
    ps->pairs[1].b = 2;
    ps->pairs[0].fold = 1;
    assert_true(siam_pairset_fingerprint(ps) != base);
    ps->pairs[0].fold = 0;
    ps->count = 1;
    assert_true(siam_pairset_fingerprint(ps) != base);
    ps->count = 2;
    ps->images->names[3][0] = 'C';
    assert_true(siam_pairset_fingerprint(ps) != base);
    ps->images->names[3][0] = 'B';
    assert_int_equal(siam_pairset_fingerprint(ps), base);

    /* Where the files lie and what the set is called do not count. */
    free(ps->images->root);
    ps->images->root = strdup("/elsewhere");
    free(ps->source);
    ps->source = strdup("another name");
    assert_int_equal(siam_pairset_fingerprint(ps), base);
    siam_pairset_free(ps);
}

static void fingerprint_shape_and_hex(void **state)
{
    (void)state;
    siam_pairset *a = toy_set(), *b = toy_set();
    uint64_t fa = siam_images_fingerprint(a->images);
    assert_int_equal(siam_images_fingerprint(b->images), fa);
    b->images->height = 2;
    b->images->width = 3;
    assert_true(siam_images_fingerprint(b->images) != fa);
    char hex[17];
    siam_fingerprint_hex(0x0123456789abcdefull, hex);
    assert_string_equal(hex, "0123456789abcdef");
    siam_fingerprint_hex(5, hex);
    assert_string_equal(hex, "0000000000000005");
    siam_pairset_free(a);
    siam_pairset_free(b);
}

static void file_hash_is_the_block_chain(void **state)
{
    const char *dir = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    size_t n = 150000; /* two full 64 KiB blocks and a short one */
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 31 + (i >> 9));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    uint64_t want = SIAM_HASH64_INIT;
    for (size_t s = 0; s < n; s += 65536)
        want = siam_hash64(want, buf + s, n - s < 65536 ? n - s : 65536);
    uint64_t got = 0;
    siam_error e;
    assert_int_equal(siam_hash64_file(path, &got, &e), 0);
    assert_true(got == want);
    free(buf);

    char missing[512];
    snprintf(missing, sizeof missing, "%s/none", dir);
    assert_int_equal(siam_hash64_file(missing, &got, &e), -1);
    char want_msg[600];
    snprintf(want_msg, sizeof want_msg, "%s: cannot open it: No such file or directory", missing);
    assert_string_equal(e.msg, want_msg);
    assert_int_equal(siam_hash64_file(dir, &got, &e), -1);
    snprintf(want_msg, sizeof want_msg, "%s: not a regular file (a directory)", dir);
    assert_string_equal(e.msg, want_msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fingerprint_follows_content),
        cmocka_unit_test(fingerprint_shape_and_hex),
        SIAM_TMPDIR_TEST(file_hash_is_the_block_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
