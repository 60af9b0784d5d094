/* set:batches{...}, the PairSet method that iterates over a pair set in
 * mini-batches of host tensors, for inspecting what the trainer feeds the
 * model: the trainer's order (host/epoch_order.h) and the CPU backend's
 * batch assembly. Registered by bindings/pairset.c. */
#ifndef SIAM_BINDINGS_PAIRSET_BATCHES_H
#define SIAM_BINDINGS_PAIRSET_BATCHES_H

#include <lua.h>

#include "host/dataset.h"

/* The method set:batches{size=, shuffle=, seed=, drop_last=, augment=} on
 * ps, the open pair set at argument 1: returns an iterator for a generic
 * for that yields a, b (B x 1 x H x W tensors, pixel/255 with the loader's
 * normalisation) and label (B). */
int siam_lua_pairset_batches(lua_State *L, const siam_pairset *ps);

/* Creates the iterator state's metatable. */
void siam_lua_open_pairset_batches(lua_State *L);

#endif
