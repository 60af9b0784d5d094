/* siam.io, files part: mkdir -p, atomic writes, the per-epoch line log,
 * log.txt, the progress bar and grid shards. Plots and TensorBoard are in
 * io_plots.c; result tables are siam.results (bindings/results.c). */
#include "bindings/runio.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bindings/util.h"
#include "host/atomic_file.h"
#include "host/hash.h"
#include "host/progress.h"
#include "host/run_log.h"
#include "host/shard.h"

/* siam.io.mkdir_p(path) -> true | nil, message */
static int io_mkdir_p(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    siam_error err;
    if (siam_mkdir_p(path, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* siam.io.atomic_write(path, text) -> true | nil, message */
static int io_atomic_write(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t n;
    const char *data = luaL_checklstring(L, 2, &n);
    siam_error err;
    if (siam_atomic_write(path, data, n, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- siam.LineLog ---- */

static int linelog_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    siam_lua_box *box = siam_lua_newbox(L, SIAM_LINELOG_MT);
    siam_error err;
    box->ptr = siam_linelog_open(path, &err);
    if (box->ptr == NULL) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    return 1;
}

static int linelog_append(lua_State *L)
{
    siam_linelog *log = siam_lua_checkobj(L, 1, SIAM_LINELOG_MT);
    const char *line = luaL_checkstring(L, 2);
    siam_error err;
    if (siam_linelog_append(log, line, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

static int linelog_lines(lua_State *L)
{
    siam_linelog *log = siam_lua_checkobj(L, 1, SIAM_LINELOG_MT);
    lua_pushinteger(L, (lua_Integer)siam_linelog_lines(log));
    return 1;
}

static int linelog_truncate(lua_State *L)
{
    siam_linelog *log = siam_lua_checkobj(L, 1, SIAM_LINELOG_MT);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0, 2, "line count must be >= 0");
    siam_error err;
    if (siam_linelog_truncate(log, (size_t)n, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

static int linelog_text(lua_State *L)
{
    siam_linelog *log = siam_lua_checkobj(L, 1, SIAM_LINELOG_MT);
    lua_pushstring(L, siam_linelog_text(log));
    return 1;
}

static int linelog_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_LINELOG_MT);
    siam_linelog_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

static const luaL_Reg linelog_methods[] = {
    {"append", linelog_append}, {"lines", linelog_lines}, {"truncate", linelog_truncate},
    {"text", linelog_text},     {"close", linelog_gc},    {NULL, NULL},
};
static const luaL_Reg linelog_meta[] = {
    {"__gc", linelog_gc}, {"__close", linelog_gc}, {NULL, NULL},
};

/* ---- siam.RunLog ---- */

static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};

/* siam.io.runlog(path [, min_level]) -> log | nil, message */
static int runlog_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int min = luaL_checkoption(L, 2, "debug", level_names);
    siam_lua_box *box = siam_lua_newbox(L, SIAM_RUNLOG_MT);
    siam_error err;
    box->ptr = siam_runlog_open(path, (siam_log_level)min, NULL, NULL, &err);
    if (box->ptr == NULL) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    return 1;
}

/* log:write(level, message) */
static int runlog_write(lua_State *L)
{
    siam_runlog *log = siam_lua_checkobj(L, 1, SIAM_RUNLOG_MT);
    int level = luaL_checkoption(L, 2, NULL, level_names);
    const char *msg = luaL_checkstring(L, 3);
    siam_error err;
    if (siam_runlog_write(log, (siam_log_level)level, &err, "%s", msg) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

static int runlog_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_RUNLOG_MT);
    siam_runlog_close(box->ptr);
    box->ptr = NULL;
    return 0;
}

static const luaL_Reg runlog_methods[] = {
    {"write", runlog_write}, {"close", runlog_gc}, {NULL, NULL},
};
static const luaL_Reg runlog_meta[] = {
    {"__gc", runlog_gc}, {"__close", runlog_gc}, {NULL, NULL},
};

/* ---- siam.Progress ---- */

static const char *const progress_modes[] = {"quiet", "lines", "bar", "auto", NULL};

/* siam.io.progress([mode]) -> progress on stderr, as tqdm's (so `> log`
 * keeps a script's results clean while the bar shows). mode "auto"
 * (default) picks bar when stderr is a terminal, lines otherwise, quiet
 * when siam.config.quiet. */
static int progress_new(lua_State *L)
{
    int mode = luaL_checkoption(L, 1, "auto", progress_modes);
    if (mode == 3) {
        int quiet = 0;
        if (lua_getfield(L, LUA_REGISTRYINDEX, "siam.config") == LUA_TTABLE) {
            lua_getfield(L, -1, "quiet");
            quiet = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        mode = (int)siam_progress_mode_for(stderr, quiet);
    }
    siam_lua_box *box = siam_lua_newbox(L, SIAM_PROGRESS_MT);
    siam_error err;
    lua_pushstring(L, progress_modes[mode]);
    lua_setiuservalue(L, -2, 1);
    box->ptr = siam_progress_new(stderr, (siam_progress_mode)mode, NULL, NULL, &err);
    if (box->ptr == NULL)
        return siam_lua_error(L, &err);
    return 1;
}

static int progress_mode(lua_State *L)
{
    siam_lua_checkobj(L, 1, SIAM_PROGRESS_MT);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int progress_epoch_begin(lua_State *L)
{
    siam_progress *p = siam_lua_checkobj(L, 1, SIAM_PROGRESS_MT);
    lua_Integer epoch = luaL_checkinteger(L, 2);
    lua_Integer epochs = luaL_checkinteger(L, 3);
    lua_Integer batches = luaL_checkinteger(L, 4);
    luaL_argcheck(L, epoch >= 1 && epoch <= 1000000000, 2, "epoch must be >= 1");
    luaL_argcheck(L, epochs >= epoch && epochs <= 1000000000, 3, "epochs must be >= epoch");
    luaL_argcheck(L, batches >= 0, 4, "batches must be >= 0");
    siam_progress_epoch_begin(p, (int)epoch, (int)epochs, (long)batches);
    return 0;
}

static int progress_step(lua_State *L)
{
    siam_progress *p = siam_lua_checkobj(L, 1, SIAM_PROGRESS_MT);
    lua_Integer n = luaL_checkinteger(L, 2);
    lua_Number loss = luaL_checknumber(L, 3);
    luaL_argcheck(L, n >= 0, 2, "batch count must be >= 0");
    siam_progress_step(p, (long)n, loss);
    return 0;
}

static int progress_epoch_end(lua_State *L)
{
    siam_progress *p = siam_lua_checkobj(L, 1, SIAM_PROGRESS_MT);
    const char *extra = luaL_optstring(L, 2, NULL);
    siam_progress_epoch_end(p, extra);
    fflush(stderr);
    return 0;
}

static int progress_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_PROGRESS_MT);
    siam_progress_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

static const luaL_Reg progress_methods[] = {
    {"epoch_begin", progress_epoch_begin},
    {"step", progress_step},
    {"epoch_end", progress_epoch_end},
    {"mode", progress_mode},
    {"close", progress_gc},
    {NULL, NULL},
};
static const luaL_Reg progress_meta[] = {
    {"__gc", progress_gc}, {"__close", progress_gc}, {NULL, NULL},
};

/* siam.io.clock() -> monotonic seconds (for train times; os.clock is CPU
 * time, which counts every BLAS thread). */
static int io_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

/* siam.io.list(dir) -> sorted list of entry names (no "." or "..") |
 * nil, message. Lua has no directory listing; run folders and grid merges
 * need one. */
static int io_list(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (d == NULL) {
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    lua_newtable(L);
    lua_Integer n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    return 1;
}

/* siam.io.file_hash(path) -> 16 hex digits of the file's content
 * (host/hash.h) | nil, message */
static int io_file_hash(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    uint64_t h;
    siam_error err;
    if (siam_hash64_file(path, &h, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    lua_pushstring(L, hex);
    return 1;
}

/* siam.io.isatty() -> whether stdout is a terminal */
static int io_isatty(lua_State *L)
{
    lua_pushboolean(L, siam_progress_mode_for(stdout, 0) == SIAM_PROGRESS_BAR);
    return 1;
}

/* ---- shards ---- */

static void push_shard(lua_State *L, const siam_shard *s)
{
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, s->index);
    lua_setfield(L, -2, "index");
    lua_pushinteger(L, s->count);
    lua_setfield(L, -2, "count");
}

/* siam.io.shard("i/n") -> {index=i, count=n} | nil, message */
static int io_shard(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    siam_shard s;
    siam_error err;
    if (siam_shard_parse(text, &s, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    push_shard(L, &s);
    return 1;
}

/* siam.io.shard_from_env() -> shard | false (not a job array) | nil, msg */
static int io_shard_from_env(lua_State *L)
{
    siam_shard s;
    int found = 0;
    siam_error err;
    if (siam_shard_from_slurm(getenv("SLURM_ARRAY_TASK_ID"), getenv("SLURM_ARRAY_TASK_MIN"),
                              getenv("SLURM_ARRAY_TASK_STEP"), getenv("SLURM_ARRAY_TASK_COUNT"),
                              &s, &found, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    if (!found) {
        lua_pushboolean(L, 0);
        return 1;
    }
    push_shard(L, &s);
    return 1;
}

/* siam.io.shard_owns(shard, k) with k 1-based as Lua lists are. */
static int io_shard_owns(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer k = luaL_checkinteger(L, 2);
    luaL_argcheck(L, k >= 1, 2, "configuration number must be >= 1");
    lua_getfield(L, 1, "index");
    lua_getfield(L, 1, "count");
    int ok_i, ok_n;
    lua_Integer i = lua_tointegerx(L, -2, &ok_i), n = lua_tointegerx(L, -1, &ok_n);
    luaL_argcheck(L, ok_i && ok_n && n >= 1 && i >= 1 && i <= n && n <= 1000000, 1,
                  "shard must have integer index and count with 1 <= index <= count");
    siam_shard s = {(int)i, (int)n};
    lua_pushboolean(L, siam_shard_owns(&s, (size_t)(k - 1)));
    return 1;
}

/* siam.io.escape(s) -> s as a message shows it (host/escape.h) */
static int io_escape(lua_State *L)
{
    luaL_checkstring(L, 1);
    siam_lua_escaped(L, 1);
    return 1;
}

static const luaL_Reg files_functions[] = {
    {"mkdir_p", io_mkdir_p},
    {"atomic_write", io_atomic_write},
    {"linelog", linelog_open},
    {"runlog", runlog_open},
    {"progress", progress_new},
    {"shard", io_shard},
    {"shard_from_env", io_shard_from_env},
    {"shard_owns", io_shard_owns},
    {"clock", io_clock},
    {"list", io_list},
    {"isatty", io_isatty},
    {"file_hash", io_file_hash},
    {"escape", io_escape},
    {NULL, NULL},
};

void siam_lua_open_io_files(lua_State *L)
{
    siam_lua_newclass(L, SIAM_LINELOG_MT, linelog_methods, linelog_meta);
    siam_lua_newclass(L, SIAM_RUNLOG_MT, runlog_methods, runlog_meta);
    siam_lua_newclass(L, SIAM_PROGRESS_MT, progress_methods, progress_meta);
    luaL_setfuncs(L, files_functions, 0);
}

void siam_lua_open_io(lua_State *L)
{
    lua_newtable(L);
    siam_lua_open_io_files(L);
    siam_lua_open_io_plots(L);
    siam_lua_open_io_rundir(L);
    lua_setfield(L, -2, "io");
}
