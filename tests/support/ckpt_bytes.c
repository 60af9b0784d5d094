/* Checkpoint byte edits for tests (ckpt_bytes.h). */
#include "tests/support/ckpt_bytes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long siam_test_file_edit(const char *path, void (*edit)(unsigned char *buf, long *n))
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 64);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    edit(buf, &n);
    siam_test_write_file(path, buf, (size_t)n);
    free(buf);
    return n;
}

void siam_test_write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

void siam_test_ckpt_to_version_2(unsigned char *b, long *n)
{
    long meta = SIAM_TEST_CKPT_META, end = meta + 28;
    memmove(b + meta, b + end, (size_t)(*n - end));
    *n -= 28;
    b[8] = 2;
    siam_test_ckpt_reseal(b, *n);
}

void siam_test_ckpt_to_version_1(unsigned char *b, long *n)
{
    siam_test_ckpt_to_version_2(b, n);
    memmove(b + 80, b + 88, (size_t)(*n - 88));
    *n -= 8;
    b[8] = 1;
    siam_test_ckpt_reseal(b, *n);
}
