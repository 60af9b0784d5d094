/* siam.fit(model, optimizer, train, opts): the training loop of
 * host/train.h driven from Lua, with torchnet-style hooks receiving a state
 * table, a schedule and a stopping rule given as C settings or Lua
 * functions, and Ctrl-C ending training after the current batch. */
#ifndef SIAM_BINDINGS_FIT_H
#define SIAM_BINDINGS_FIT_H

#include <lua.h>

/* Adds fit to the module table on the top of the stack. */
void siam_lua_open_fit(lua_State *L);

#endif
