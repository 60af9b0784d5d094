/* The table of everything siam.fit resolved: each option as given or with
 * its default filled in (h.config, state.config). A run folder records it
 * in config.lua, so that the folder says exactly how it was trained. */
#ifndef SIAM_BINDINGS_FIT_CONFIG_H
#define SIAM_BINDINGS_FIT_CONFIG_H

#include <lua.h>

#include "bindings/fit_options.h"
#include "host/train.h"

/* What fit knows beyond the trainer's configuration. */
typedef struct siam_lua_fit_extra {
    const siam_lua_sampling *sampling;
    int lua_schedule;           /* a Lua function sets the lr */
    int lua_stop;               /* a Lua function decides the stop */
    int has_val;
    const char *checkpoint;     /* NULL: none */
    const char *resume;         /* NULL: none */
    const siam_lua_identity *identity; /* the triplet objectives' sampler */
} siam_lua_fit_extra;

/* Pushes the table. */
void siam_lua_push_fit_config(lua_State *L, const siam_train_config *tc,
                              const siam_lua_fit_extra *x);

#endif
