/* The `siam` Lua module: its version, the configuration the command line
 * gave it, and the one call that makes it available in a Lua state. Each
 * userdata type lives in its own bindings/<type>.c (header <type>.h) and
 * registers itself through its siam_lua_open_<type> function, which siam.c
 * calls in luaopen_siam. */
#ifndef SIAM_BINDINGS_SIAM_H
#define SIAM_BINDINGS_SIAM_H

#include <lua.h>

#define SIAM_VERSION "0.1.0"

/* Registry key of the config table; siam.config is a checked proxy over it
 * (bindings/config.h). */
#define SIAM_CONFIG_KEY "siam.config"

/* What siamlua's long options set (--device, --threads, --seed, --quiet).
 * Seen from Lua as siam.config; later bindings read it when they run, so a
 * script may change it before building a model. */
typedef struct siam_lua_config {
    const char *device; /* "cpu", "cuda" or "auto"; the string is not copied */
    int threads;        /* CPU threads, 0 = all cores */
    long long seed;     /* default seed for models and data, >= 0 */
    int quiet;          /* non-zero: no banner, no progress output */
    int tf32;           /* non-zero: CUDA may use TF32 tensor cores */
} siam_lua_config;

/* The declared defaults (bindings/config.c): device "auto", threads 0,
 * seed 0, quiet off, tf32 off. */
void siam_lua_config_default(siam_lua_config *cfg);

/* Opens the siam module in L: stores cfg (NULL: the defaults) as the config
 * table, registers luaopen_siam in package.preload, requires siam and sets
 * the global `siam`. Call after luaL_openlibs. Raises a Lua error on failure
 * (out of memory), so call it in protected mode. */
void siam_lua_openlibs(lua_State *L, const siam_lua_config *cfg);

/* The module loader: what `require "siam"` runs, in siamlua and in any Lua 5.4
 * (siam.so exports it; docs/embedding.md). Registers the embedded Lua modules
 * (siam.NAME) in package.preload and returns the module table; siam.config is
 * what siam_lua_openlibs stored, else the defaults. */
int luaopen_siam(lua_State *L);

#endif
