/* The SIAMFIX1 reader (tests/support/fixture.c): a good file round-trips,
 * and each kind of damage is refused with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/fixture.h"

typedef struct bytes {
    unsigned char b[512];
    size_t n;
} bytes;

static void put(bytes *s, const void *p, size_t n)
{
    assert_true(s->n + n <= sizeof s->b);
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void put_u32(bytes *s, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(s, b, 4);
}

static void put_f32(bytes *s, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(s, u);
}

/* Two tensors: "a" (2,3) = 0.5*i and scalar-shaped "bee" (1) = -7. */
static bytes good_file(void)
{
    bytes s = {.n = 0};
    put(&s, "SIAMFIX1", 8);
    put_u32(&s, 2);
    put_u32(&s, 1);
    put(&s, "a", 1);
    put_u32(&s, 2);
    put_u32(&s, 2);
    put_u32(&s, 3);
    for (int i = 0; i < 6; i++)
        put_f32(&s, 0.5f * (float)i);
    put_u32(&s, 3);
    put(&s, "bee", 3);
    put_u32(&s, 1);
    put_u32(&s, 1);
    put_f32(&s, -7.0f);
    return s;
}

/* Writes the bytes to a fresh temporary file; the caller unlinks `path`. */
static void write_temp(char path[static 64], const bytes *s)
{
    strcpy(path, "/tmp/siam_fixture_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s->b, 1, s->n, f), s->n);
    assert_int_equal(fclose(f), 0);
}

/* Loads `s`, expecting failure; returns the message with the temp path
 * replaced by "F" so that tests can compare whole strings. */
static void expect_failure(const bytes *s, const char *expected)
{
    char path[64];
    write_temp(path, s);
    siam_error e = {{0}};
    siam_fixture *fx = siam_fixture_load(path, &e);
    unlink(path);
    assert_null(fx);
    size_t pl = strlen(path);
    assert_memory_equal(e.msg, path, pl);
    char got[SIAM_ERROR_LEN];
    snprintf(got, sizeof got, "F%s", e.msg + pl);
    assert_string_equal(got, expected);
}

static void loads_a_good_file(void **state)
{
    (void)state;
    char path[64];
    bytes s = good_file();
    write_temp(path, &s);
    siam_error e = {{0}};
    siam_fixture *fx = siam_fixture_load(path, &e);
    unlink(path);
    assert_non_null(fx);
    assert_int_equal(siam_fixture_count(fx), 2);
    const siam_fixture_tensor *a = siam_fixture_get(fx, "a", &e);
    assert_non_null(a);
    assert_int_equal(a->ndim, 2);
    assert_int_equal(a->shape[0], 2);
    assert_int_equal(a->shape[1], 3);
    assert_int_equal(a->numel, 6);
    for (int i = 0; i < 6; i++)
        assert_true(a->data[i] == 0.5f * (float)i);
    assert_ptr_equal(siam_fixture_at(fx, 0), a);
    assert_string_equal(siam_fixture_at(fx, 1)->name, "bee");
    assert_null(siam_fixture_at(fx, 2));
    const float *b = siam_fixture_data(fx, "bee", 1, &e);
    assert_non_null(b);
    assert_true(b[0] == -7.0f);

    assert_null(siam_fixture_get(fx, "be", &e));
    assert_memory_equal(e.msg, path, strlen(path));
    assert_string_equal(e.msg + strlen(path), ": no tensor named 'be'");
    assert_null(siam_fixture_data(fx, "a", 5, &e));
    assert_string_equal(e.msg + strlen(path), ": tensor 'a' holds 6 values, expected 5");
    siam_fixture_free(fx);
    siam_fixture_free(NULL);
}

static void rejects_bad_magic(void **state)
{
    (void)state;
    bytes s = good_file();
    s.b[7] = '2';
    expect_failure(&s, "F: bad magic (expected \"SIAMFIX1\" in the first 8 bytes)");
    s.n = 5;
    expect_failure(&s, "F: bad magic (expected \"SIAMFIX1\" in the first 8 bytes)");
}

static void rejects_truncation(void **state)
{
    (void)state;
    bytes s = good_file();
    s.n -= 1; /* last float cut short */
    expect_failure(&s, "F: truncated in tensor 'bee': 1 floats need 4 bytes at byte 68, "
                       "3 left");
    s.n = 10; /* inside the count */
    expect_failure(&s, "F: truncated at byte 8: the tensor count needs 4 bytes, 2 left");
    s = good_file();
    s.n = 8 + 4 + 4 + 1 + 4 + 4 + 2; /* inside the shape of "a": too short for two tensors */
    expect_failure(&s, "F: tensor count 2 cannot fit in the 15 bytes left");
    s = good_file();
    s.n = 8 + 4 + 4 + 1 + 4 + 4 + 4 + 4 * 6 + 2; /* inside "bee"'s name length */
    expect_failure(&s, "F: truncated at byte 53: the name length of tensor 1 needs 4 bytes, "
                       "2 left");
    s = good_file();
    s.n = 8 + 4 + 4 + 1 + 4 + 4 + 4 + 4 * 6 + 4 + 3 + 2; /* inside "bee"'s ndim */
    expect_failure(&s, "F: truncated at byte 60: the ndim of tensor 'bee' needs 4 bytes, "
                       "2 left");
}

static void rejects_corrupt_headers(void **state)
{
    (void)state;
    bytes s = good_file();
    s.b[8] = 200; /* count */
    expect_failure(&s, "F: tensor count 200 cannot fit in the 60 bytes left");
    s = good_file();
    s.b[12] = 0xff; /* name length of "a" */
    expect_failure(&s, "F: tensor 0: name length 255 at byte 12 is past the end of the file");
    s = good_file();
    s.b[12] = 0;
    expect_failure(&s, "F: tensor 0: name length 0 at byte 12 is zero");
    s = good_file();
    s.b[17] = 9; /* ndim of "a" */
    expect_failure(&s, "F: tensor 'a': ndim 9 exceeds 8");
    s = good_file();
    /* Both dimensions of "a" set to 2^32-1: the product would overflow
     * 64 bits if it were formed before the check. */
    memset(s.b + 21, 0xff, 8);
    expect_failure(&s, "F: tensor 'a': shape exceeds the 43 bytes left");
    s = good_file();
    s.b[s.n++] = 0;
    expect_failure(&s, "F: 1 trailing bytes after the last of 2 tensors");
    s = good_file();
    memcpy(s.b + 57, "b\0e", 3); /* second name */
    expect_failure(&s, "F: tensor 1: name contains a NUL byte");
}

static void rejects_duplicate_names(void **state)
{
    (void)state;
    bytes s = {.n = 0};
    put(&s, "SIAMFIX1", 8);
    put_u32(&s, 2);
    for (int i = 0; i < 2; i++) {
        put_u32(&s, 2);
        put(&s, "xy", 2);
        put_u32(&s, 0);
        put_f32(&s, (float)i);
    }
    expect_failure(&s, "F: tensor name 'xy' appears twice (0 and 1)");
}

/* The Philox of scripts/make_fixtures.py against kernels/philox.h: every
 * input of ops.bin that is both stored and described by NAME.philox must
 * regenerate bit for bit. */
static void regenerates_stored_inputs_exactly(void **state)
{
    (void)state;
    siam_error e = {{0}};
    siam_fixture *fx = siam_fixture_load("tests/fixtures/ops.bin", &e);
    if (!fx)
        fail_msg("%s", e.msg);
    int checked = 0;
    size_t values = 0;
    for (size_t i = 0; i < siam_fixture_count(fx); i++) {
        const siam_fixture_tensor *d = siam_fixture_at(fx, i);
        size_t len = strlen(d->name);
        if (len < 8 || strcmp(d->name + len - 7, ".philox") != 0)
            continue;
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(len - 7), d->name);
        const siam_fixture_tensor *t = siam_fixture_get(fx, base, NULL);
        if (!t)
            continue;
        float *g = siam_fixture_philox(fx, base, t->numel, &e);
        if (!g)
            fail_msg("%s", e.msg);
        assert_memory_equal(g, t->data, t->numel * sizeof(float));
        free(g);
        checked++;
        values += t->numel;
    }
    print_message("regenerated %d stored inputs (%zu values) bit for bit\n", checked, values);
    assert_true(checked >= 20);

    float *in = siam_fixture_input(fx, "conv_c1.in", 2 * 105 * 105, &e);
    assert_non_null(in);
    free(in);
    assert_null(siam_fixture_input(fx, "nothing", 3, &e));
    assert_string_equal(e.msg, "tests/fixtures/ops.bin: no tensor named 'nothing' nor "
                               "'nothing.philox'");
    assert_null(siam_fixture_input(fx, "conv_small.in", 3, &e));
    assert_string_equal(e.msg, "tests/fixtures/ops.bin: tensor 'conv_small.in' holds 252 "
                               "values, expected 3");
    siam_fixture_free(fx);
}

static void reports_missing_file(void **state)
{
    (void)state;
    siam_error e = {{0}};
    assert_null(siam_fixture_load("/nonexistent/x.bin", &e));
    assert_string_equal(e.msg, "/nonexistent/x.bin: cannot open: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_a_good_file),
        cmocka_unit_test(rejects_bad_magic),
        cmocka_unit_test(rejects_truncation),
        cmocka_unit_test(rejects_corrupt_headers),
        cmocka_unit_test(rejects_duplicate_names),
        cmocka_unit_test(reports_missing_file),
        cmocka_unit_test(regenerates_stored_inputs_exactly),
    };
    return cmocka_run_group_tests_name("fixture", tests, NULL, NULL);
}
