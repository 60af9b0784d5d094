/* bindings/util.c and bindings/interrupt.c: options-table readers and their
 * exact error messages, siam_error to Lua error, edit distance, and the
 * SIGINT flag and hook. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bindings/interrupt.h"
#include "bindings/util.h"

static const char *const fit_options[] = {"epochs", "batch", "lr", "verbose", "name", "device",
                                          NULL};
static const char *const devices[] = {"cpu", "cuda", "auto", NULL};

/* fit(opts): reads every option and returns them, as a binding would. */
static int fake_fit(lua_State *L)
{
    siam_lua_opts_check(L, 1, fit_options);
    lua_Integer epochs = siam_lua_opt_integer(L, 1, "epochs", 25, 1, 1000);
    lua_Integer batch = siam_lua_opt_integer(L, 1, "batch", 32, 1, 4096);
    lua_Number lr = siam_lua_opt_number(L, 1, "lr", 0.005);
    int verbose = siam_lua_opt_boolean(L, 1, "verbose", 0);
    const char *name = siam_lua_opt_string(L, 1, "name", "run");
    int device = siam_lua_opt_choice(L, 1, "device", 2, devices);
    lua_pushfstring(L, "%I %I %f %d %s %s", epochs, batch, lr, verbose, name, devices[device]);
    return 1;
}

static int fake_fail(lua_State *L)
{
    siam_error e;
    siam_fail(&e, "%s", luaL_checkstring(L, 1));
    return siam_lua_error(L, &e);
}

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    lua_register(L, "fit", fake_fit);
    lua_register(L, "fail", fake_fail);
    return L;
}

/* Runs code (chunk name "t") and returns its string result or error
 * message, copied into buf. */
static const char *eval(lua_State *L, const char *code, char *buf, size_t size)
{
    int status = luaL_loadbuffer(L, code, strlen(code), "=t");
    if (status == LUA_OK)
        status = lua_pcall(L, 0, 1, 0);
    const char *s = lua_tostring(L, -1);
    snprintf(buf, size, "%s", s ? s : "(not a string)");
    lua_pop(L, 1);
    return buf;
}

static void options_read_values_and_defaults(void **state)
{
    (void)state;
    lua_State *L = new_state();
    char buf[512];
    assert_string_equal(eval(L, "return fit()", buf, sizeof buf),
                        "25 32 0.005 0 run auto");
    assert_string_equal(eval(L, "return fit(nil)", buf, sizeof buf),
                        "25 32 0.005 0 run auto");
    assert_string_equal(
        eval(L, "return fit{epochs = 3, batch = 16.0, lr = 0.1, verbose = true, name = 'x',"
                " device = 'cuda'}", buf, sizeof buf),
        "3 16 0.1 1 x cuda");
    lua_close(L);
}

static void options_reject_unknown_keys(void **state)
{
    (void)state;
    lua_State *L = new_state();
    char buf[512];
    assert_string_equal(eval(L, "return fit{epoch = 3}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (unknown option 'epoch'; did you mean "
                        "'epochs'?)");
    assert_string_equal(eval(L, "return fit{bacth = 3}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (unknown option 'bacth'; did you mean "
                        "'batch'?)");
    assert_string_equal(eval(L, "return fit{momentum = 0.9}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (unknown option 'momentum')");
    assert_string_equal(eval(L, "return fit{x = 1}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (unknown option 'x')");
    assert_string_equal(eval(L, "return fit{3}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option names must be strings, got "
                        "number key)");
    assert_string_equal(eval(L, "return fit(5)", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (table expected, got number)");
    lua_close(L);
}

static void options_reject_bad_values(void **state)
{
    (void)state;
    lua_State *L = new_state();
    char buf[512];
    assert_string_equal(eval(L, "return fit{epochs = 'ten'}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'epochs' must be an integer, "
                        "got string)");
    assert_string_equal(eval(L, "return fit{epochs = 2.5}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'epochs' must be an integer, "
                        "got 2.5)");
    assert_string_equal(eval(L, "return fit{epochs = 0}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'epochs' must be in [1, 1000], "
                        "got 0)");
    assert_string_equal(eval(L, "return fit{lr = '0.1'}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'lr' must be a number, got "
                        "string)");
    assert_string_equal(eval(L, "return fit{verbose = 1}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'verbose' must be a boolean, got "
                        "number)");
    assert_string_equal(eval(L, "return fit{name = {}}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'name' must be a string, got "
                        "table)");
    assert_string_equal(eval(L, "return fit{device = 'gpu'}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'device' must be one of 'cpu', "
                        "'cuda', 'auto', got 'gpu')");
    assert_string_equal(eval(L, "return fit{device = 1}", buf, sizeof buf),
                        "t:1: bad argument #1 to 'fit' (option 'device' must be a string, got "
                        "number)");
    lua_close(L);
}

static void siam_error_becomes_lua_error_verbatim(void **state)
{
    (void)state;
    lua_State *L = new_state();
    char buf[512];
    /* A '%' in the message must not be read as a format. */
    assert_string_equal(eval(L, "return fail('100% of %s failed')", buf, sizeof buf),
                        "t:1: 100% of %s failed");
    lua_close(L);
}

static void edit_distance_values(void **state)
{
    (void)state;
    assert_int_equal(siam_lua_edit_distance("same", "same"), 0);
    assert_int_equal(siam_lua_edit_distance("epoch", "epochs"), 1);
    assert_int_equal(siam_lua_edit_distance("bacth", "batch"), 2);
    assert_int_equal(siam_lua_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(siam_lua_edit_distance("", "abc"), 3);
    assert_int_equal(siam_lua_edit_distance("abc", ""), 3);
    char long_name[80];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(siam_lua_edit_distance(long_name, "a"), 64);
}

static void sigint_sets_flag_and_stops_lua(void **state)
{
    (void)state;
    lua_State *L = new_state();
    volatile sig_atomic_t *flag = siam_interrupt_flag();
    const char *loop = "local n = 0 for i = 1, 1e12 do n = n + 1 end return 'finished'";
    assert_int_equal(luaL_loadbuffer(L, loop, strlen(loop), "=t"), LUA_OK);
    siam_interrupt_arm(L);
    assert_int_equal(*flag, 0);
    /* raise() runs the handler before it returns: no timing involved. */
    raise(SIGINT);
    assert_int_equal(*flag, 1);
    int status = lua_pcall(L, 0, 1, 0);
    siam_interrupt_disarm();
    assert_int_equal(status, LUA_ERRRUN);
    assert_string_equal(lua_tostring(L, -1), "interrupted!");
    lua_pop(L, 1);
    assert_int_equal(*flag, 1);

    /* Disarmed: the default action is back. */
    struct sigaction now;
    sigaction(SIGINT, NULL, &now);
    assert_true(now.sa_handler == SIG_DFL);

    /* The hook removed itself: the same state runs code again. */
    assert_int_equal(luaL_dostring(L, "return 1 + 1"), LUA_OK);
    assert_int_equal(lua_tointeger(L, -1), 2);
    lua_pop(L, 1);

    siam_interrupt_clear();
    assert_int_equal(*flag, 0);
    /* Arming clears an old interruption too. */
    siam_interrupt_arm(L);
    raise(SIGINT);
    siam_interrupt_disarm();
    lua_sethook(L, NULL, 0, 0);
    assert_int_equal(*flag, 1);
    siam_interrupt_arm(L);
    assert_int_equal(*flag, 0);
    siam_interrupt_disarm();
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_read_values_and_defaults),
        cmocka_unit_test(options_reject_unknown_keys),
        cmocka_unit_test(options_reject_bad_values),
        cmocka_unit_test(siam_error_becomes_lua_error_verbatim),
        cmocka_unit_test(edit_distance_values),
        cmocka_unit_test(sigint_sets_flag_and_stops_lua),
    };
    return cmocka_run_group_tests_name("bindings_util", tests, NULL, NULL);
}
