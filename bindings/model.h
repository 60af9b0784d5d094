/* The siam.Model userdata: a Siamese network (host/model.h) on a backend,
 * with the decision threshold it is used at, and the functions siam.model
 * and siam.load. */
#ifndef SIAM_BINDINGS_MODEL_H
#define SIAM_BINDINGS_MODEL_H

#include <lua.h>

#include "host/backend.h"
#include "host/dataset.h"
#include "host/model.h"
#include "host/train.h"

#define SIAM_MODEL_MT "siam.Model"

/* What the box of a siam.Model holds. The model owns one reference to the
 * backend; optimizers bound to it hold their own. */
typedef struct siam_lua_model {
    siam_backend *be;
    siam_model *m;
    siam_model_config cfg;
    siam_init_kind init;
    uint64_t seed;
    double threshold; /* a pair is a match when p >= threshold */
    int crop;         /* the crop of the images it was trained on (set by fit, kept in
                       * the checkpoint); -1: not known (never trained here) */
    siam_tta tta;     /* test-time augmentation of evaluate and forward (kept in the
                       * checkpoint) */
    int busy;         /* fit is training it: close and rebuild are refused */
} siam_lua_model;

/* Adds model and load to the module table on the top of the stack and
 * creates the metatable. */
void siam_lua_open_model(lua_State *L);

siam_lua_model *siam_lua_checkmodel(lua_State *L, int arg);

/* Makes sure the model takes batches of `batch` pairs, rebuilding the C
 * model with larger buffers (parameters, statistics, mode and dropout
 * state carried over) when needed. Raises a Lua error on failure. */
void siam_lua_model_reserve(lua_State *L, siam_lua_model *lm, int batch);

/* Raises "bad argument #arg (...)" unless the set's images have the model's
 * input size. */
void siam_lua_model_check_set(lua_State *L, int arg, const siam_lua_model *lm,
                              const siam_pairset *ps);

/* Probabilities of every pair of ps (evaluation mode, with test-time
 * augmentation tta) into probs (ps->count floats). Raises a Lua error on
 * failure. */
void siam_lua_model_predict(lua_State *L, siam_lua_model *lm, const siam_pairset *ps,
                            siam_tta tta, float *probs);

/* Reads a tta name ("none" or "flip") from option `key` of the table at
 * arg, def when absent; raises a Lua argument error for any other value. */
siam_tta siam_lua_opt_tta(lua_State *L, int arg, const char *key, siam_tta def);

#endif
