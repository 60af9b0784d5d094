/* siam_escape: what a message shows of user text, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "host/escape.h"

static void expect(const char *in, size_t n, size_t cap, const char *want)
{
    char out[256];
    assert_true(cap <= sizeof out);
    assert_ptr_equal(siam_escape(out, cap, in, n), out);
    assert_string_equal(out, want);
    assert_true(strlen(out) < cap);
}

static void visible_text_is_kept(void **state)
{
    (void)state;
    expect("Aaron_Peirsol 1 2", 17, 64, "Aaron_Peirsol 1 2");
    expect("Jos\xc3\xa9 \xe6\x9d\xb1", 9, 64, "Jos\xc3\xa9 \xe6\x9d\xb1"); /* é and a CJK ideograph */
    expect("", 0, 4, "");
}

static void invisible_bytes_are_escaped(void **state)
{
    (void)state;
    expect("a\0b", 3, 64, "a\\x00b");
    expect("\xef\xbb\xbf" "2", 4, 64, "\\xef\\xbb\\xbf2");       /* byte-order mark */
    expect("x\x1b[31my", 7, 64, "x\\x1b[31my");                  /* terminal escape */
    expect("a\tb\r\n", 5, 64, "a\\tb\\r\\n");
    expect("q\"\\", 3, 64, "q\\\"\\\\");
    expect("\x7f\x01", 2, 64, "\\x7f\\x01");
    expect("a\xe2\x80\x8b" "b", 5, 64, "a\\xe2\\x80\\x8bb");        /* zero-width space */
    expect("\xc2\x85", 2, 64, "\\xc2\\x85");                      /* C1 control NEL */
    expect("\xe2\x80\xae", 3, 64, "\\xe2\\x80\\xae");              /* right-to-left override */
}

static void malformed_utf8_is_escaped_byte_by_byte(void **state)
{
    (void)state;
    expect("\xe9t\xe9", 3, 64, "\\xe9t\\xe9");                    /* Latin-1 */
    expect("\xc0\xaf", 2, 64, "\\xc0\\xaf");                      /* overlong '/' */
    expect("\xed\xa0\x80", 3, 64, "\\xed\\xa0\\x80");              /* a surrogate */
    expect("\xf4\x90\x80\x80", 4, 64, "\\xf4\\x90\\x80\\x80");      /* above U+10FFFF */
    expect("\xe6\x9d", 2, 64, "\\xe6\\x9d");                      /* cut short */
}

static void long_text_is_cut_with_dots(void **state)
{
    (void)state;
    expect("abcdefgh", 8, 9, "abcdefgh");     /* fits exactly */
    expect("abcdefghi", 9, 9, "abcde...");
    expect("\x01\x02\x03", 3, 10, "\\x01...");
    expect("a\x01", 2, SIAM_ESCAPE_CAP(2), "a\\x01");
    char worst[64];
    memset(worst, 1, sizeof worst);
    char out[SIAM_ESCAPE_CAP(64)];
    siam_escape(out, sizeof out, worst, sizeof worst);
    assert_int_equal(strlen(out), 4 * 64); /* SIAM_ESCAPE_CAP is always enough */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(visible_text_is_kept),
        cmocka_unit_test(invisible_bytes_are_escaped),
        cmocka_unit_test(malformed_utf8_is_escaped_byte_by_byte),
        cmocka_unit_test(long_text_is_cut_with_dots),
    };
    return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
