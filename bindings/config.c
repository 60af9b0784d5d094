/* siam.config (bindings/config.h): the key declarations, the checked proxy
 * over the registry table, siam.config_keys, and the C readers. */
#include "bindings/config.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"

/* Registry key of the config table (the values siam.config shows). */
#define CONFIG_KEY "siam.config"

typedef enum key_kind { KEY_CHOICE, KEY_INTEGER, KEY_BOOLEAN } key_kind;

typedef struct config_key {
    const char *name;
    key_kind kind;
    const char *const *choices; /* KEY_CHOICE: NULL-terminated */
    lua_Integer min, max;       /* KEY_INTEGER */
    const char *def_string;     /* KEY_CHOICE default; NULL: unset */
    lua_Integer def_int;        /* KEY_INTEGER / KEY_BOOLEAN default */
    const char *help;
} config_key;

static const char *const device_choices[] = { "auto", "cpu", "cuda", NULL };
/* The names kernels/cpu/conv2d_select.c's siam_conv_path_parse accepts
 * (tests/lua/test_conv_config.lua builds a model with each). */
static const char *const conv_choices[] = { "auto", "direct", "fft", NULL };
/* siam_ctx_options.cudnn_find off and on (bindings/context.c). */
static const char *const cudnn_algo_choices[] = { "heuristic", "find", NULL };

/* Every key, once. Checking, defaults, siam.config_keys() and so the table
 * in docs/api.md come from here. */
static const config_key keys[] = {
    { "device", KEY_CHOICE, device_choices, 0, 0, "auto", 0,
      "the backend new models use; \"auto\" takes CUDA when the build has it and a GPU "
      "answers, else the CPU (`--device`)" },
    { "threads", KEY_INTEGER, NULL, 0, 4096, NULL, 0,
      "CPU threads of a backend when it opens, 0 = all cores (`--threads`)" },
    { "seed", KEY_INTEGER, NULL, 0, LUA_MAXINTEGER, NULL, 0,
      "default seed of models, splits, synthetic data and `fit` (`--seed`)" },
    { "quiet", KEY_BOOLEAN, NULL, 0, 0, NULL, 0,
      "no banner, progress lines or warnings (`--quiet`)" },
    { "conv", KEY_CHOICE, conv_choices, 0, 0, NULL, 0,
      "CPU convolution when a backend opens: unset or \"auto\" picks direct or Fourier per "
      "layer, \"direct\" and \"fft\" force one (docs/perf.md)" },
    { "tf32", KEY_BOOLEAN, NULL, 0, 0, NULL, 0,
      "CUDA convolutions and linear layers may use TF32 tensor cores when a backend opens "
      "(10-bit mantissas; bounds in docs/cuda.md); false keeps full FP32 (`--tf32`)" },
    { "cudnn_algo", KEY_CHOICE, cudnn_algo_choices, 0, 0, "heuristic", 0,
      "how CUDA convolutions pick cuDNN algorithms when a backend opens: cuDNN's heuristics, "
      "or \"find\", one measured search per layer shape (docs/cuda.md)" },
};
enum { NKEYS = sizeof keys / sizeof keys[0] };

static const config_key *find_key(const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* What a value of k must be, as in "siam.config.threads must be <rule>". */
static void push_rule(lua_State *L, const config_key *k)
{
    if (k->kind == KEY_BOOLEAN) {
        lua_pushliteral(L, "a boolean");
    } else if (k->kind == KEY_INTEGER) {
        if (k->max == LUA_MAXINTEGER)
            lua_pushfstring(L, "an integer >= %I", k->min);
        else
            lua_pushfstring(L, "an integer in [%I, %I]", k->min, k->max);
    } else {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; k->choices[i]; i++) {
            if (i > 0)
                luaL_addstring(&b, k->choices[i + 1] ? ", " : " or ");
            lua_pushfstring(L, "\"%s\"", k->choices[i]);
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
    }
}

/* The default as it reads in Lua ("\"auto\"", "0", "false"), or "unset". */
static void push_default_text(lua_State *L, const config_key *k)
{
    if (k->kind == KEY_BOOLEAN)
        lua_pushstring(L, k->def_int ? "true" : "false");
    else if (k->kind == KEY_INTEGER)
        lua_pushfstring(L, "%I", k->def_int);
    else if (k->def_string)
        lua_pushfstring(L, "\"%s\"", k->def_string);
    else
        lua_pushliteral(L, "unset");
}

static void push_default(lua_State *L, const config_key *k)
{
    if (k->kind == KEY_BOOLEAN)
        lua_pushboolean(L, (int)k->def_int);
    else if (k->kind == KEY_INTEGER)
        lua_pushinteger(L, k->def_int);
    else if (k->def_string)
        lua_pushstring(L, k->def_string);
    else
        lua_pushnil(L);
}

/* Raises "siam.config.<key> must be <rule>, got <value>". */
static int bad_value(lua_State *L, const config_key *k, int idx)
{
    idx = lua_absindex(L, idx);
    push_rule(L, k);
    const char *rule = lua_tostring(L, -1);
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING)
        return luaL_error(L, "siam.config.%s must be %s, got \"%s\"", k->name, rule,
                          lua_tostring(L, idx));
    if (t == LUA_TNUMBER || t == LUA_TBOOLEAN)
        return luaL_error(L, "siam.config.%s must be %s, got %s", k->name, rule,
                          luaL_tolstring(L, idx, NULL));
    return luaL_error(L, "siam.config.%s must be %s, got a %s", k->name, rule,
                      luaL_typename(L, idx));
}

/* Pushes the value at idx as k stores it (an integral float becomes an
 * integer), or raises. nil gives the default. */
static void push_checked(lua_State *L, const config_key *k, int idx)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNIL) {
        push_default(L, k);
    } else if (k->kind == KEY_BOOLEAN) {
        if (t != LUA_TBOOLEAN)
            bad_value(L, k, idx);
        lua_pushvalue(L, idx);
    } else if (k->kind == KEY_INTEGER) {
        int isint = 0;
        lua_Integer v = lua_tointegerx(L, idx, &isint);
        if (t != LUA_TNUMBER || !isint || v < k->min || v > k->max)
            bad_value(L, k, idx);
        lua_pushinteger(L, v);
    } else {
        int ok = 0;
        for (int i = 0; t == LUA_TSTRING && k->choices[i] && !ok; i++)
            ok = strcmp(lua_tostring(L, idx), k->choices[i]) == 0;
        if (!ok)
            bad_value(L, k, idx);
        lua_pushvalue(L, idx);
    }
}

/* The declared key named by the value at idx, or an error naming the
 * nearest one (the option checker's suggestion). */
static const config_key *check_key(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        luaL_error(L, "siam.config: keys are names (strings), got a %s", luaL_typename(L, idx));
    const char *name = lua_tostring(L, idx);
    const config_key *k = find_key(name);
    if (k == NULL) {
        const char *names[NKEYS + 1];
        for (int i = 0; i < NKEYS; i++)
            names[i] = keys[i].name;
        names[NKEYS] = NULL;
        const char *guess = siam_lua_nearest_name(name, names);
        const char *shown = siam_lua_escaped(L, idx);
        if (guess)
            luaL_error(L, "siam.config: unknown key '%s'; did you mean '%s'?", shown, guess);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; i < NKEYS; i++) {
            luaL_addstring(&b, i ? ", " : "");
            luaL_addstring(&b, names[i]);
        }
        luaL_pushresult(&b);
        luaL_error(L, "siam.config: unknown key '%s' (the keys: %s)", shown, lua_tostring(L, -1));
    }
    return k;
}

/* Pushes the registry table, creating it with the defaults when missing. */
static void push_store(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, CONFIG_KEY) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, 0, NKEYS);
    for (int i = 0; i < NKEYS; i++) {
        push_default(L, &keys[i]);
        lua_setfield(L, -2, keys[i].name);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, CONFIG_KEY);
}

static int config_index(lua_State *L)
{
    const config_key *k = check_key(L, 2);
    push_store(L);
    lua_getfield(L, -1, k->name);
    return 1;
}

static int config_newindex(lua_State *L)
{
    const config_key *k = check_key(L, 2);
    push_store(L);
    push_checked(L, k, 3);
    lua_setfield(L, -2, k->name);
    return 0;
}

/* pairs(siam.config): the keys that have a value. */
static int config_pairs(lua_State *L)
{
    lua_getglobal(L, "next");
    if (lua_type(L, -1) != LUA_TFUNCTION)
        return luaL_error(L, "pairs(siam.config): the global 'next' is missing");
    push_store(L);
    lua_pushnil(L);
    return 3;
}

/* siam.config_keys() -> {{name=, rule=, default=, help=}, ...} in
 * declaration order. */
static int config_keys(lua_State *L)
{
    lua_createtable(L, NKEYS, 0);
    for (int i = 0; i < NKEYS; i++) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, keys[i].name);
        lua_setfield(L, -2, "name");
        push_rule(L, &keys[i]);
        lua_setfield(L, -2, "rule");
        push_default_text(L, &keys[i]);
        lua_setfield(L, -2, "default");
        lua_pushstring(L, keys[i].help);
        lua_setfield(L, -2, "help");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

void siam_lua_config_default(siam_lua_config *cfg)
{
    cfg->device = find_key("device")->def_string;
    cfg->threads = (int)find_key("threads")->def_int;
    cfg->seed = find_key("seed")->def_int;
    cfg->quiet = (int)find_key("quiet")->def_int;
    cfg->tf32 = (int)find_key("tf32")->def_int;
}

void siam_lua_config_store(lua_State *L, const siam_lua_config *cfg)
{
    siam_lua_config def;
    if (cfg == NULL) {
        siam_lua_config_default(&def);
        cfg = &def;
    }
    push_store(L);
    lua_pushstring(L, cfg->device);
    lua_setfield(L, -2, "device");
    lua_pushinteger(L, cfg->threads);
    lua_setfield(L, -2, "threads");
    lua_pushinteger(L, (lua_Integer)cfg->seed);
    lua_setfield(L, -2, "seed");
    lua_pushboolean(L, cfg->quiet);
    lua_setfield(L, -2, "quiet");
    lua_pushboolean(L, cfg->tf32);
    lua_setfield(L, -2, "tf32");
    lua_pop(L, 1);
}

void siam_lua_open_config(lua_State *L)
{
    static const luaL_Reg meta[] = { { "__index", config_index },
                                     { "__newindex", config_newindex },
                                     { "__pairs", config_pairs },
                                     { NULL, NULL } };
    push_store(L);
    lua_pop(L, 1);
    lua_newtable(L); /* the proxy stays empty, so every assignment is seen */
    lua_createtable(L, 0, 4);
    luaL_setfuncs(L, meta, 0);
    lua_pushliteral(L, "siam.config");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "config");
    lua_pushcfunction(L, config_keys);
    lua_setfield(L, -2, "config_keys");
}

/* Pushes siam.config[key] (nil when the table is missing) and returns its
 * type. */
static int push_config_field(lua_State *L, const char *key)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, CONFIG_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return LUA_TNIL;
    }
    int type = lua_getfield(L, -1, key);
    lua_remove(L, -2);
    return type;
}

void siam_lua_config_string(lua_State *L, const char *key, const char *def, char *buf,
                            size_t cap)
{
    const char *v = def;
    if (push_config_field(L, key) == LUA_TSTRING)
        v = lua_tostring(L, -1);
    snprintf(buf, cap, "%s", v);
    lua_pop(L, 1);
}

void siam_lua_config_device(lua_State *L, char *buf, size_t cap)
{
    siam_lua_config_string(L, "device", "auto", buf, cap);
}

lua_Integer siam_lua_config_integer(lua_State *L, const char *key, lua_Integer def)
{
    lua_Integer v = def;
    if (push_config_field(L, key) == LUA_TNUMBER && lua_isinteger(L, -1))
        v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

int siam_lua_config_boolean(lua_State *L, const char *key)
{
    push_config_field(L, key);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

int siam_lua_config_quiet(lua_State *L)
{
    return siam_lua_config_boolean(L, "quiet");
}

uint64_t siam_lua_config_seed(lua_State *L)
{
    lua_Integer seed = siam_lua_config_integer(L, "seed", 0);
    return seed < 0 ? 0 : (uint64_t)seed;
}

uint64_t siam_lua_opt_seed(lua_State *L, int arg, const char *key)
{
    lua_Integer def = (lua_Integer)siam_lua_config_seed(L);
    return (uint64_t)siam_lua_opt_integer(L, arg, key, def, 0, LUA_MAXINTEGER);
}
