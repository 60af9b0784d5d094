/* siamlua: the Lua 5.4 stand-alone interpreter (the options, `arg`, LUA_INIT,
 * REPL and error reporting of lua.c) with the siam module preloaded, plus
 * siamlua's own long options (--device, --threads, --seed, --quiet, --tf32,
 * --help, --version) before the script. The command line is parsed and validated
 * completely before a Lua state exists, so a bad flag runs no code. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#ifdef SIAM_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "bindings/build_info.h"
#include "bindings/interrupt.h"
#include "bindings/siam.h"

/* Error messages start with this (lua.c uses argv[0]; a fixed name keeps
 * messages the same however siamlua was invoked). */
#define PROGNAME "siamlua"

/* One -e, -l or -W, run in command-line order after LUA_INIT. */
typedef struct cli_action {
    char kind;        /* 'e', 'l' or 'W' */
    const char *text; /* the code or module spec; NULL for 'W' */
} cli_action;

typedef struct cli {
    int argc;
    char **argv;
    int script;      /* argv index of the script; argc when there is none */
    int has_e, has_i, has_v, has_E;
    int want_help, want_version;
    cli_action *actions; /* at most argc of them; owned, freed by main */
    int nactions;
    siam_lua_config config;
} cli;

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -i        enter interactive mode after executing 'script'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -l g=mod  require library 'mod' into global 'g'\n"
            "  -v        show version information\n"
            "  -E        ignore environment variables\n"
            "  -W        turn warnings on\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n"
            "siamlua options (before the script; --opt=value also works):\n"
            "  --device D   cpu, cuda or auto (default auto)  -> siam.config.device\n"
            "  --threads N  CPU threads, 0 = all cores (default 0)  -> siam.config.threads\n"
            "  --seed N     default random seed, >= 0 (default 0)  -> siam.config.seed\n"
            "  --quiet      no banner or progress output  -> siam.config.quiet\n"
            "  --tf32       CUDA may use TF32 tensor cores (default off)  -> siam.config.tf32\n"
            "  --help       show this help and exit\n"
            "  --version    show the version and exit\n",
            PROGNAME);
}

static void print_version(void)
{
    printf("%s %s  %s\n", PROGNAME, SIAM_VERSION, LUA_COPYRIGHT);
    fflush(stdout);
}

/* A usage error: the message, then the usage text, on stderr. */
static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "%s: ", PROGNAME);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    print_usage(stderr);
    return -1;
}

/* A whole decimal number in [0, max]. */
static int parse_count(const char *s, long long max, long long *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Handles argv[*i], a long option; may consume the next argument. */
static int parse_long_option(cli *c, int *i)
{
    const char *arg = c->argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    static const char *const with_value[] = {"device", "threads", "seed", NULL};
    static const char *const flags[] = {"quiet", "tf32", "help", "version", NULL};
    int takes = -1;
    for (int k = 0; with_value[k] && takes < 0; k++)
        if (strlen(with_value[k]) == len && strncmp(arg, with_value[k], len) == 0)
            takes = 1;
    for (int k = 0; flags[k] && takes < 0; k++)
        if (strlen(flags[k]) == len && strncmp(arg, flags[k], len) == 0)
            takes = 0;
    if (takes < 0)
        return usage_error("unrecognized option '%s'", c->argv[*i]);
    if (takes == 0) {
        if (eq != NULL)
            return usage_error("option '%s' takes no value", c->argv[*i]);
        if (arg[0] == 'q')
            c->config.quiet = 1;
        else if (arg[0] == 't')
            c->config.tf32 = 1;
        else if (arg[0] == 'h')
            c->want_help = 1;
        else
            c->want_version = 1;
        return 0;
    }
    const char *value = eq ? eq + 1 : NULL;
    if (value == NULL) {
        /* As for -e and -l, an option word is not taken as the value. */
        if (*i + 1 >= c->argc || c->argv[*i + 1][0] == '-')
            return usage_error("'%s' needs argument", c->argv[*i]);
        value = c->argv[++*i];
    }
    long long n;
    if (arg[0] == 'd') {
        if (strcmp(value, "cpu") != 0 && strcmp(value, "cuda") != 0 &&
            strcmp(value, "auto") != 0)
            return usage_error("bad value '%s' for --device (expected cpu, cuda or auto)", value);
#ifndef SIAM_CUDA
        if (strcmp(value, "cuda") == 0)
            return usage_error("--device %s: this siamlua was built without CUDA (make CUDA=1)",
                               value);
#endif
        c->config.device = value;
    } else if (arg[0] == 't') {
        if (parse_count(value, 4096, &n) != 0)
            return usage_error("bad value '%s' for --threads (expected an integer 0..4096)",
                               value);
        c->config.threads = (int)n;
    } else {
        if (parse_count(value, LLONG_MAX, &n) != 0)
            return usage_error("bad value '%s' for --seed (expected a non-negative integer)",
                               value);
        c->config.seed = n;
    }
    return 0;
}

/* Reads every option up to the script, as lua.c does: the first argument
 * that is not an option is the script; "-" is stdin; "--" ends the options.
 * Returns 0, or -1 after printing a usage error. */
static int parse_args(cli *c)
{
    c->script = c->argc;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            c->script = i;
            return 0;
        }
        if (a[1] == '-') {
            if (a[2] == '\0') {
                c->script = i + 1;
                return 0;
            }
            if (parse_long_option(c, &i) != 0)
                return -1;
            continue;
        }
        switch (a[1]) {
        case 'E':
        case 'W':
        case 'i':
        case 'v':
            if (a[2] != '\0')
                return usage_error("unrecognized option '%s'", a);
            if (a[1] == 'E')
                c->has_E = 1;
            else if (a[1] == 'W')
                c->actions[c->nactions++] = (cli_action){'W', NULL};
            else if (a[1] == 'i')
                c->has_i = 1;
            else
                c->has_v = 1;
            break;
        case 'e':
        case 'l': {
            const char *text = a + 2;
            if (*text == '\0') {
                if (i + 1 >= c->argc || c->argv[i + 1][0] == '-')
                    return usage_error("'%s' needs argument", a);
                text = c->argv[++i];
            }
            if (a[1] == 'e')
                c->has_e = 1;
            c->actions[c->nactions++] = (cli_action){a[1], text};
            break;
        }
        default:
            return usage_error("unrecognized option '%s'", a);
        }
    }
    return 0;
}

/* ---- running code ------------------------------------------------------- */

/* The status a script asks siamlua to end with, without a message, by
 * raising {siam_exit = status} (siam.args after printing --help: shared
 * code raises rather than calling os.exit, so pcall keeps working); -1 for
 * any other error value. */
static int exit_status(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return -1;
    lua_pushliteral(L, "siam_exit");
    lua_rawget(L, idx < 0 ? idx - 1 : idx); /* raw: no metamethod runs in the handler */
    int isnum = 0;
    lua_Integer status = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    return isnum && status >= 0 && status <= 255 ? (int)status : -1;
}

/* Message handler: adds a traceback to string errors. A non-string error
 * with __tostring is shown as that string (without traceback, as lua.c). */
static int message_handler(lua_State *L)
{
    if (exit_status(L, 1) >= 0)
        return 1; /* kept whole: handle_script ends with its status */
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Calls the function below narg arguments, with the traceback handler and
 * Ctrl-C armed. */
static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    siam_interrupt_arm(L);
    int status = lua_pcall(L, narg, nres, base);
    siam_interrupt_disarm();
    lua_remove(L, base);
    return status;
}

/* Prints the error on the top of the stack, prefixed with `prefix: ` unless
 * prefix is NULL (the REPL). */
static int report(lua_State *L, int status, const char *prefix)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (msg == NULL)
            msg = "(error object is not a string)";
        if (prefix != NULL)
            fprintf(stderr, "%s: ", prefix);
        fprintf(stderr, "%s\n", msg);
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    return report(L, status, PROGNAME);
}

static int dostring(lua_State *L, const char *code, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, code, strlen(code), name));
}

/* -l mod or -l g=mod: g = require "mod". */
static int dolibrary(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *modname = eq ? eq + 1 : spec;
    lua_getglobal(L, "require");
    lua_pushstring(L, modname);
    int status = docall(L, 1, 1);
    if (status == LUA_OK) {
        if (eq != NULL)
            lua_pushlstring(L, spec, (size_t)(eq - spec));
        else
            lua_pushstring(L, spec);
        lua_insert(L, -2);
        lua_setglobal(L, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
    return report(L, status, PROGNAME);
}

/* LUA_INIT_5_4, else LUA_INIT: "@file" runs the file, else the text. */
static int handle_luainit(lua_State *L)
{
    const char *name = "=LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR;
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return dochunk(L, luaL_loadfile(L, init + 1));
    return dostring(L, init, name);
}

/* The script's arguments arg[1..n] as the chunk's `...`. */
static int push_script_args(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    return n;
}

/* Puts the script's folder first on package.path, so that it loads its
 * sibling modules with require (experiments/grid.lua: require "common"). */
static void add_script_dir(lua_State *L, const char *fname)
{
    const char *slash = strrchr(fname, '/');
    if (lua_getglobal(L, "package") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    if (slash == NULL)
        lua_pushliteral(L, ".");
    else
        lua_pushlstring(L, fname, (size_t)(slash - fname) + (slash == fname));
    lua_getfield(L, -2, "path");
    lua_pushfstring(L, "%s/?.lua;%s", lua_tostring(L, -2),
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    lua_setfield(L, -4, "path");
    lua_pop(L, 3);
}

static int handle_script(lua_State *L, const cli *c)
{
    const char *fname = c->argv[c->script];
    /* "-" is stdin, unless "--" came just before it (then it is a file). */
    if (strcmp(fname, "-") == 0 && strcmp(c->argv[c->script - 1], "--") != 0)
        fname = NULL;
    if (fname != NULL)
        add_script_dir(L, fname);
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = push_script_args(L);
        status = docall(L, n, LUA_MULTRET);
    }
    int code = status == LUA_OK ? -1 : exit_status(L, -1);
    if (code >= 0) {
        lua_pop(L, 1);
        return code == 0 ? LUA_OK : LUA_ERRRUN;
    }
    return report(L, status, PROGNAME);
}

/* arg[0] is the script, arg[1..] its arguments, arg[-k] what came before
 * it; with no script, arg[0] is the program and everything else positive. */
static void create_arg_table(lua_State *L, const cli *c)
{
    int script = c->script == c->argc ? 0 : c->script;
    lua_createtable(L, c->argc - script - 1 > 0 ? c->argc - script - 1 : 0, script + 1);
    for (int i = 0; i < c->argc; i++) {
        lua_pushstring(L, c->argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* ---- the REPL ------------------------------------------------------------ */

/* One line from the user without its newline, malloc'ed (caller frees), or
 * NULL at end of input. Line editing and history only on a terminal. */
static char *read_line(const char *prompt, int edit)
{
#ifdef SIAM_HAVE_LIBEDIT
    if (edit)
        return readline(prompt);
#else
    (void)edit;
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
    return line;
}

static void save_line(const char *line, int edit)
{
#ifdef SIAM_HAVE_LIBEDIT
    if (edit && line[0] != '\0')
        add_history(line);
#else
    (void)line;
    (void)edit;
#endif
}

/* Pushes the next line; 0 at end of input. The prompt is _PROMPT or
 * _PROMPT2 when set, as in lua.c. A first line "=x" means "return x" (the
 * Lua 5.2 habit lua.c still accepts). */
static int push_line(lua_State *L, int first, int edit)
{
    lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
    const char *prompt = lua_tostring(L, -1);
    if (prompt == NULL)
        prompt = first ? "> " : ">> ";
    char *line = read_line(prompt, edit);
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
static int try_expression(lua_State *L, int edit)
{
    const char *line = lua_tostring(L, -1);
    const char *ret = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    if (status == LUA_OK) {
        lua_remove(L, -2);
        save_line(line, edit);
    } else
        lua_pop(L, 2);
    return status;
}

/* Reads more lines while the statement is incomplete. */
static int multi_line(lua_State *L, int edit)
{
    for (;;) {
        size_t len;
        const char *line = lua_tolstring(L, 1, &len);
        int status = luaL_loadbuffer(L, line, len, "=stdin");
        if (!incomplete(L, status) || !push_line(L, 0, edit)) {
            save_line(line, edit);
            return status;
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

/* Leaves a compiled chunk (or an error) on the stack; -1 at end of input. */
static int load_line(lua_State *L, int edit)
{
    lua_settop(L, 0);
    if (!push_line(L, 1, edit))
        return -1;
    int status = try_expression(L, edit);
    if (status != LUA_OK)
        status = multi_line(L, edit);
    lua_remove(L, 1);
    return status;
}

/* Prints the values left on the stack with the global print. */
static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
        fprintf(stderr, "%s: error calling 'print' (%s)\n", PROGNAME, lua_tostring(L, -1));
        fflush(stderr);
    }
}

static void run_repl(lua_State *L)
{
    int edit = isatty(STDIN_FILENO);
    int status;
    while ((status = load_line(L, edit)) != -1) {
        if (status == LUA_OK)
            status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            print_results(L);
        else
            report(L, status, NULL);
    }
    lua_settop(L, 0);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- main ------------------------------------------------------------------ */

/* Everything that touches Lua runs here, in protected mode, so that even an
 * out-of-memory error while opening the libraries is reported. Returns
 * (as a boolean on the stack) whether all went well. */
static int protected_main(lua_State *L)
{
    const cli *c = lua_touserdata(L, 1);
    luaL_checkversion(L);
    /* -i shows the banner too (as lua.c), unless --quiet. */
    if (c->has_v || (c->has_i && !c->config.quiet))
        print_version();
    if (c->has_E) {
        /* The libraries look for this registry field before reading
         * LUA_PATH and LUA_CPATH. */
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    siam_lua_openlibs(L, &c->config);
    create_arg_table(L, c);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    if (!c->has_E && handle_luainit(L) != LUA_OK)
        return 0;
    for (int k = 0; k < c->nactions; k++) {
        const cli_action *a = &c->actions[k];
        int status = LUA_OK;
        if (a->kind == 'e')
            status = dostring(L, a->text, "=(command line)");
        else if (a->kind == 'l')
            status = dolibrary(L, a->text);
        else
            lua_warning(L, "@on", 0);
        if (status != LUA_OK)
            return 0;
    }
    if (c->script < c->argc && handle_script(L, c) != LUA_OK)
        return 0;
    if (c->has_i)
        run_repl(L);
    else if (c->script == c->argc && !c->has_e && !c->has_v) {
        /* Nothing to run: a REPL on a terminal, else stdin as a script. */
        if (isatty(STDIN_FILENO)) {
            if (!c->config.quiet)
                print_version();
            run_repl(L);
        } else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK)
            return 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    cli c = {.argc = argc, .argv = argv};
    siam_lua_config_default(&c.config);
    c.actions = calloc((size_t)argc + 1, sizeof *c.actions);
    if (c.actions == NULL) {
        fprintf(stderr, "%s: not enough memory\n", PROGNAME);
        return EXIT_FAILURE;
    }
    if (parse_args(&c) != 0) {
        free(c.actions);
        return EXIT_FAILURE;
    }
    if (c.want_help || c.want_version) {
        if (c.want_version)
            print_version();
        if (c.want_help)
            print_usage(stdout);
        free(c.actions);
        return EXIT_SUCCESS;
    }
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", PROGNAME);
        free(c.actions);
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, protected_main);
    lua_pushlightuserdata(L, &c);
    int status = lua_pcall(L, 1, 1, 0);
    int ok = status == LUA_OK && lua_toboolean(L, -1);
    report(L, status, PROGNAME);
    lua_close(L);
    free(c.actions);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
