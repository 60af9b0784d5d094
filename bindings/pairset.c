/* siam.PairSet (bindings/pairset.h): the methods that split, inspect and
 * batch a pair set. The pixels stay in the C image bank; splits share it.
 * The functions that make pair sets are siam.data's (bindings/data.c). */
#include "bindings/pairset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/pairset_batches.h"
#include "bindings/config.h"
#include "bindings/util.h"
#include "host/data_summary.h"
#include "host/set_identity.h"
#include "host/split.h"
#include "host/split_balanced.h"

siam_pairset *siam_lua_checkpairset(lua_State *L, int arg)
{
    return siam_lua_checkobj(L, arg, SIAM_PAIRSET_MT);
}

/* ---- methods -------------------------------------------------------------- */

static int set_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)siam_lua_checkpairset(L, 1)->count);
    return 1;
}

static int set_tostring(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_PAIRSET_MT);
    siam_pairset *ps = box->ptr;
    if (ps == NULL) {
        lua_pushliteral(L, "siam.PairSet (closed)");
        return 1;
    }
    size_t matched = 0;
    for (size_t i = 0; i < ps->count; i++)
        matched += ps->pairs[i].label >= 0.5f;
    lua_pushfstring(L, "siam.PairSet(%I pairs: %I matched, %I mismatched; %d images %dx%d; %s)",
                    (lua_Integer)ps->count, (lua_Integer)matched,
                    (lua_Integer)(ps->count - matched), ps->images->count, ps->images->height,
                    ps->images->width, ps->source ? ps->source : "?");
    return 1;
}

static int set_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_PAIRSET_MT);
    siam_pairset_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

/* The pair at 1-based index argument `arg`; a Lua error when out of range. */
static const siam_pair *check_pair(lua_State *L, const siam_pairset *ps, int arg)
{
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 1 || (lua_Unsigned)i > ps->count)
        siam_lua_argerrorf(L, arg, "pair index %I out of range [1, %I]", i,
                           (lua_Integer)ps->count);
    return &ps->pairs[i - 1];
}

/* set:pair(i) -> {a=, b=, person_a=, person_b=, label=, fold=} */
static int set_pair(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    const siam_pair *p = check_pair(L, ps, 2);
    const siam_images *im = ps->images;
    lua_createtable(L, 0, 6);
    siam_lua_setstring(L, "a", im->names[p->a]);
    siam_lua_setstring(L, "b", im->names[p->b]);
    siam_lua_setstring(L, "person_a", im->people[p->a]);
    siam_lua_setstring(L, "person_b", im->people[p->b]);
    siam_lua_setinteger(L, "label", p->label >= 0.5f);
    siam_lua_setinteger(L, "fold", p->fold + 1);
    return 1;
}

/* set:images(i) -> a, b, height, width: the two faces of pair i as strings
 * of height*width grey bytes (row-major), the form siam.io.image_sheet
 * takes. */
static int set_images(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    const siam_pair *p = check_pair(L, ps, 2);
    const siam_images *im = ps->images;
    size_t face = (size_t)im->height * (size_t)im->width;
    lua_pushlstring(L, (const char *)im->pixels + (size_t)p->a * face, face);
    lua_pushlstring(L, (const char *)im->pixels + (size_t)p->b * face, face);
    lua_pushinteger(L, im->height);
    lua_pushinteger(L, im->width);
    return 4;
}

/* set:info() -> {pairs, matched, mismatched, folds, images, height, width,
 * crop, source, root[, cache]}: cache, for a set a load made, is "hit",
 * "off" or the reason the cache was rebuilt or not written */
static int set_info(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    size_t matched = 0;
    for (size_t i = 0; i < ps->count; i++)
        matched += ps->pairs[i].label >= 0.5f;
    lua_createtable(L, 0, 10);
    siam_lua_setinteger(L, "pairs", (lua_Integer)ps->count);
    siam_lua_setinteger(L, "matched", (lua_Integer)matched);
    siam_lua_setinteger(L, "mismatched", (lua_Integer)(ps->count - matched));
    siam_lua_setinteger(L, "folds", ps->folds);
    siam_lua_setinteger(L, "images", ps->images->count);
    siam_lua_setinteger(L, "height", ps->images->height);
    siam_lua_setinteger(L, "width", ps->images->width);
    siam_lua_setinteger(L, "crop", ps->images->crop);
    siam_lua_setstring(L, "source", ps->source ? ps->source : "");
    siam_lua_setstring(L, "root", ps->images->root ? ps->images->root : "");
    if (lua_getiuservalue(L, 1, 1) == LUA_TSTRING)
        lua_setfield(L, -2, "cache");
    else
        lua_pop(L, 1);
    return 1;
}

/* set:fingerprint() -> 16 hex digits naming the set's content (image size,
 * crop, every image's name and pixels, every pair): host/set_identity.h */
static int set_fingerprint(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    char hex[17];
    siam_fingerprint_hex(siam_pairset_fingerprint(ps), hex);
    lua_pushstring(L, hex);
    return 1;
}

/* Whether the options table at arg gives `key` (a value other than nil). */
static int has_option(lua_State *L, int arg, const char *key)
{
    if (!lua_istable(L, arg))
        return 0;
    int given = lua_getfield(L, arg, key) != LUA_TNIL;
    lua_pop(L, 1);
    return given;
}

/* set:split{balanced=N, people=0.2, exact=true, seed=} -> train, val, dropped:
 * host/split_balanced.h. 'val' and 'disjoint' belong to the other splits. */
static int split_balanced(lua_State *L, siam_pairset *ps)
{
    if (has_option(L, 2, "val"))
        return siam_lua_argerrorf(L, 2, "option 'val' (a share of the pairs) does not apply "
                                        "with 'balanced'; 'people' is the share of people held out");
    if (!siam_lua_opt_boolean(L, 2, "disjoint", 1))
        return siam_lua_argerrorf(L, 2, "a 'balanced' split is always identity-disjoint "
                                        "(disjoint = false given)");
    lua_Integer n = siam_lua_opt_integer(L, 2, "balanced", 0, 2, INT_MAX);
    if (n % 2 != 0)
        return siam_lua_argerrorf(L, 2, "option 'balanced' must be even (as many matched as "
                                        "mismatched pairs), got %I", n);
    double people = siam_lua_opt_number(L, 2, "people", SIAM_VAL_PEOPLE);
    if (!(people > 0.0 && people < 1.0))
        return siam_lua_argerrorf(L, 2, "option 'people' must be in (0, 1), got %f", people);
    int exact = siam_lua_opt_boolean(L, 2, "exact", 1);
    uint64_t seed = siam_lua_opt_seed(L, 2, "seed");
    siam_lua_box *tb = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_lua_box *vb = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_pairset *train = NULL, *valset = NULL;
    size_t dropped = 0;
    siam_error err;
    int rc = siam_split_balanced(ps, people, (size_t)n, !exact, seed, &train, &valset, &dropped,
                                 &err);
    tb->ptr = train;
    vb->ptr = valset;
    if (rc < 0)
        return siam_lua_error(L, &err);
    lua_pushinteger(L, (lua_Integer)dropped);
    return 3;
}

/* set:split{val=0.2, seed=, disjoint=false} -> train, val[, dropped] */
static int set_split(lua_State *L)
{
    static const char *const keys[] = { "val", "seed", "disjoint", "balanced", "people", "exact",
                                        NULL };
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    siam_lua_opts_check(L, 2, keys);
    if (has_option(L, 2, "balanced"))
        return split_balanced(L, ps);
    if (has_option(L, 2, "people") || has_option(L, 2, "exact"))
        return siam_lua_argerrorf(L, 2, "options 'people' and 'exact' go with 'balanced'");
    double val = siam_lua_opt_number(L, 2, "val", SIAM_VAL_FRACTION);
    if (!(val > 0.0 && val < 1.0))
        return siam_lua_argerrorf(L, 2, "option 'val' must be in (0, 1), got %f", val);
    uint64_t seed = siam_lua_opt_seed(L, 2, "seed");
    int disjoint = siam_lua_opt_boolean(L, 2, "disjoint", 0);
    siam_lua_box *tb = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_lua_box *vb = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_pairset *train = NULL, *valset = NULL;
    size_t dropped = 0;
    siam_error err;
    int rc = disjoint ? siam_split_by_identity(ps, val, seed, &train, &valset, &dropped, &err)
                      : siam_split_stratified(ps, val, seed, &train, &valset, &err);
    tb->ptr = train;
    vb->ptr = valset;
    if (rc < 0)
        return siam_lua_error(L, &err);
    if (!disjoint)
        return 2;
    lua_pushinteger(L, (lua_Integer)dropped);
    return 3;
}

/* set:take(n[, seed]) -> a stratified random subset of n pairs (the same
 * share of matched pairs), in the set's order. */
static int set_take(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    if (n < 1 || (lua_Unsigned)n > ps->count)
        return siam_lua_argerrorf(L, 2, "count must be in [1, %I], got %I",
                                  (lua_Integer)ps->count, n);
    uint64_t seed = (uint64_t)luaL_optinteger(L, 3, (lua_Integer)siam_lua_config_seed(L));
    siam_lua_box *out = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_error err;
    if ((lua_Unsigned)n == ps->count) {
        siam_pairset *copy = siam_pairset_new(ps->images, ps->count, ps->source, &err);
        if (copy == NULL)
            return siam_lua_error(L, &err);
        memcpy(copy->pairs, ps->pairs, ps->count * sizeof *ps->pairs);
        copy->folds = ps->folds;
        out->ptr = copy;
        return 1;
    }
    siam_pairset *rest = NULL, *part = NULL;
    int rc = siam_split_take(ps, (size_t)n, seed, &rest, &part, &err);
    siam_pairset_free(rest);
    out->ptr = part;
    if (rc < 0)
        return siam_lua_error(L, &err);
    return 1;
}

/* set:folds() -> number of folds; set:fold(k) -> train (other folds), test (fold k) */
static int set_folds(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    lua_pushinteger(L, ps->folds);
    return 1;
}

static int set_fold(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    lua_Integer k = luaL_checkinteger(L, 2);
    if (k < 1 || k > ps->folds)
        return siam_lua_argerrorf(L, 2, "fold %I out of range [1, %d]", k, ps->folds);
    siam_lua_box *tb = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_lua_box *sb = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_pairset *train = NULL, *test = NULL;
    siam_error err;
    int rc = siam_split_fold(ps, (int)k - 1, &train, &test, &err);
    tb->ptr = train;
    sb->ptr = test;
    if (rc < 0)
        return siam_lua_error(L, &err);
    return 2;
}

static void push_summary(lua_State *L, const siam_data_summary *s)
{
    lua_createtable(L, 0, 11);
    siam_lua_setinteger(L, "pairs", (lua_Integer)s->pairs);
    siam_lua_setinteger(L, "matched", (lua_Integer)s->matched);
    siam_lua_setinteger(L, "mismatched", (lua_Integer)s->mismatched);
    siam_lua_setinteger(L, "images", s->images);
    siam_lua_setinteger(L, "people", s->people);
    siam_lua_setinteger(L, "per_person_min", s->per_person_min);
    siam_lua_setinteger(L, "per_person_median", s->per_person_median);
    siam_lua_setnumber(L, "per_person_mean", s->per_person_mean);
    siam_lua_setinteger(L, "per_person_max", s->per_person_max);
    siam_lua_setinteger(L, "people_one_image", s->people_one_image);
}

/* set:summary([other]) -> the seed report's data summary; with another set,
 * shared_people counts the people in both. */
static int set_summary(lua_State *L)
{
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    siam_pairset *other = lua_isnoneornil(L, 2) ? NULL : siam_lua_checkpairset(L, 2);
    siam_data_summary s;
    siam_error err;
    if (siam_data_summary_compute(&s, ps, &err) < 0)
        return siam_lua_error(L, &err);
    push_summary(L, &s);
    if (other != NULL) {
        int shared = siam_data_people_overlap(ps, other, &err);
        if (shared < 0)
            return siam_lua_error(L, &err);
        siam_lua_setinteger(L, "shared_people", shared);
    }
    return 1;
}

/* set:batches{...} (bindings/pairset_batches.h) */
static int set_batches(lua_State *L)
{
    return siam_lua_pairset_batches(L, siam_lua_checkpairset(L, 1));
}

static const luaL_Reg set_methods[] = {
    { "pair", set_pair },     { "images", set_images }, { "info", set_info },
    { "split", set_split }, { "fingerprint", set_fingerprint },
    { "take", set_take },     { "folds", set_folds }, { "fold", set_fold },
    { "summary", set_summary }, { "batches", set_batches }, { "close", set_gc },
    { NULL, NULL }
};

static const luaL_Reg set_meta[] = {
    { "__len", set_len }, { "__tostring", set_tostring }, { "__gc", set_gc },
    { "__close", set_gc }, { NULL, NULL }
};

void siam_lua_open_pairset(lua_State *L)
{
    siam_lua_newclass(L, SIAM_PAIRSET_MT, set_methods, set_meta);
    siam_lua_open_pairset_batches(L);
}
