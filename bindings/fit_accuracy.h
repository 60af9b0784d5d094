/* fit's options for accuracy beyond the seed's loop (docs/training.md):
 * weight averaging (`average`), more training pairs drawn each epoch
 * (`sample_pairs`) and the decision threshold (`threshold`, a number or
 * "val": chosen on the validation set). Kept apart from bindings/fit.c,
 * which runs the loop and its hooks. */
#ifndef SIAM_BINDINGS_FIT_ACCURACY_H
#define SIAM_BINDINGS_FIT_ACCURACY_H

#include <lua.h>

#include "host/pair_sampler.h"
#include "host/train.h"

/* What `sample_pairs` asked for; use is 0 when the option is absent. */
typedef struct siam_lua_sampling {
    int use;
    siam_pair_sampler_config cfg;
} siam_lua_sampling;

/* Reads `average`, `sample_pairs` and `threshold` from the options table at
 * arg into tc (tc->wavg, tc->threshold, tc->threshold_from_val) and s.
 * def_threshold is the model's threshold; has_val says whether a 'val' set
 * was given (threshold = "val" needs one). Raises a Lua argument error
 * naming the option at fault. */
void siam_lua_fit_accuracy_read(lua_State *L, int arg, double def_threshold, int has_val,
                                siam_train_config *tc, siam_lua_sampling *s);

#endif
