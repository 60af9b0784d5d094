/* The SIGINT handler and its stop flag. This is the one place in siamlua
 * with file-scope mutable state, because a signal handler receives only the
 * signal number: it can reach the running Lua state and the flag that C loops
 * poll only through statics. Both are written by the main thread before the
 * handler is armed, and by the handler itself (the flag). */
#include "bindings/interrupt.h"

#include <lauxlib.h>

static volatile sig_atomic_t stop_flag;
static lua_State *volatile armed_state;

/* Runs at the next instruction, call or line of Lua code after Ctrl-C:
 * there the error unwinds through lua_pcall like any other. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
    /* Back to the default first, so that a second Ctrl-C ends a process
     * stuck in C code that never reaches a safe point. */
    signal(sig, SIG_DFL);
    stop_flag = 1;
    /* lua_sethook is documented as safe to call from a signal handler. */
    if (armed_state != NULL)
        lua_sethook(armed_state, stop_hook,
                    LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

void siam_interrupt_arm(lua_State *L)
{
    struct sigaction act;
    stop_flag = 0;
    armed_state = L;
    act.sa_handler = on_sigint;
    sigemptyset(&act.sa_mask);
    act.sa_flags = 0;
    sigaction(SIGINT, &act, NULL);
}

void siam_interrupt_disarm(void)
{
    signal(SIGINT, SIG_DFL);
    armed_state = NULL;
}

volatile sig_atomic_t *siam_interrupt_flag(void)
{
    return &stop_flag;
}

void siam_interrupt_clear(void)
{
    stop_flag = 0;
}
