/* siam.config: the settings the long options give and scripts may change
 * (device, threads, seed, quiet, conv, tf32, cudnn_algo), and the only
 * readers of them in C. Each key is declared once in bindings/config.c
 * (name, type, rule, default, help); assignments are checked against the
 * declaration when they are made, and siam.config_keys() gives the
 * declarations to Lua (the docs table is tested against it). The values
 * live in a plain table in the registry, which the readers below use;
 * siam.config is a proxy over it. A leaf of the bindings: it includes no
 * other bindings header. */
#ifndef SIAM_BINDINGS_CONFIG_H
#define SIAM_BINDINGS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* What siamlua's long options set (--device, --threads, --seed, --quiet,
 * --tf32). Seen from Lua as siam.config; later bindings read it when they
 * run, so a script may change it before building a model. */
typedef struct siam_lua_config {
    const char *device; /* "cpu", "cuda" or "auto"; the string is not copied */
    int threads;        /* CPU threads, 0 = all cores */
    long long seed;     /* default seed for models and data, >= 0 */
    int quiet;          /* non-zero: no banner, no progress output */
    int tf32;           /* non-zero: CUDA may use TF32 tensor cores */
} siam_lua_config;

/* The declared defaults: device "auto", threads 0, seed 0, quiet off, tf32
 * off. */
void siam_lua_config_default(siam_lua_config *cfg);

/* Makes the registry table hold cfg's values (NULL: the declared
 * defaults). */
void siam_lua_config_store(lua_State *L, const siam_lua_config *cfg);

/* Sets siam.config (the proxy, over the registry table, which is created
 * with the defaults when missing) and siam.config_keys on the module table
 * at the top of the stack. */
void siam_lua_open_config(lua_State *L);

/* siam.config fields as the script last set them (the live table in the
 * registry): a missing or mistyped field gives the default. */
/* Copies siam.config[key] (def when unset) into buf. */
void siam_lua_config_string(lua_State *L, const char *key, const char *def, char *buf,
                            size_t cap);
/* siam.config.device ("auto" when unset). */
void siam_lua_config_device(lua_State *L, char *buf, size_t cap);
lua_Integer siam_lua_config_integer(lua_State *L, const char *key, lua_Integer def);
/* Whether siam.config[key] is true (false when unset). */
int siam_lua_config_boolean(lua_State *L, const char *key);
int siam_lua_config_quiet(lua_State *L);
/* siam.config.seed, the default seed of every binding (0 when unset). */
uint64_t siam_lua_config_seed(lua_State *L);

/* The seed option at arg (an integer >= 0), else siam.config.seed. */
uint64_t siam_lua_opt_seed(lua_State *L, int arg, const char *key);

#endif
