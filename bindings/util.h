/* Helpers shared by every binding: boxed userdata with named metatables,
 * siam_error to Lua error, readers for options tables that reject unknown
 * keys, and pushing C values into Lua tables. Only bindings/ includes this (it speaks Lua). */
#ifndef SIAM_BINDINGS_UTIL_H
#define SIAM_BINDINGS_UTIL_H

#include <stddef.h>

#include <lauxlib.h>
#include <lua.h>

#include "kernels/error.h"

/* Every siam userdata is a box holding one pointer to a C object that the
 * box owns. A new box holds NULL, so a Lua error between creating the box and
 * acquiring the object leaks nothing; __gc/__close free the object and set
 * the pointer back to NULL, so closing twice is harmless. */
typedef struct siam_lua_box {
    void *ptr;
} siam_lua_box;

/* Creates the metatable `tname` (e.g. "siam.Tensor"): methods go into a
 * table used as __index, then the metamethods (__gc, __close, __tostring,
 * ...) are set, each with that methods table as upvalue 1, so that a custom
 * __index can fall back to it. Leaves the stack as it was. */
void siam_lua_newclass(lua_State *L, const char *tname, const luaL_Reg *methods,
                       const luaL_Reg *metamethods);

/* Pushes a new empty box with the metatable `tname` and returns it. The box
 * has one user value: its owner (see siam_lua_setowner). */
siam_lua_box *siam_lua_newbox(lua_State *L, const char *tname);

/* Makes the box at `box` keep the value at `owner` alive: the context its
 * memory belongs to, or the model a parameter view points into. */
void siam_lua_setowner(lua_State *L, int box, int owner);

/* The box at arg if it is a `tname` userdata, else a "bad argument" error
 * ("siam.Tensor expected, got number"). */
siam_lua_box *siam_lua_checkbox(lua_State *L, int arg, const char *tname);

/* The object in the box at arg; a "bad argument ... (siam.Tensor is closed)"
 * error when it has been closed. */
void *siam_lua_checkobj(lua_State *L, int arg, const char *tname);

/* Raises err->msg as a Lua error (with the position of the calling Lua
 * code). Never returns. */
int siam_lua_error(lua_State *L, const siam_error *err);

/* Pushes the string at idx as a message shows it (host/escape.h: control
 * bytes, invisible characters and malformed UTF-8 as \xNN) and returns it;
 * it stays valid while it is on the stack. For every message that quotes
 * a key or a word the user gave. */
const char *siam_lua_escaped(lua_State *L, int idx);

/* Options tables, e.g. fit(model, opt, set, {epochs = 25, batch = 32}).
 * siam_lua_opts_check validates the table at arg: none or nil means "all
 * defaults" (returns 0); anything but a table is a type error; a key not in
 * `known` (NULL-terminated) is an error naming it and, when one is close, the
 * option it probably meant:
 *   bad argument #4 to 'fit' (unknown option 'epoch'; did you mean 'epochs'?)
 * Returns 1 when there is a table to read. */
int siam_lua_opts_check(lua_State *L, int arg, const char *const known[]);

/* Field readers over the options table at arg (which may be none or nil:
 * then the default is returned). A value of the wrong type is an error:
 *   bad argument #4 to 'fit' (option 'epochs' must be an integer, got string) */
lua_Integer siam_lua_opt_integer(lua_State *L, int arg, const char *key, lua_Integer def,
                                 lua_Integer min, lua_Integer max);
lua_Number siam_lua_opt_number(lua_State *L, int arg, const char *key, lua_Number def);
int siam_lua_opt_boolean(lua_State *L, int arg, const char *key, int def);
/* The string stays valid while the options table is on the stack. */
const char *siam_lua_opt_string(lua_State *L, int arg, const char *key, const char *def);
/* One of `choices` (NULL-terminated); returns its index. def is an index. */
int siam_lua_opt_choice(lua_State *L, int arg, const char *key, int def,
                        const char *const choices[]);

/* Edit distance (Levenshtein) between two short strings, capped: strings
 * longer than 63 bytes compare as far apart. Used for "did you mean". */
int siam_lua_edit_distance(const char *a, const char *b);

/* The name in `known` (NULL-terminated) nearest to key, or NULL when none is
 * close enough to be a plausible typo (at most 2 edits, and fewer than half
 * the key): the suggestion of siam_lua_opts_check's "did you mean". */
const char *siam_lua_nearest_name(const char *key, const char *const known[]);

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
