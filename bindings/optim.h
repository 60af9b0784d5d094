/* The siam.Optimizer userdata: Adam, AdamW or SGD settings, bound on first
 * use to one model (its moments live on that model's backend). */
#ifndef SIAM_BINDINGS_OPTIM_H
#define SIAM_BINDINGS_OPTIM_H

#include <lua.h>

#include "bindings/model.h"
#include "host/optim.h"

#define SIAM_OPTIM_MT "siam.Optimizer"

typedef struct siam_lua_optim {
    siam_optim_config cfg;
    siam_optim *o;    /* NULL until bound */
    siam_backend *be; /* the bound model's backend (one reference) */
    int busy;         /* fit is using it: close is refused */
} siam_lua_optim;

/* Adds siam.optim (adam, adamw, sgd) to the module table on the top of the
 * stack and creates the metatable. */
void siam_lua_open_optim(lua_State *L);

siam_lua_optim *siam_lua_checkoptim(lua_State *L, int arg);

/* Binds the optimizer to the model (allocating its moments) unless it is
 * already bound to it; an optimizer bound to another model is an error
 * raised as "bad argument #arg". Returns the C optimizer. */
siam_optim *siam_lua_optim_bind(lua_State *L, int arg, siam_lua_optim *lo, siam_lua_model *lm);

#endif
