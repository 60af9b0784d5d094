/* siam.Model, siam.model{...} and siam.load(path) (bindings/model.h).
 * Every tensor of the model stays on its backend; forward, parameters and
 * save copy out only what the caller asks for. */
#include "bindings/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/config.h"
#include "bindings/context.h"
#include "bindings/pairset.h"
#include "bindings/tensor.h"
#include "bindings/util.h"
#include "host/checkpoint.h"
#include "host/train.h"

/* Pairs per forward a new model is sized for; fit grows it as needed. */
#define DEFAULT_MAX_BATCH 32

static const char *const init_names[] = { "paper", "pytorch", "crosscheck", NULL };

siam_lua_model *siam_lua_checkmodel(lua_State *L, int arg)
{
    return siam_lua_checkobj(L, arg, SIAM_MODEL_MT);
}

static void lua_model_free(siam_lua_model *lm)
{
    if (lm == NULL)
        return;
    siam_model_free(lm->m);
    siam_backend_release(lm->be);
    free(lm);
}

static int model_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_MODEL_MT);
    siam_lua_model *lm = box->ptr;
    if (lm != NULL && lm->busy) /* only m:close() can get here during fit */
        return luaL_error(L, "siam.Model: cannot close the model fit is training");
    lua_model_free(lm);
    box->ptr = NULL;
    return 0;
}

/* Pushes a new box holding an empty siam_lua_model on backend `device`. */
static siam_lua_model *push_empty_model(lua_State *L, const char *device)
{
    const siam_ops *cpu_ops = siam_lua_cpu_ops(L); /* may raise: before any allocation */
    siam_ctx_options copt;
    siam_lua_ctx_options(L, &copt); /* may raise too */
    siam_lua_box *box = siam_lua_newbox(L, SIAM_MODEL_MT);
    siam_lua_model *lm = calloc(1, sizeof *lm);
    if (lm == NULL)
        luaL_error(L, "model: out of memory");
    box->ptr = lm;
    lm->threshold = 0.5;
    lm->crop = -1;
    lm->tta = SIAM_TTA_NONE;
    siam_error err;
    lm->be = siam_backend_open(device, &copt, cpu_ops, &err);
    if (lm->be == NULL)
        siam_lua_error(L, &err);
    return lm;
}

static void build(lua_State *L, siam_lua_model *lm, int max_batch)
{
    siam_error err;
    lm->m = siam_model_new(lm->be->ops, lm->be->ctx, &lm->cfg, max_batch, &err);
    if (lm->m == NULL)
        siam_lua_error(L, &err);
}

void siam_lua_model_reserve(lua_State *L, siam_lua_model *lm, int batch)
{
    if (batch <= siam_model_max_batch(lm->m))
        return;
    if (lm->busy)
        luaL_error(L, "siam.Model: a batch of %d is larger than the %d the model was built for, "
                      "and fit is training it (it cannot be rebuilt now)",
                   batch, siam_model_max_batch(lm->m));
    siam_error err;
    siam_model *bigger = siam_model_new(lm->be->ops, lm->be->ctx, &lm->cfg, batch, &err);
    if (bigger == NULL)
        siam_lua_error(L, &err);
    const siam_ops *o = lm->be->ops;
    siam_ctx *c = lm->be->ctx;
    uint64_t dseed, doff;
    siam_model_dropout_state(lm->m, &dseed, &doff);
    if (o->copy(c, siam_model_params(bigger), siam_model_params(lm->m),
                siam_model_numel(lm->m) * sizeof(float)) ||
        o->copy(c, siam_model_buffers(bigger), siam_model_buffers(lm->m),
                siam_model_buffer_numel(lm->m) * sizeof(float))) {
        siam_model_free(bigger);
        luaL_error(L, "model: copying parameters to a larger model failed: %s", o->ctx_error(c));
    }
    siam_model_set_dropout_state(bigger, dseed, doff);
    siam_model_set_training(bigger, siam_model_training(lm->m));
    siam_model_free(lm->m);
    lm->m = bigger;
}

void siam_lua_model_check_set(lua_State *L, int arg, const siam_lua_model *lm,
                              const siam_pairset *ps)
{
    if (ps->images->height != lm->cfg.in_h || ps->images->width != lm->cfg.in_w)
        siam_lua_argerrorf(L, arg, "the pair set's images are %dx%d, the model takes %dx%d",
                           ps->images->height, ps->images->width, lm->cfg.in_h, lm->cfg.in_w);
    /* Same size but another crop is a silent accuracy loss, hence an error. */
    if (lm->crop >= 0 && ps->images->crop != lm->crop)
        siam_lua_argerrorf(L, arg, "the pair set's images are cropped to %d, the model was "
                           "trained on images cropped to %d (0: whole image); load the set "
                           "with crop=%d", ps->images->crop, lm->crop, lm->crop);
    if (ps->count == 0)
        luaL_argerror(L, arg, "the pair set is empty");
}

void siam_lua_model_predict(lua_State *L, siam_lua_model *lm, const siam_pairset *ps,
                            siam_tta tta, float *probs)
{
    siam_error err;
    if (siam_model_predict(lm->m, ps, NULL, SIAM_DATA_MEAN, SIAM_DATA_STD, tta, probs, &err) < 0)
        siam_lua_error(L, &err);
}

siam_tta siam_lua_opt_tta(lua_State *L, int arg, const char *key, siam_tta def)
{
    static const char *const names[] = { "none", "flip", NULL };
    return (siam_tta)siam_lua_opt_choice(L, arg, key, (int)def, names);
}

/* Reads a 4-entry integer array option (channels, kernels). */
static void opt_int4(lua_State *L, int arg, const char *key, int *out)
{
    if (lua_type(L, arg) != LUA_TTABLE)
        return;
    int type = lua_getfield(L, arg, key);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (type != LUA_TTABLE || luaL_len(L, -1) != 4)
        siam_lua_argerrorf(L, arg, "option '%s' must be a table of 4 integers", key);
    for (int k = 0; k < 4; k++) {
        lua_geti(L, -1, k + 1);
        int isint = 0;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < 1 || v > SIAM_MODEL_MAX_SIDE) {
            const char *got = lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL)
                                                            : luaL_typename(L, -1);
            siam_lua_argerrorf(L, arg, "option '%s'[%d] must be an integer in [1, %d], got %s",
                               key, k + 1, SIAM_MODEL_MAX_SIDE, got);
        }
        out[k] = (int)v;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* siam.model{init=, dropout=, seed=, device=, size=, channels=, kernels=,
 * fc=, threshold=, batch=} */
static int model_new(lua_State *L)
{
    static const char *const keys[] = { "init", "dropout", "seed", "device", "size", "channels",
                                         "kernels", "fc", "threshold", "batch", "head", "embed",
                                         NULL };
    static const char *const devices[] = { "cpu", "cuda", "auto", NULL };
    siam_lua_opts_check(L, 1, keys);
    int init = siam_lua_opt_choice(L, 1, "init", 0, init_names);
    double dropout = siam_lua_opt_number(L, 1, "dropout", 0.0);
    if (!(dropout >= 0.0 && dropout < 1.0))
        return siam_lua_argerrorf(L, 1, "option 'dropout' must be in [0, 1), got %f", dropout);
    uint64_t seed = siam_lua_opt_seed(L, 1, "seed");
    char device[16];
    siam_lua_config_device(L, device, sizeof device);
    int def_dev = strcmp(device, "cpu") == 0 ? 0 : strcmp(device, "cuda") == 0 ? 1 : 2;
    int dev = siam_lua_opt_choice(L, 1, "device", def_dev, devices);
    double threshold = siam_lua_opt_number(L, 1, "threshold", 0.5);
    if (!(threshold >= 0.0 && threshold <= 1.0))
        return siam_lua_argerrorf(L, 1, "option 'threshold' must be in [0, 1], got %f",
                                  threshold);
    int batch = (int)siam_lua_opt_integer(L, 1, "batch", DEFAULT_MAX_BATCH, 1, 65536);
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.in_h = cfg.in_w = (int)siam_lua_opt_integer(L, 1, "size", cfg.in_h, 1, 4096);
    opt_int4(L, 1, "channels", cfg.channels);
    opt_int4(L, 1, "kernels", cfg.kernels);
    cfg.fc_units = (int)siam_lua_opt_integer(L, 1, "fc", cfg.fc_units, 1, 1 << 20);
    cfg.dropout = (float)dropout;
    siam_error err;
    const char *head = siam_lua_opt_string(L, 1, "head", "l1");
    if (siam_head_parse(head, &cfg.head, &err) < 0)
        return siam_lua_argerrorf(L, 1, "option 'head': %s", err.msg);
    siam_embed_act act;
    if (siam_embed_act_parse(siam_lua_opt_string(L, 1, "embed", "sigmoid"), &act, &err) < 0)
        return siam_lua_argerrorf(L, 1, "option 'embed': %s", err.msg);
    cfg.embed_act = (int)act;
    if (siam_model_config_check(&cfg, NULL, &err) < 0)
        return luaL_argerror(L, 1, err.msg);
    siam_lua_model *lm = push_empty_model(L, devices[dev]);
    lm->cfg = cfg;
    lm->init = (siam_init_kind)init;
    lm->seed = seed;
    lm->threshold = threshold;
    build(L, lm, batch);
    if (siam_model_init(lm->m, lm->init, seed, &err) < 0)
        return siam_lua_error(L, &err);
    siam_model_set_dropout_state(lm->m, seed, 0);
    return 1;
}

/* ---- forward -------------------------------------------------------------- */

/* Tensor (B,1,H,W) or (B,H,W) of the model's size: returns B. */
static int check_images(lua_State *L, int arg, const siam_tensor *t, const siam_lua_model *lm)
{
    int ok = (t->ndim == 4 && t->shape[1] == 1 && t->shape[2] == lm->cfg.in_h &&
              t->shape[3] == lm->cfg.in_w) ||
             (t->ndim == 3 && t->shape[1] == lm->cfg.in_h && t->shape[2] == lm->cfg.in_w);
    if (!ok) {
        char buf[128];
        siam_tensor_shape_str(t, buf, sizeof buf);
        siam_lua_argerrorf(L, arg, "images must be Bx1x%dx%d, got %s", lm->cfg.in_h,
                           lm->cfg.in_w, buf);
    }
    return (int)t->shape[0];
}

static void push_probs(lua_State *L, const float *p, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, p[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* m:forward(set) -> probabilities (evaluation mode);
 * m:forward(a, b) -> probabilities of the tensor batch (current mode). */
static int model_forward(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    if (luaL_testudata(L, 2, SIAM_PAIRSET_MT) != NULL) {
        siam_pairset *ps = siam_lua_checkpairset(L, 2);
        siam_lua_model_check_set(L, 2, lm, ps);
        float *probs = lua_newuserdatauv(L, ps->count * sizeof(float), 0);
        siam_lua_model_predict(L, lm, ps, lm->tta, probs);
        push_probs(L, probs, ps->count);
        return 1;
    }
    if (luaL_testudata(L, 2, SIAM_TENSOR_MT) == NULL)
        return siam_lua_argerrorf(L, 2, "siam.PairSet or siam.Tensor expected, got %s",
                                  luaL_typename(L, 2));
    siam_tensor *a = siam_lua_checktensor(L, 2);
    siam_tensor *b = siam_lua_checktensor(L, 3);
    int B = check_images(L, 2, a, lm);
    if (check_images(L, 3, b, lm) != B)
        return siam_lua_argerrorf(L, 3, "%d images given, the first argument has %d",
                                  (int)b->shape[0], B);
    siam_lua_model_reserve(L, lm, B);
    const siam_ops *o = lm->be->ops;
    siam_ctx *c = lm->be->ctx;
    float *x = siam_model_input(lm->m);
    size_t n = siam_tensor_numel(a);
    /* The tensors may live on another backend: through the host. */
    float *host = lua_newuserdatauv(L, 2 * n * sizeof(float), 0);
    siam_error err;
    if (siam_tensor_download(a, host, n, &err) < 0 ||
        siam_tensor_download(b, host + n, n, &err) < 0)
        return siam_lua_error(L, &err);
    if (o->upload(c, x, host, 2 * n * sizeof(float)))
        return luaL_error(L, "forward: upload failed: %s", o->ctx_error(c));
    if (siam_model_forward(lm->m, B, &err) < 0)
        return siam_lua_error(L, &err);
    float *probs = lua_newuserdatauv(L, (size_t)B * sizeof(float), 0);
    if (o->download(c, probs, siam_model_probs(lm->m), (size_t)B * sizeof(float)))
        return luaL_error(L, "forward: download failed: %s", o->ctx_error(c));
    push_probs(L, probs, (size_t)B);
    return 1;
}

/* ---- parameters ----------------------------------------------------------- */

static double l2_norm(const float *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

/* m:parameters() -> array of {name, shape, numel, norm, grad_norm} */
static int model_parameters(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    size_t n = siam_model_numel(lm->m);
    float *host = lua_newuserdatauv(L, 2 * n * sizeof(float), 0);
    siam_error err;
    if (siam_model_download_params(lm->m, host, &err) < 0)
        return siam_lua_error(L, &err);
    const siam_ops *o = lm->be->ops;
    /* A model never trained has no gradient buffers: its gradients are 0. */
    if (siam_model_grads(lm->m) == NULL)
        memset(host + n, 0, n * sizeof(float));
    else if (o->download(lm->be->ctx, host + n, siam_model_grads(lm->m), n * sizeof(float)))
        return luaL_error(L, "parameters: download failed: %s", o->ctx_error(lm->be->ctx));
    int count = siam_model_param_count(lm->m);
    lua_createtable(L, count, 0);
    for (int j = 0; j < count; j++) {
        const siam_param_info *p = siam_model_param(lm->m, j);
        lua_createtable(L, 0, 5);
        siam_lua_setstring(L, "name", p->name);
        lua_createtable(L, p->ndim, 0);
        for (int d = 0; d < p->ndim; d++) {
            lua_pushinteger(L, p->shape[d]);
            lua_rawseti(L, -2, d + 1);
        }
        lua_setfield(L, -2, "shape");
        siam_lua_setinteger(L, "numel", (lua_Integer)p->numel);
        siam_lua_setnumber(L, "norm", l2_norm(host + p->offset, p->numel));
        siam_lua_setnumber(L, "grad_norm", l2_norm(host + n + p->offset, p->numel));
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

/* m:parameter(name) -> a tensor copy of one parameter */
static int model_parameter(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    const char *name = luaL_checkstring(L, 2);
    int j = siam_model_param_find(lm->m, name);
    if (j < 0)
        return siam_lua_argerrorf(L, 2, "no parameter named '%s'", name);
    const siam_param_info *p = siam_model_param(lm->m, j);
    const siam_ops *o = lm->be->ops;
    float *host = lua_newuserdatauv(L, p->numel * sizeof(float), 0);
    int scratch = lua_gettop(L);
    if (o->download(lm->be->ctx, host, siam_model_params(lm->m) + p->offset,
                    p->numel * sizeof(float)))
        return luaL_error(L, "parameter: download failed: %s", o->ctx_error(lm->be->ctx));
    siam_lua_cpu_context(L);
    siam_tensor *t = siam_lua_newtensor(L, -1, p->ndim, p->shape);
    siam_error err;
    if (siam_tensor_upload(t, host, p->numel, &err) < 0)
        return siam_lua_error(L, &err);
    lua_remove(L, scratch);
    lua_remove(L, -2);
    return 1;
}

static int model_train(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    siam_model_set_training(lm->m, 1);
    lua_settop(L, 1);
    return 1;
}

static int model_eval(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    siam_model_set_training(lm->m, 0);
    lua_settop(L, 1);
    return 1;
}

/* ---- save / load ---------------------------------------------------------- */

/* The model's metadata as a checkpoint records it. */
static siam_model_meta meta_of(const siam_lua_model *lm)
{
    siam_model_meta meta = { lm->threshold, lm->crop, lm->tta, lm->init, lm->seed };
    return meta;
}

/* m:save(path) */
static int model_save(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    const char *path = luaL_checkstring(L, 2);
    siam_error err;
    siam_model_meta meta = meta_of(lm);
    if (siam_checkpoint_save(path, lm->m, &meta, NULL, NULL, &err) < 0)
        return siam_lua_error(L, &err);
    lua_settop(L, 1);
    return 1;
}

/* siam.load(path[, {device=, batch=}]) -> model */
static int model_load(lua_State *L)
{
    static const char *const keys[] = { "device", "batch", NULL };
    static const char *const devices[] = { "cpu", "cuda", "auto", NULL };
    const char *path = luaL_checkstring(L, 1);
    siam_lua_opts_check(L, 2, keys);
    char device[16];
    siam_lua_config_device(L, device, sizeof device);
    int def_dev = strcmp(device, "cpu") == 0 ? 0 : strcmp(device, "cuda") == 0 ? 1 : 2;
    int dev = siam_lua_opt_choice(L, 2, "device", def_dev, devices);
    int batch = (int)siam_lua_opt_integer(L, 2, "batch", DEFAULT_MAX_BATCH, 1, 65536);
    siam_lua_model *lm = push_empty_model(L, devices[dev]);
    siam_error err;
    siam_model_meta meta;
    /* Every check of the file comes before the model is allocated. */
    lm->m = siam_checkpoint_load_model(path, lm->be->ops, lm->be->ctx, batch, 0, &meta, &err);
    if (lm->m == NULL)
        return siam_lua_error(L, &err);
    lm->cfg = *siam_model_config_of(lm->m);
    lm->threshold = meta.threshold;
    lm->crop = meta.crop;
    lm->tta = meta.tta;
    lm->init = meta.init;
    lm->seed = meta.seed;
    return 1;
}

/* ---- properties ----------------------------------------------------------- */

/* The name siam_head_parse reads back as `head`: "l1", "rich", or the
 * blocks joined by '+'. */
static void push_head_name(lua_State *L, unsigned head)
{
    static const char *const blocks[4] = { "abs", "sq", "prod", "cos" };
    if (head == SIAM_HEAD_L1 || head == SIAM_HEAD_RICH) {
        lua_pushstring(L, head == SIAM_HEAD_L1 ? "l1" : "rich");
        return;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int first = 1;
    for (int k = 0; k < 4; k++)
        if (head & (1u << k)) {
            if (!first)
                luaL_addchar(&b, '+');
            luaL_addstring(&b, blocks[k]);
            first = 0;
        }
    luaL_pushresult(&b);
}

static void push_config(lua_State *L, const siam_lua_model *lm)
{
    const siam_model_config *c = &lm->cfg;
    lua_createtable(L, 0, 8);
    siam_lua_setinteger(L, "size", c->in_h);
    lua_createtable(L, 4, 0);
    for (int k = 0; k < 4; k++) {
        lua_pushinteger(L, c->channels[k]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "channels");
    lua_createtable(L, 4, 0);
    for (int k = 0; k < 4; k++) {
        lua_pushinteger(L, c->kernels[k]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "kernels");
    siam_lua_setinteger(L, "fc", c->fc_units);
    siam_lua_setnumber(L, "dropout", c->dropout);
    push_head_name(L, c->head);
    lua_setfield(L, -2, "head");
    siam_lua_setstring(L, "embed", siam_embed_act_name(c->embed_act));
}

/* m.threshold, m.tta, m.device, m.init, m.seed, m.crop (nil until trained), m.numel,
 * m.training, m.config, m.batch; methods otherwise. */
static int model_index(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_MODEL_MT);
    siam_lua_model *lm = box->ptr;
    const char *key = lua_tostring(L, 2);
    if (lua_type(L, 2) == LUA_TSTRING && lm != NULL) {
        if (strcmp(key, "threshold") == 0)
            lua_pushnumber(L, lm->threshold);
        else if (strcmp(key, "device") == 0)
            lua_pushstring(L, lm->be->device);
        else if (strcmp(key, "init") == 0)
            lua_pushstring(L, init_names[lm->init]);
        else if (strcmp(key, "seed") == 0)
            lua_pushinteger(L, (lua_Integer)lm->seed);
        else if (strcmp(key, "crop") == 0 && lm->crop >= 0)
            lua_pushinteger(L, lm->crop);
        else if (strcmp(key, "crop") == 0)
            lua_pushnil(L);
        else if (strcmp(key, "tta") == 0)
            lua_pushstring(L, siam_tta_name(lm->tta));
        else if (strcmp(key, "numel") == 0)
            lua_pushinteger(L, (lua_Integer)siam_model_numel(lm->m));
        else if (strcmp(key, "training") == 0)
            lua_pushboolean(L, siam_model_training(lm->m));
        else if (strcmp(key, "batch") == 0)
            lua_pushinteger(L, siam_model_max_batch(lm->m));
        else if (strcmp(key, "config") == 0)
            push_config(L, lm);
        else
            goto method;
        return 1;
    }
method:
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}

static int model_newindex(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "tta") == 0) {
        const char *name = lua_type(L, 3) == LUA_TSTRING ? lua_tostring(L, 3) : NULL;
        if (name == NULL || siam_tta_parse(name, &lm->tta) < 0)
            return luaL_error(L, "siam.Model: tta must be \"none\" or \"flip\", got %s",
                              name ? name : luaL_typename(L, 3));
        return 0;
    }
    if (strcmp(key, "threshold") != 0)
        return luaL_error(L, "siam.Model: field '%s' cannot be set (only 'threshold' and "
                             "'tta')", key);
    if (lua_type(L, 3) != LUA_TNUMBER)
        return luaL_error(L, "siam.Model: threshold must be a number, got %s",
                          luaL_typename(L, 3));
    double t = lua_tonumber(L, 3);
    if (!(t >= 0.0 && t <= 1.0))
        return luaL_error(L, "siam.Model: threshold must be in [0, 1], got %f", t);
    lm->threshold = t;
    return 0;
}

static int model_tostring(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_MODEL_MT);
    siam_lua_model *lm = box->ptr;
    if (lm == NULL) {
        lua_pushliteral(L, "siam.Model (closed)");
        return 1;
    }
    const siam_model_config *c = &lm->cfg;
    lua_pushfstring(L,
                    "siam.Model(%dx%d, conv %d/%d/%d/%d, fc %d, %I parameters, dropout %f, "
                    "init %s, %s, %s)",
                    c->in_h, c->in_w, c->channels[0], c->channels[1], c->channels[2],
                    c->channels[3], c->fc_units, (lua_Integer)siam_model_numel(lm->m),
                    (double)c->dropout, init_names[lm->init], lm->be->device,
                    siam_model_training(lm->m) ? "training" : "eval");
    return 1;
}

static const luaL_Reg model_methods[] = {
    { "forward", model_forward }, { "parameters", model_parameters },
    { "parameter", model_parameter }, { "train", model_train }, { "eval", model_eval },
    { "save", model_save }, { "close", model_gc }, { NULL, NULL }
};

static const luaL_Reg model_meta[] = {
    { "__index", model_index }, { "__newindex", model_newindex },
    { "__tostring", model_tostring }, { "__gc", model_gc }, { "__close", model_gc },
    { NULL, NULL }
};

void siam_lua_open_model(lua_State *L)
{
    siam_lua_newclass(L, SIAM_MODEL_MT, model_methods, model_meta);
    lua_pushcfunction(L, model_new);
    lua_setfield(L, -2, "model");
    lua_pushcfunction(L, model_load);
    lua_setfield(L, -2, "load");
}
