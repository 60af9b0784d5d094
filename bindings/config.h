/* siam.config: the settings the long options give and scripts may change
 * (device, threads, seed, quiet, conv, tf32, cudnn_algo). Each key is declared once in
 * bindings/config.c (name, type, rule, default, help); assignments are
 * checked against the declaration when they are made, and
 * siam.config_keys() gives the declarations to Lua (the docs table is
 * tested against it). The values live in a plain table in the registry
 * (SIAM_CONFIG_KEY), which the C readers of bindings/apiutil.h use;
 * siam.config is a proxy over it. */
#ifndef SIAM_BINDINGS_CONFIG_H
#define SIAM_BINDINGS_CONFIG_H

#include <lua.h>

#include "bindings/siam.h"

/* Makes the registry table hold cfg's values (NULL: the declared
 * defaults). */
void siam_lua_config_store(lua_State *L, const siam_lua_config *cfg);

/* Sets siam.config (the proxy, over the registry table, which is created
 * with the defaults when missing) and siam.config_keys on the module table
 * at the top of the stack. */
void siam_lua_open_config(lua_State *L);

#endif
