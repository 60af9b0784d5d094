/* set:batches{...}: iteration over a pair set in mini-batches of host
 * tensors, for inspecting what the trainer feeds the model (the trainer
 * itself assembles batches on the device). */
#ifndef SIAM_BINDINGS_BATCHES_H
#define SIAM_BINDINGS_BATCHES_H

#include <lua.h>

/* The method set:batches{size=, shuffle=, seed=, drop_last=, augment=}:
 * returns an iterator for a generic for that yields a, b (B x 1 x H x W
 * tensors, pixel/255 with the loader's normalisation) and label (B). */
int siam_lua_set_batches(lua_State *L);

/* Creates the iterator state's metatable. */
void siam_lua_open_batches(lua_State *L);

#endif
