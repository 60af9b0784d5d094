/* siamlua: the Lua 5.4 stand-alone interpreter (the options, `arg`, LUA_INIT,
 * REPL and error reporting of lua.c) with the siam module preloaded, plus
 * siamlua's own long options (--device, --threads, --seed, --quiet, --tf32,
 * --help, --version) before the script. The command line is parsed and validated
 * completely before a Lua state exists, so a bad flag runs no code. The REPL
 * itself is bindings/repl.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bindings/build_info.h"
#include "bindings/interrupt.h"
#include "bindings/repl.h"
#include "bindings/siam.h"

/* The runnable scripts of experiments/ and scripts/, one line each, made at
 * build time by scripts/script_list.sh (build/gen/script_list.c). */
extern const char siam_script_list[];

/* One -e, -l or -W, run in command-line order after LUA_INIT. */
typedef struct cli_action {
    char kind;        /* 'e', 'l' or 'W' */
    const char *text; /* the code or module spec; NULL for 'W' */
} cli_action;

typedef struct cli {
    int argc;
    char **argv;
    const char *progname; /* messages start with it: argv[0], as in lua.c */
    int script;           /* argv index of the script; argc when there is none */
    int has_e, has_i, has_v, has_E;
    int want_help, want_version;
    cli_action *actions; /* at most argc of them; owned, freed by main */
    int nactions;
    siam_lua_config config;
} cli;

/* The options, as lua.c prints them (after a usage error too); with full,
 * also how scripts take arguments and which scripts there are (--help). */
static void print_usage(FILE *out, const char *progname, int full)
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
            "  -h, --help   show this help and exit\n"
            "  --version    show the version and exit\n",
            progname);
    if (!full)
        return;
    fprintf(out,
            "\n"
            "The first argument that is not an option is the script; the ones after it\n"
            "are the script's (arg[1], arg[2], ... and the chunk's `...`), so options\n"
            "for siamlua go before it. The experiment scripts take key=value arguments,\n"
            "each checked before any data is loaded (an unknown key or a bad value stops\n"
            "the script with a one-line message); each script's header comment lists\n"
            "its keys and their defaults:\n"
            "  siamlua experiments/quickstart.lua epochs=2 subset=600\n"
            "  siamlua --threads 2 experiments/grid.lua --shard 1/4 epochs=15\n"
            "With no script, siamlua is a REPL on a terminal (help() there says more).\n"
            "\n"
            "The scripts (in the source tree, or PREFIX/share/siamlua once installed):\n"
            "%s",
            siam_script_list);
}

static void print_version(void)
{
    printf("siamlua %s  %s\n", SIAM_VERSION, LUA_COPYRIGHT);
    fflush(stdout);
}

/* A usage error: the message, then the usage text, on stderr. */
static int usage_error(const cli *c, const char *fmt, const char *what)
{
    fprintf(stderr, "%s: ", c->progname);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    print_usage(stderr, c->progname, 0);
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
        return usage_error(c, "unrecognized option '%s'", c->argv[*i]);
    if (takes == 0) {
        if (eq != NULL)
            return usage_error(c, "option '%s' takes no value", c->argv[*i]);
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
        /* The next word is the value even when it starts with '-' (unlike
         * -e and -l, whose value may be any code), so that --seed -1 is
         * reported as the bad value it is. */
        if (*i + 1 >= c->argc)
            return usage_error(c, "'%s' needs argument", c->argv[*i]);
        value = c->argv[++*i];
    }
    long long n;
    if (arg[0] == 'd') {
        if (strcmp(value, "cpu") != 0 && strcmp(value, "cuda") != 0 &&
            strcmp(value, "auto") != 0)
            return usage_error(c, "bad value '%s' for --device (expected cpu, cuda or auto)", value);
#ifndef SIAM_CUDA
        if (strcmp(value, "cuda") == 0)
            return usage_error(c, "--device %s: this siamlua was built without CUDA (make CUDA=1)",
                               value);
#endif
        c->config.device = value;
    } else if (arg[0] == 't') {
        if (parse_count(value, 4096, &n) != 0)
            return usage_error(c, "bad value '%s' for --threads (expected an integer 0..4096)",
                               value);
        c->config.threads = (int)n;
    } else {
        if (parse_count(value, LLONG_MAX, &n) != 0)
            return usage_error(c, "bad value '%s' for --seed (expected a non-negative integer)",
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
        case 'h':
            if (a[2] != '\0')
                return usage_error(c, "unrecognized option '%s'", a);
            if (a[1] == 'h')
                c->want_help = 1;
            else if (a[1] == 'E')
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
                    return usage_error(c, "'%s' needs argument", a);
                text = c->argv[++i];
            }
            if (a[1] == 'e')
                c->has_e = 1;
            c->actions[c->nactions++] = (cli_action){a[1], text};
            break;
        }
        default:
            return usage_error(c, "unrecognized option '%s'", a);
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

/* Prints the error on the top of the stack as `progname: message`. */
static int report(lua_State *L, int status, const char *progname)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (msg == NULL)
            msg = "(error object is not a string)";
        fprintf(stderr, "%s: %s\n", progname, msg);
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

static int dochunk(lua_State *L, int status, const char *progname)
{
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    return report(L, status, progname);
}

static int dostring(lua_State *L, const char *code, const char *name, const char *progname)
{
    return dochunk(L, luaL_loadbuffer(L, code, strlen(code), name), progname);
}

/* -l mod or -l g=mod: g = require "mod". */
static int dolibrary(lua_State *L, const char *spec, const char *progname)
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
    return report(L, status, progname);
}

/* LUA_INIT_5_4, else LUA_INIT: "@file" runs the file, else the text. */
static int handle_luainit(lua_State *L, const char *progname)
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
        return dochunk(L, luaL_loadfile(L, init + 1), progname);
    return dostring(L, init, name, progname);
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
    return report(L, status, c->progname);
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
    if (!c->has_E && handle_luainit(L, c->progname) != LUA_OK)
        return 0;
    for (int k = 0; k < c->nactions; k++) {
        const cli_action *a = &c->actions[k];
        int status = LUA_OK;
        if (a->kind == 'e')
            status = dostring(L, a->text, "=(command line)", c->progname);
        else if (a->kind == 'l')
            status = dolibrary(L, a->text, c->progname);
        else
            lua_warning(L, "@on", 0);
        if (status != LUA_OK)
            return 0;
    }
    if (c->script < c->argc && handle_script(L, c) != LUA_OK)
        return 0;
    if (c->has_i)
        siam_repl_run(L, c->progname, docall);
    else if (c->script == c->argc && !c->has_e && !c->has_v) {
        /* Nothing to run: a REPL on a terminal, else stdin as a script. */
        if (isatty(STDIN_FILENO)) {
            if (!c->config.quiet)
                print_version();
            siam_repl_run(L, c->progname, docall);
        } else if (dochunk(L, luaL_loadfile(L, NULL), c->progname) != LUA_OK)
            return 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    /* As lua.c: the name it was invoked by, or a fixed one when there is none. */
    cli c = {.argc = argc, .argv = argv, .progname = "siamlua"};
    if (argv[0] != NULL && argv[0][0] != '\0')
        c.progname = argv[0];
    siam_lua_config_default(&c.config);
    c.actions = calloc((size_t)argc + 1, sizeof *c.actions);
    if (c.actions == NULL) {
        fprintf(stderr, "%s: not enough memory\n", c.progname);
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
            print_usage(stdout, c.progname, 1);
        free(c.actions);
        return EXIT_SUCCESS;
    }
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", c.progname);
        free(c.actions);
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, protected_main);
    lua_pushlightuserdata(L, &c);
    int status = lua_pcall(L, 1, 1, 0);
    int ok = status == LUA_OK && lua_toboolean(L, -1);
    report(L, status, c.progname);
    lua_close(L);
    free(c.actions);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
