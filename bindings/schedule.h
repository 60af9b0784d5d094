/* siam.schedule.step{...}, .cosine{...} and .plateau{...}: StepLR, cosine
 * annealing and ReduceLROnPlateau as siam.Schedule userdata that fit runs
 * in C; fit also takes any Lua function(epoch, base_lr) -> lr. */
#ifndef SIAM_BINDINGS_SCHEDULE_H
#define SIAM_BINDINGS_SCHEDULE_H

#include <lua.h>

#include "host/schedule.h"

#define SIAM_SCHEDULE_MT "siam.Schedule"

/* Adds siam.schedule to the module table on the top of the stack. */
void siam_lua_open_schedule(lua_State *L);

/* The settings of the schedule at idx (base_lr 0: fit sets it), or
 * NULL when the value is not a siam.Schedule. */
const siam_schedule *siam_lua_toschedule(lua_State *L, int idx);

#endif
