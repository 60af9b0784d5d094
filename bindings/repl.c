/* The REPL: lua.c's loop (prompts from _PROMPT and _PROMPT2, continuation
 * lines, "=expr", history on a terminal) with bindings/lua/siam/repl.lua's
 * printing, completion and help(). Here: reading lines (libedit on a
 * terminal, plain reads echoed on a pipe), the completion hook, Ctrl-C at
 * the prompt. Running a statement is the caller's (main.c's docall). */
#include "bindings/repl.h"

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#ifdef SIAM_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

typedef struct repl {
    lua_State *L;
    const char *progname;
    siam_repl_call call;
    int edit; /* libedit: stdin is a terminal */
    int echo; /* stdin is not a terminal: each line read is shown after its
               * prompt, as lua5.4 (built with GNU readline) shows it */
} repl;

/* ---- reading a line -------------------------------------------------------- */

#ifdef SIAM_HAVE_LIBEDIT
/* readline's completion callbacks and the SIGINT handler receive no context
 * pointer, so what they need is file-scope: the state to complete in, and
 * the way back to the prompt. Both are set only while readline() waits. */
static lua_State *complete_state;
static sigjmp_buf prompt_jump;
static volatile sig_atomic_t prompt_armed;

#define MATCHES_KEY "siam.repl.matches"

/* registry[MATCHES_KEY] = require("siam.repl").complete(text) */
static int find_matches(lua_State *L)
{
    const char *text = lua_touserdata(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "siam.repl");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "complete");
    lua_pushstring(L, text);
    lua_call(L, 1, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, MATCHES_KEY);
    return 0;
}

/* readline's generator: the state-th completion of text (malloc'ed; readline
 * frees it), NULL after the last. An error while completing (say, an __index
 * that raises) means no completions, never an error at the prompt. */
static char *complete_next(const char *text, int state)
{
    lua_State *L = complete_state;
    if (L == NULL)
        return NULL;
    /* No jump out of a Lua call: a Ctrl-C while completing is ignored. */
    prompt_armed = 0;
    int top = lua_gettop(L);
    if (state == 0) {
        lua_pushcfunction(L, find_matches);
        lua_pushlightuserdata(L, (void *)text);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            lua_pushnil(L);
            lua_setfield(L, LUA_REGISTRYINDEX, MATCHES_KEY);
        }
    }
    char *match = NULL;
    if (lua_getfield(L, LUA_REGISTRYINDEX, MATCHES_KEY) == LUA_TTABLE &&
        lua_rawgeti(L, -1, (lua_Integer)state + 1) == LUA_TSTRING)
        match = strdup(lua_tostring(L, -1));
    lua_settop(L, top);
    prompt_armed = 1;
    return match;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* no file names when nothing matches */
    return rl_completion_matches(text, complete_next);
}

/* Ctrl-C while readline waits: back to the top of edit_line. readline has
 * no call that abandons the line from a handler; the jump is armed only
 * while it blocks reading the terminal. */
static void on_prompt_sigint(int sig)
{
    (void)sig;
    if (prompt_armed)
        siglongjmp(prompt_jump, 1);
}

static void edit_setup(void)
{
    /* Word breaks: Lua's operators and brackets, not '.' or ':', so that
     * "siam.fi" and "m:fo" are completed whole. */
    static char breaks[] = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]}";
    rl_catch_signals = 0; /* SIGINT is ours (on_prompt_sigint) */
    rl_basic_word_break_characters = breaks;
    rl_completer_word_break_characters = breaks;
    rl_completion_append_character = '\0';
    rl_attempted_completion_function = complete;
}

/* readline(prompt), where Ctrl-C drops the line typed so far and prompts
 * again (the session and its variables stay); NULL at Ctrl-D. */
static char *edit_line(lua_State *L, const char *prompt)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_prompt_sigint;
    act.sa_flags = SA_RESTART; /* a Ctrl-C that does not jump resumes the read */
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, &old);
    while (sigsetjmp(prompt_jump, 1) != 0) {
        prompt_armed = 0;
        fputc('\n', stdout);
        fflush(stdout);
    }
    complete_state = L;
    prompt_armed = 1;
    char *line = readline(prompt);
    prompt_armed = 0;
    complete_state = NULL;
    sigaction(SIGINT, &old, NULL);
    return line;
}
#endif

/* One line without its newline, malloc'ed (caller frees), or NULL at end of
 * input. */
static char *read_line(const repl *r, const char *prompt)
{
#ifdef SIAM_HAVE_LIBEDIT
    if (r->edit)
        return edit_line(r->L, prompt);
#endif
    fputs(prompt, stdout);
    fflush(stdout);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = '\0';
    if (r->echo) {
        fputs(line, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    return line;
}

static void save_line(const repl *r, const char *line)
{
#ifdef SIAM_HAVE_LIBEDIT
    if (r->edit && line[0] != '\0')
        add_history(line);
#else
    (void)r;
    (void)line;
#endif
}

/* ---- lua.c's loop ------------------------------------------------------------ */

/* Pushes the next line; 0 at end of input. The prompt is _PROMPT or
 * _PROMPT2 when set, as in lua.c. A first line "=x" means "return x" (the
 * Lua 5.2 habit lua.c still accepts). */
static int push_line(const repl *r, int first)
{
    lua_State *L = r->L;
    lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
    const char *prompt = lua_tostring(L, -1);
    if (prompt == NULL)
        prompt = first ? "> " : ">> ";
    char *line = read_line(r, prompt);
    lua_pop(L, 1);
    if (line == NULL)
        return 0;
    if (first && line[0] == '=')
        lua_pushfstring(L, "return %s", line + 1);
    else
        lua_pushstring(L, line);
    free(line);
    return 1;
}

/* A syntax error at <eof> means the statement is not finished yet. */
static int incomplete(lua_State *L, int status)
{
    static const char mark[] = "<eof>";
    if (status != LUA_ERRSYNTAX)
        return 0;
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (len >= sizeof mark - 1 && strcmp(msg + len - (sizeof mark - 1), mark) == 0) {
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

/* First try the line as an expression ("return <line>;") so that its value
 * is printed. */
static int try_expression(const repl *r)
{
    lua_State *L = r->L;
    const char *line = lua_tostring(L, -1);
    const char *ret = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    if (status == LUA_OK) {
        lua_remove(L, -2);
        save_line(r, line);
    } else
        lua_pop(L, 2);
    return status;
}

/* Reads more lines while the statement is incomplete. */
static int multi_line(const repl *r)
{
    lua_State *L = r->L;
    for (;;) {
        size_t len;
        const char *line = lua_tolstring(L, 1, &len);
        int status = luaL_loadbuffer(L, line, len, "=stdin");
        if (!incomplete(L, status) || !push_line(r, 0)) {
            save_line(r, line);
            return status;
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

/* Leaves a compiled chunk (or an error) on the stack; -1 at end of input. */
static int load_line(const repl *r)
{
    lua_settop(r->L, 0);
    if (!push_line(r, 1))
        return -1;
    int status = try_expression(r);
    if (status != LUA_OK)
        status = multi_line(r);
    lua_remove(r->L, 1);
    return status;
}

/* print(...) with tables shown by siam.repl.format. */
static int print_values(lua_State *L)
{
    int n = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "siam.repl");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "print");
    lua_remove(L, -2);
    lua_insert(L, 1);
    lua_call(L, n, 0);
    return 0;
}

static void print_results(const repl *r)
{
    lua_State *L = r->L;
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_pushcfunction(L, print_values);
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
        fprintf(stderr, "%s: error calling 'print' (%s)\n", r->progname, lua_tostring(L, -1));
        fflush(stderr);
    }
}

/* help = require("siam.repl").help, unless the session has a help. */
static int set_help(lua_State *L)
{
    if (lua_getglobal(L, "help") != LUA_TNIL)
        return 0;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "siam.repl");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "help");
    lua_setglobal(L, "help");
    return 0;
}

static void report(const repl *r)
{
    const char *msg = lua_tostring(r->L, -1);
    fprintf(stderr, "%s\n", msg != NULL ? msg : "(error object is not a string)");
    fflush(stderr);
    lua_pop(r->L, 1);
}

void siam_repl_run(lua_State *L, const char *progname, siam_repl_call call)
{
    repl r = {.L = L, .progname = progname, .call = call};
    r.edit = isatty(STDIN_FILENO);
    r.echo = !r.edit;
#ifdef SIAM_HAVE_LIBEDIT
    if (r.edit)
        edit_setup();
#else
    r.edit = 0;
#endif
    lua_pushcfunction(L, set_help);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
        report(&r);
    int status;
    while ((status = load_line(&r)) != -1) {
        if (status == LUA_OK)
            status = r.call(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            print_results(&r);
        else
            report(&r);
    }
    lua_settop(L, 0);
    fputc('\n', stdout);
    fflush(stdout);
}
