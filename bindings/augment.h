/* Augmentation settings from Lua: siam.data.augment{...} returns a plain
 * table of every field of siam_augment (kernels/augment.h), and fit and
 * set:batches read such a table (or true for the paper settings). */
#ifndef SIAM_BINDINGS_AUGMENT_H
#define SIAM_BINDINGS_AUGMENT_H

#include <lua.h>

#include "kernels/augment.h"

/* Adds augment to the table on the top of the stack (siam.data). */
void siam_lua_open_augment(lua_State *L);

/* Reads the value at stack index idx into out: nil or false = off, true =
 * the paper settings, a table = the paper settings with its fields
 * overriding (enabled defaults to true). Errors are "bad argument #arg". */
void siam_lua_augment_read(lua_State *L, int arg, int idx, siam_augment *out);

/* Pushes the settings as a table. */
void siam_lua_augment_push(lua_State *L, const siam_augment *a);

#endif
