/* siam_error: formatting and wrapping of messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernels/error.h"

static void fail_formats_and_returns_minus_one(void **state)
{
    (void)state;
    siam_error e;
    assert_int_equal(siam_fail(&e, "bad value %d in %s", 7, "x.txt"), -1);
    assert_string_equal(e.msg, "bad value 7 in x.txt");
    assert_int_equal(siam_fail_wrap(&e, "loading %s", "set"), -1);
    assert_string_equal(e.msg, "loading set: bad value 7 in x.txt");
    assert_int_equal(siam_fail(NULL, "ignored %d", 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fail_formats_and_returns_minus_one),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
