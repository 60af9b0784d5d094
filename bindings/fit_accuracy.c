/* fit's accuracy options (bindings/fit_accuracy.h). */
#include "bindings/fit_accuracy.h"

#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"
#include "host/weight_avg.h"

/* The nested table's keys are checked like the options themselves; an
 * error names the outer option, e.g. "option 'average': unknown key 'decy'". */
static void check_keys(lua_State *L, int arg, int idx, const char *opt,
                       const char *const known[])
{
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        int found = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; known[i] != NULL && !found; i++)
                found = strcmp(lua_tostring(L, -1), known[i]) == 0;
        if (!found)
            siam_lua_argerrorf(L, arg, "option '%s': unknown key '%s'", opt,
                               lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                              : luaL_typename(L, -1));
    }
}

/* t[key] of the table at idx as a number; def when absent. */
static double field_number(lua_State *L, int arg, int idx, const char *opt, const char *key,
                           double def, int integer)
{
    int type = lua_getfield(L, idx, key);
    double v = def;
    if (type != LUA_TNIL) {
        if (type != LUA_TNUMBER || (integer && !lua_isinteger(L, -1)))
            siam_lua_argerrorf(L, arg, "option '%s': '%s' must be %s, got %s", opt, key,
                               integer ? "an integer" : "a number",
                               type == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* average = {kind = "ema"|"swa", decay = 0.999, start = 1} (start: the
 * first epoch, 1-based, whose weights count). */
static void read_average(lua_State *L, int arg, int idx, siam_train_config *tc)
{
    static const char *const keys[] = { "kind", "decay", "start", NULL };
    static const char *const opt = "average";
    check_keys(L, arg, idx, opt, keys);
    if (lua_getfield(L, idx, "kind") != LUA_TSTRING)
        siam_lua_argerrorf(L, arg, "option 'average': 'kind' must be \"ema\" or \"swa\", got %s",
                           luaL_typename(L, -1));
    const char *kind = lua_tostring(L, -1);
    if (strcmp(kind, "ema") == 0)
        tc->wavg.kind = SIAM_WAVG_EMA;
    else if (strcmp(kind, "swa") == 0)
        tc->wavg.kind = SIAM_WAVG_SWA;
    else
        siam_lua_argerrorf(L, arg, "option 'average': 'kind' must be \"ema\" or \"swa\", "
                                   "got '%s'", kind);
    lua_pop(L, 1);
    int has_decay = lua_getfield(L, idx, "decay") != LUA_TNIL;
    lua_pop(L, 1);
    if (tc->wavg.kind == SIAM_WAVG_SWA && has_decay)
        siam_lua_argerrorf(L, arg, "option 'average': 'decay' is for kind \"ema\" only");
    double decay = field_number(L, arg, idx, opt, "decay", tc->wavg.decay, 0);
    if (!(decay >= 0.0 && decay < 1.0))
        siam_lua_argerrorf(L, arg, "option 'average': 'decay' must be in [0, 1), got %f", decay);
    tc->wavg.decay = decay;
    double start = field_number(L, arg, idx, opt, "start", 1, 1);
    if (start < 1 || start > 1000000)
        siam_lua_argerrorf(L, arg, "option 'average': 'start' must be an epoch >= 1, got %d",
                           (int)start);
    tc->wavg.start_epoch = (int)start - 1;
}

/* sample_pairs = {per_epoch = N, keep_base = true, exclude = "people"|"images"} */
static void read_sampling(lua_State *L, int arg, int idx, uint64_t seed, siam_lua_sampling *s)
{
    static const char *const keys[] = { "per_epoch", "keep_base", "exclude", NULL };
    static const char *const opt = "sample_pairs";
    check_keys(L, arg, idx, opt, keys);
    siam_pair_sampler_config_default(&s->cfg);
    s->use = 1;
    s->cfg.seed = seed;
    if (lua_getfield(L, idx, "per_epoch") == LUA_TNIL)
        siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'per_epoch' is required");
    lua_pop(L, 1);
    double n = field_number(L, arg, idx, opt, "per_epoch", 0, 1);
    if (n < 1 || n > 100000000)
        siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'per_epoch' must be in [1, 100000000], "
                                   "got %d", (int)n);
    s->cfg.extra_pairs = (size_t)n;
    int type = lua_getfield(L, idx, "keep_base");
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'keep_base' must be a boolean, got %s",
                           luaL_typename(L, -1));
    if (type == LUA_TBOOLEAN)
        s->cfg.keep_base = lua_toboolean(L, -1);
    lua_pop(L, 1);
    type = lua_getfield(L, idx, "exclude");
    if (type != LUA_TNIL) {
        const char *ex = type == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (ex != NULL && strcmp(ex, "people") == 0)
            s->cfg.exclude = SIAM_EXCLUDE_PEOPLE;
        else if (ex != NULL && strcmp(ex, "images") == 0)
            s->cfg.exclude = SIAM_EXCLUDE_IMAGES;
        else
            siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'exclude' must be \"people\" or "
                                       "\"images\", got %s",
                               ex ? lua_pushfstring(L, "'%s'", ex) : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
}

void siam_lua_fit_accuracy_read(lua_State *L, int arg, double def_threshold, int has_val,
                                siam_train_config *tc, siam_lua_sampling *s)
{
    memset(s, 0, sizeof *s);
    int type = lua_getfield(L, arg, "threshold");
    if (type == LUA_TSTRING && strcmp(lua_tostring(L, -1), "val") == 0) {
        if (!has_val)
            siam_lua_argerrorf(L, arg, "option 'threshold' is \"val\" but no 'val' set was given");
        tc->threshold_from_val = 1;
        tc->threshold = (float)def_threshold;
    } else if (type == LUA_TNIL || type == LUA_TNUMBER) {
        double thr = type == LUA_TNIL ? def_threshold : lua_tonumber(L, -1);
        if (!(thr >= 0.0 && thr <= 1.0))
            siam_lua_argerrorf(L, arg, "option 'threshold' must be in [0, 1], got %f", thr);
        tc->threshold = (float)thr;
    } else {
        siam_lua_argerrorf(L, arg, "option 'threshold' must be a number in [0, 1] or \"val\", "
                                   "got %s",
                           type == LUA_TSTRING ? lua_pushfstring(L, "'%s'", lua_tostring(L, -1))
                                               : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (lua_getfield(L, arg, "average") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            siam_lua_argerrorf(L, arg, "option 'average' must be a table, got %s",
                               luaL_typename(L, -1));
        read_average(L, arg, lua_gettop(L), tc);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, arg, "sample_pairs") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            siam_lua_argerrorf(L, arg, "option 'sample_pairs' must be a table, got %s",
                               luaL_typename(L, -1));
        read_sampling(L, arg, lua_gettop(L), tc->seed, s);
    }
    lua_pop(L, 1);
}
