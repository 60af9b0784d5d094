/* Opens the API bindings in the order they depend on each other (the
 * metatables a function checks must exist before it is called, so any
 * order works; this one follows the docs). */
#include "bindings/api.h"

#include "bindings/data.h"
#include "bindings/evaluate.h"
#include "bindings/fit.h"
#include "bindings/grid.h"
#include "bindings/model.h"
#include "bindings/optim.h"
#include "bindings/results.h"
#include "bindings/schedule.h"
#include "bindings/stop.h"

void siam_lua_open_api(lua_State *L)
{
    siam_lua_open_data(L);
    siam_lua_open_model(L);
    siam_lua_open_optim(L);
    siam_lua_open_schedule(L);
    siam_lua_open_stop(L);
    siam_lua_open_fit(L);
    siam_lua_open_evaluate(L);
    siam_lua_open_grid(L);
    siam_lua_open_results(L);
}
