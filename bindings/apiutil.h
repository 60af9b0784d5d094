/* Small helpers shared by the siam API bindings (data, model, fit, ...):
 * reading siam.config, and pushing C strings and arrays as Lua values. The
 * options-table readers and userdata boxes are in bindings/util.h. */
#ifndef SIAM_BINDINGS_APIUTIL_H
#define SIAM_BINDINGS_APIUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* siam.config fields as the script last set them (the live table in the
 * registry, which is also siam.config): a missing or mistyped field gives
 * the default. */
/* Copies siam.config[key] (def when unset) into buf; device's default is
 * "auto". */
void siam_lua_config_string(lua_State *L, const char *key, const char *def, char *buf,
                            size_t cap);
void siam_lua_config_device(lua_State *L, char *buf, size_t cap);
lua_Integer siam_lua_config_integer(lua_State *L, const char *key, lua_Integer def);
/* Whether siam.config[key] is true (false when unset). */
int siam_lua_config_boolean(lua_State *L, const char *key);
int siam_lua_config_quiet(lua_State *L);

/* The seed option at arg (an integer >= 0), else siam.config.seed. */
uint64_t siam_lua_opt_seed(lua_State *L, int arg, const char *key);

/* Sets t[key] = value on the table at the top of the stack. */
void siam_lua_setnumber(lua_State *L, const char *key, lua_Number v);
void siam_lua_setinteger(lua_State *L, const char *key, lua_Integer v);
void siam_lua_setstring(lua_State *L, const char *key, const char *v);
void siam_lua_setboolean(lua_State *L, const char *key, int v);

/* Pushes an array table of n doubles. */
void siam_lua_pushdoubles(lua_State *L, const double *v, size_t n);

/* Raises "bad argument #arg to 'fname' (msg)" with a formatted message. */
int siam_lua_argerrorf(lua_State *L, int arg, const char *fmt, ...);

#endif
