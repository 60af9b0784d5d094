/* set:batches (bindings/pairset_batches.h). The order is the trainer's
 * (siam_epoch_order) and each batch is assembled by the shared CPU
 * context's gather_normalize or augment_batch, the calls the trainer makes,
 * so a batch seen here is what the CPU trainer computes for the same seed
 * and slots. */
#include "bindings/pairset_batches.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/augment.h"
#include "bindings/config.h"
#include "bindings/context.h"
#include "bindings/tensor.h"
#include "bindings/util.h"
#include "host/epoch_order.h"

#define BATCHES_MT "siam.Batches"

typedef struct batch_iter {
    int32_t *order;  /* pair indices in visiting order (owned) */
    size_t n, pos;
    int size, drop_last;
    siam_augment aug;
    uint64_t seed, slot; /* augmentation seed and next image slot */
} batch_iter;

static int iter_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, BATCHES_MT);
    batch_iter *it = box->ptr;
    if (it != NULL) {
        free(it->order);
        free(it);
        box->ptr = NULL;
    }
    return 0;
}

/* Assembles images idx[0..n-1] of the bank into out (n x H x W floats)
 * as the trainer does: augmented when aug is enabled, image i drawing slot
 * `slot + i`; the data normalisation either way. */
static int assemble(const siam_lua_context *c, float *out, const siam_images *im,
                    const int32_t *idx, int n, const siam_augment *aug, uint64_t seed,
                    uint64_t slot, siam_error *err)
{
    const siam_ops *o = c->ops;
    int rc = aug->enabled && o->augment_batch
        ? o->augment_batch(c->ctx, out, im->pixels, idx, n, im->height, im->width, aug, seed,
                           slot, SIAM_DATA_MEAN, SIAM_DATA_STD)
        : o->gather_normalize(c->ctx, out, im->pixels, idx, n, im->height * im->width,
                              SIAM_DATA_MEAN, SIAM_DATA_STD);
    if (rc)
        return siam_fail(err, "batches: batch assembly failed: %s", o->ctx_error(c->ctx));
    return 0;
}

/* The iterator: upvalue 1 is the state, upvalue 2 the set's box. */
static int iter_next(lua_State *L)
{
    batch_iter *it = siam_lua_checkobj(L, lua_upvalueindex(1), BATCHES_MT);
    const siam_lua_box *set = lua_touserdata(L, lua_upvalueindex(2));
    const siam_pairset *ps = set->ptr;
    if (ps == NULL)
        return luaL_error(L, "batches: the pair set was closed during iteration");
    if (it->n != ps->count)
        return luaL_error(L, "batches: the pair set changed during iteration");
    size_t left = it->n - it->pos;
    if (left == 0 || (it->drop_last && left < (size_t)it->size)) {
        lua_pushnil(L);
        return 1;
    }
    int B = left < (size_t)it->size ? (int)left : it->size;
    const siam_images *im = ps->images;
    /* Slots as the trainer numbers them: left images then right images of
     * each batch. Index and label scratch in a userdata block, so an error
     * leaks nothing. */
    int32_t *idx = lua_newuserdatauv(L, 2 * (size_t)B * sizeof(int32_t), 0);
    int scratch = lua_gettop(L);
    siam_lua_context *c = siam_lua_cpu_context(L);
    int ctx = lua_gettop(L);
    int shape[4] = { B, 1, im->height, im->width };
    siam_tensor *a = siam_lua_newtensor(L, ctx, 4, shape);
    siam_tensor *b = siam_lua_newtensor(L, ctx, 4, shape);
    int lshape[1] = { B };
    siam_tensor *label = siam_lua_newtensor(L, ctx, 1, lshape);
    float *hl = lua_newuserdatauv(L, (size_t)B * sizeof(float), 0);
    for (int i = 0; i < B; i++) {
        const siam_pair *p = &ps->pairs[it->order[it->pos + i]];
        idx[i] = p->a;
        idx[B + i] = p->b;
        hl[i] = p->label;
    }
    siam_error err;
    if (assemble(c, a->data, im, idx, B, &it->aug, it->seed, it->slot, &err) < 0 ||
        assemble(c, b->data, im, idx + B, B, &it->aug, it->seed, it->slot + (uint64_t)B,
                 &err) < 0 ||
        siam_tensor_upload(label, hl, (size_t)B, &err) < 0)
        return siam_lua_error(L, &err);
    lua_pop(L, 1); /* hl */
    lua_remove(L, ctx);
    lua_remove(L, scratch);
    it->slot += 2 * (uint64_t)B;
    it->pos += (size_t)B;
    return 3;
}

int siam_lua_pairset_batches(lua_State *L, const siam_pairset *ps)
{
    static const char *const keys[] = { "size", "shuffle", "seed", "drop_last", "augment",
                                         NULL };
    siam_lua_opts_check(L, 2, keys);
    int size = (int)siam_lua_opt_integer(L, 2, "size", 32, 1, 1 << 20);
    int shuffle = siam_lua_opt_boolean(L, 2, "shuffle", 0);
    uint64_t seed = siam_lua_opt_seed(L, 2, "seed");
    int drop_last = siam_lua_opt_boolean(L, 2, "drop_last", 0);
    siam_augment aug;
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "augment");
        siam_lua_augment_read(L, 2, -1, &aug);
        lua_pop(L, 1);
    } else {
        siam_augment_defaults(&aug);
    }
    siam_lua_box *box = siam_lua_newbox(L, BATCHES_MT);
    batch_iter *it = calloc(1, sizeof *it);
    if (it == NULL)
        return luaL_error(L, "batches: out of memory");
    box->ptr = it;
    it->order = malloc((ps->count + 1) * sizeof(int32_t));
    if (it->order == NULL)
        return luaL_error(L, "batches: out of memory for %I pairs", (lua_Integer)ps->count);
    it->n = ps->count;
    it->size = size;
    it->drop_last = drop_last;
    it->aug = aug;
    it->seed = seed;
    /* Shuffled, the order of fit's first epoch. */
    if (shuffle) {
        siam_epoch_order(seed, 0, ps->count, it->order);
    } else {
        for (size_t i = 0; i < ps->count; i++)
            it->order[i] = (int32_t)i;
    }
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, iter_next, 2);
    return 1;
}

void siam_lua_open_pairset_batches(lua_State *L)
{
    static const luaL_Reg meta[] = { { "__gc", iter_gc }, { "__close", iter_gc }, { NULL, NULL } };
    siam_lua_newclass(L, BATCHES_MT, NULL, meta);
}
