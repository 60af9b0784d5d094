/* siam.fit's options, every one read and checked here (docs/api.md):
 * epochs, batch_size, seed, drop_last, checkpoint, resume, verbose, the
 * hooks, augment, val, schedule, stop, and the accuracy options beyond the
 * seed's loop (docs/training.md): weight averaging (`average`), more
 * training pairs drawn each epoch (`sample_pairs`) and the decision
 * threshold (`threshold`), and training on identities (`objective`,
 * `triplet`). bindings/fit.c runs the loop and its hooks. */
#ifndef SIAM_BINDINGS_FIT_OPTIONS_H
#define SIAM_BINDINGS_FIT_OPTIONS_H

#include <lua.h>

#include "bindings/model.h"
#include "bindings/optim.h"
#include "host/identity_sampler.h"
#include "host/pair_sampler.h"
#include "host/train.h"

/* What `sample_pairs` asked for; use is 0 when the option is absent. */
typedef struct siam_lua_sampling {
    int use;
    siam_pair_sampler_config cfg;
} siam_lua_sampling;

/* What `objective` and `triplet` asked for: the identity sampler's
 * configuration, its batch count left 0 for fit to default (the pair
 * epoch's batches) when `batches` is absent. use is 0 for "pair". */
typedef struct siam_lua_identity {
    int use;
    siam_identity_sampler_config cfg;
} siam_lua_identity;

/* fit's hooks, in the order of its events; siam_lua_fit_hook_names holds
 * their option names (NULL-terminated). */
enum {
    SIAM_FIT_ON_START, SIAM_FIT_ON_EPOCH_START, SIAM_FIT_ON_BATCH_END, SIAM_FIT_ON_EPOCH_END,
    SIAM_FIT_ON_END, SIAM_FIT_NHOOKS
};
extern const char *const siam_lua_fit_hook_names[];

/* What the options give beyond the trainer's configuration. Stack indices
 * are 0 when absent; the values stay on the stack (and val and the strings
 * are kept alive by the options table). */
typedef struct siam_lua_fit_options {
    int hook_idx[SIAM_FIT_NHOOKS]; /* stack index of each hook */
    int schedule_fn;               /* stack index of a Lua schedule */
    int stop_fn;                   /* stack index of a Lua stopping rule */
    double base_lr;                /* the optimizer's lr, which a schedule scales */
    int verbose;
    const siam_pairset *val;       /* NULL: none */
    const char *checkpoint;        /* NULL: none */
    const char *resume;            /* NULL: none */
    siam_lua_sampling sampling;
    siam_lua_identity identity;
} siam_lua_fit_options;

/* Reads the options table at arg (possibly empty) into tc (from the
 * trainer's defaults) and o, for model lm and optimizer lo. Pushes the hooks
 * and Lua schedule or stopping rule it finds. Raises a Lua argument error
 * naming the option at fault. */
void siam_lua_fit_options_read(lua_State *L, int arg, siam_lua_model *lm, siam_lua_optim *lo,
                               siam_train_config *tc, siam_lua_fit_options *o);

#endif
