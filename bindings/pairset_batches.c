/* Batch iteration over a PairSet (bindings/batches.h). Normalisation and
 * augmentation follow kernels/augment.h pixel for pixel, so a batch seen
 * here is what the CPU trainer computes for the same seed and slots. */
#include "bindings/batches.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/augment.h"
#include "bindings/config.h"
#include "bindings/context.h"
#include "bindings/pairset.h"
#include "bindings/tensor.h"
#include "bindings/util.h"
#include "kernels/rng.h"

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

/* Writes image `img` of the bank into dst (H*W floats) through slot's
 * augmentation parameters. */
static void fill_image(float *dst, const siam_images *im, int img, batch_iter *it)
{
    int H = im->height, W = im->width;
    const uint8_t *src = im->pixels + (size_t)img * H * W;
    siam_augment_params p;
    siam_augment_draw(&it->aug, it->seed, it->slot++, H, W, &p);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float v = it->aug.enabled ? siam_augment_pixel(src, H, W, &p, x, y)
                                      : (float)src[y * W + x] / 255.0f;
            dst[y * W + x] = (v - SIAM_DATA_MEAN) / SIAM_DATA_STD;
        }
}

/* The iterator: upvalue 1 is the state, upvalue 2 the set. */
static int iter_next(lua_State *L)
{
    batch_iter *it = siam_lua_checkobj(L, lua_upvalueindex(1), BATCHES_MT);
    siam_pairset *ps = siam_lua_checkobj(L, lua_upvalueindex(2), SIAM_PAIRSET_MT);
    if (it->n != ps->count)
        return luaL_error(L, "batches: the pair set changed during iteration");
    size_t left = it->n - it->pos;
    if (left == 0 || (it->drop_last && left < (size_t)it->size)) {
        lua_pushnil(L);
        return 1;
    }
    int B = left < (size_t)it->size ? (int)left : it->size;
    const siam_images *im = ps->images;
    size_t px = (size_t)im->height * im->width;
    /* Assembled on the host in a scratch block, then uploaded into tensors on
     * the shared CPU context. */
    float *host = lua_newuserdatauv(L, (2 * px + 1) * (size_t)B * sizeof(float), 0);
    int scratch = lua_gettop(L);
    float *ha = host, *hb = host + (size_t)B * px, *hl = host + 2 * (size_t)B * px;
    /* Slots as the trainer numbers them: left images then right images of
     * each batch. */
    for (int i = 0; i < B; i++)
        fill_image(ha + i * px, im, ps->pairs[it->order[it->pos + i]].a, it);
    for (int i = 0; i < B; i++) {
        const siam_pair *p = &ps->pairs[it->order[it->pos + i]];
        fill_image(hb + i * px, im, p->b, it);
        hl[i] = p->label;
    }
    siam_lua_cpu_context(L);
    int ctx = lua_gettop(L);
    int shape[4] = { B, 1, im->height, im->width };
    siam_tensor *a = siam_lua_newtensor(L, ctx, 4, shape);
    siam_tensor *b = siam_lua_newtensor(L, ctx, 4, shape);
    int lshape[1] = { B };
    siam_tensor *label = siam_lua_newtensor(L, ctx, 1, lshape);
    siam_error err;
    if (siam_tensor_upload(a, ha, (size_t)B * px, &err) < 0 ||
        siam_tensor_upload(b, hb, (size_t)B * px, &err) < 0 ||
        siam_tensor_upload(label, hl, (size_t)B, &err) < 0)
        return siam_lua_error(L, &err);
    lua_remove(L, ctx);
    lua_remove(L, scratch);
    it->pos += (size_t)B;
    return 3;
}

int siam_lua_set_batches(lua_State *L)
{
    static const char *const keys[] = { "size", "shuffle", "seed", "drop_last", "augment",
                                         NULL };
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
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
    for (size_t i = 0; i < ps->count; i++)
        it->order[i] = (int32_t)i;
    if (shuffle) {
        siam_rng r;
        siam_rng_init(&r, seed, SIAM_STREAM_SHUFFLE);
        siam_rng_shuffle_i32(&r, it->order, ps->count);
    }
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, iter_next, 2);
    return 1;
}

void siam_lua_open_batches(lua_State *L)
{
    static const luaL_Reg meta[] = { { "__gc", iter_gc }, { "__close", iter_gc }, { NULL, NULL } };
    siam_lua_newclass(L, BATCHES_MT, NULL, meta);
}
