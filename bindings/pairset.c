/* siam.PairSet and siam.data (bindings/pairset.h): loading, splitting,
 * inspecting and batching pair sets. The pixels stay in the C image bank;
 * splits share it. */
#include "bindings/pairset.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/apiutil.h"
#include "bindings/augment.h"
#include "bindings/batches.h"
#include "bindings/util.h"
#include "host/data_summary.h"
#include "host/lfw_cache.h"
#include "host/lfw_find.h"
#include "host/lfw_images.h"
#include "host/lfw_load.h"
#include "host/set_identity.h"
#include "host/split.h"
#include "host/synth.h"

siam_pairset *siam_lua_checkpairset(lua_State *L, int arg)
{
    return siam_lua_checkobj(L, arg, SIAM_PAIRSET_MT);
}

/* ---- loading -------------------------------------------------------------- */

/* The crop= option: 0 (the whole image) or the side of the centred square
 * cut from each source image before resizing. */
static int opt_crop(lua_State *L, int arg)
{
    return (int)siam_lua_opt_integer(L, arg, "crop", 0, 0, 8192);
}

/* Load options shared by load, find and synthetic: size, crop, cache,
 * threads, all_of_people. */
static void read_load_options(lua_State *L, int arg, siam_load_options *lo)
{
    siam_load_options_init(lo);
    int size = (int)siam_lua_opt_integer(L, arg, "size", SIAM_IMAGE_SIZE, 8, 4096);
    lo->height = lo->width = size;
    lo->crop = opt_crop(L, arg);
    lo->threads = (int)siam_lua_config_integer(L, "threads", 0);
    if (lo->threads < 0)
        lo->threads = 0;
    lo->all_of_people = siam_lua_opt_boolean(L, arg, "all_of_people", 0);
    if (lua_type(L, arg) == LUA_TTABLE) {
        int type = lua_getfield(L, arg, "cache");
        if (type == LUA_TBOOLEAN)
            lo->use_cache = lua_toboolean(L, -1);
        else if (type == LUA_TSTRING)
            lo->cache_dir = lua_tostring(L, -1); /* anchored by the options table */
        else if (type != LUA_TNIL)
            siam_lua_argerrorf(L, arg, "option 'cache' must be a boolean or a directory, got %s",
                               luaL_typename(L, -1));
        lua_pop(L, 1);
    }
}

/* Loads pairs over image_root into a new PairSet pushed on the stack. What
 * the cache did goes in the box's user value, for set:info().cache. */
static void push_loaded(lua_State *L, const char *pairs, const char *image_root,
                        const siam_load_options *lo)
{
    siam_lua_box *box = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_error err;
    siam_load_report rep;
    box->ptr = siam_pairset_load(pairs, image_root, lo, &rep, &err);
    if (box->ptr == NULL)
        siam_lua_error(L, &err);
    lua_pushstring(L, rep.from_cache ? "hit" : rep.note[0] ? rep.note : "off");
    lua_setiuservalue(L, -2, 1);
}

/* siam.data.load{root=, pairs=, images=, view=1|2, size=, crop=, cache=}:
 * View 1 from an LFW directory returns train, test; View 2 returns the
 * 10-fold set; an explicit pairs file returns that one set. */
static int data_load(lua_State *L)
{
    static const char *const keys[] = { "root", "pairs", "images", "view", "size", "cache",
                                         "all_of_people", "crop", NULL };
    luaL_checktype(L, 1, LUA_TTABLE);
    siam_lua_opts_check(L, 1, keys);
    const char *root = siam_lua_opt_string(L, 1, "root", NULL);
    const char *pairs = siam_lua_opt_string(L, 1, "pairs", NULL);
    const char *images = siam_lua_opt_string(L, 1, "images", NULL);
    int view = (int)siam_lua_opt_integer(L, 1, "view", 1, 1, 2);
    siam_load_options lo;
    read_load_options(L, 1, &lo);
    siam_data_location loc;
    siam_error err;
    if (root == NULL && (pairs == NULL || images == NULL))
        return luaL_argerror(L, 1, "give 'root' (an LFW directory), or both 'pairs' and "
                                   "'images'");
    if (root != NULL && siam_lfw_probe(&loc, root, &err) < 0)
        return siam_lua_error(L, &err);
    if (images == NULL)
        images = loc.image_root;
    if (pairs != NULL) {
        push_loaded(L, pairs, images, &lo);
        return 1;
    }
    if (view == 2) {
        if (loc.view2[0] == '\0')
            return luaL_error(L, "%s: no pairs.txt there (View 2)", root);
        push_loaded(L, loc.view2, images, &lo);
        return 1;
    }
    push_loaded(L, loc.train, images, &lo);
    push_loaded(L, loc.test, images, &lo);
    return 2;
}

static const char *origin_name(siam_data_origin o)
{
    switch (o) {
    case SIAM_DATA_EXPLICIT: return "path";
    case SIAM_DATA_ENV: return "env";
    case SIAM_DATA_LOCAL: return "local";
    default: return "synthetic";
    }
}

static void push_location(lua_State *L, const siam_data_location *loc)
{
    lua_createtable(L, 0, 7);
    siam_lua_setstring(L, "origin", origin_name(loc->origin));
    siam_lua_setboolean(L, "synthetic", loc->origin == SIAM_DATA_SYNTHETIC);
    siam_lua_setstring(L, "dir", loc->dir);
    siam_lua_setstring(L, "images", loc->image_root);
    siam_lua_setstring(L, "train", loc->train);
    siam_lua_setstring(L, "test", loc->test);
    if (loc->view2[0])
        siam_lua_setstring(L, "view2", loc->view2);
    siam_lua_setstring(L, "message", loc->message);
}

static const char *const synth_keys[] = { "seed", "identities", "images", "test_identities",
                                          "train_pairs", "test_pairs", "size", "cache", "quiet",
                                          NULL };

/* Synthetic-set options from the table at arg (size is the rendered side,
 * also the loaded size). */
static void read_synth_options(lua_State *L, int arg, siam_synth_options *so)
{
    siam_synth_options_init(so);
    if (lua_isnoneornil(L, arg))
        return;
    so->seed = (uint64_t)siam_lua_opt_integer(L, arg, "seed", (lua_Integer)so->seed, 0,
                                              LUA_MAXINTEGER);
    so->identities = (int)siam_lua_opt_integer(L, arg, "identities", so->identities, 4, 100000);
    so->images_per_identity =
        (int)siam_lua_opt_integer(L, arg, "images", so->images_per_identity, 2, 10000);
    so->test_identities = (int)siam_lua_opt_integer(
        L, arg, "test_identities", so->identities < so->test_identities * 2 ? so->identities / 3
                                                                            : so->test_identities,
        2, so->identities - 2);
    so->train_pairs = (int)siam_lua_opt_integer(L, arg, "train_pairs", so->train_pairs, 1,
                                                10000000);
    so->test_pairs = (int)siam_lua_opt_integer(L, arg, "test_pairs", so->test_pairs, 1, 10000000);
    so->size = (int)siam_lua_opt_integer(L, arg, "size", so->size, 8, 4096);
}

/* siam.data.find{path=, size=, crop=, cache=, synthetic={...}, quiet=}: LFW from
 * path, $LFW_DIR or ./data/lfw, else the synthetic set (loaded whole, whatever
 * the crop); returns train, test (View 1) and a table saying where they came
 * from. */
static int data_find(lua_State *L)
{
    static const char *const keys[] = { "path", "size", "cache", "synthetic", "quiet",
                                         "all_of_people", "crop", NULL };
    siam_lua_opts_check(L, 1, keys);
    const char *path = siam_lua_opt_string(L, 1, "path", NULL);
    int quiet = siam_lua_opt_boolean(L, 1, "quiet", siam_lua_config_quiet(L));
    siam_load_options lo;
    read_load_options(L, 1, &lo);
    siam_synth_options so;
    siam_synth_options_init(&so);
    if (lua_type(L, 1) == LUA_TTABLE) {
        int type = lua_getfield(L, 1, "synthetic");
        if (type == LUA_TTABLE) {
            siam_lua_opts_check(L, lua_gettop(L), synth_keys);
            read_synth_options(L, lua_gettop(L), &so);
        } else if (type != LUA_TNIL) {
            siam_lua_argerrorf(L, 1, "option 'synthetic' must be a table, got %s",
                               luaL_typename(L, -1));
        }
        lua_pop(L, 1);
    }
    siam_data_location *loc = lua_newuserdatauv(L, sizeof *loc, 0); /* too big for the stack */
    siam_error err;
    if (siam_lfw_find(loc, path, &so, &err) < 0)
        return siam_lua_error(L, &err);
    /* A crop is chosen for LFW's framing (the face in the middle of a wide
     * frame); the synthetic stand-in's faces fill their images. */
    if (loc->origin == SIAM_DATA_SYNTHETIC && lo.crop > 0) {
        size_t used = strlen(loc->message);
        snprintf(loc->message + used, sizeof loc->message - used,
                 "\ndata: crop %d not applied: it is meant for LFW's framing, and the "
                 "synthetic faces fill their images", lo.crop);
        lo.crop = 0;
    }
    if (!quiet) {
        fprintf(stderr, "%s\n", loc->message);
        fflush(stderr);
    }
    push_loaded(L, loc->train, loc->image_root, &lo);
    push_loaded(L, loc->test, loc->image_root, &lo);
    push_location(L, loc);
    return 3;
}

/* siam.data.synthetic{seed=, identities=, images=, test_identities=,
 * train_pairs=, test_pairs=, size=, crop=, cache=}: the synthetic set, written
 * into the cache directory on first use; returns train, test, info. */
static int data_synthetic(lua_State *L)
{
    static const char *const keys[] = { "seed", "identities", "images", "test_identities",
                                         "train_pairs", "test_pairs", "size", "cache", "quiet",
                                         "all_of_people", "crop", NULL };
    siam_lua_opts_check(L, 1, keys);
    siam_synth_options so;
    read_synth_options(L, 1, &so);
    int quiet = siam_lua_opt_boolean(L, 1, "quiet", 1);
    siam_load_options lo;
    read_load_options(L, 1, &lo);
    siam_data_location *loc = lua_newuserdatauv(L, sizeof *loc, 0);
    memset(loc, 0, sizeof *loc);
    char cache[PATH_MAX - 128];
    siam_error err;
    if (siam_cache_dir(cache, sizeof cache, lo.cache_dir, &err) < 0)
        return siam_lua_error(L, &err);
    snprintf(loc->dir, sizeof loc->dir, "%s/synthetic-%llu-%dx%d-%d-t%d-p%d-%d", cache,
             (unsigned long long)so.seed, so.identities, so.images_per_identity, so.size,
             so.test_identities, so.train_pairs, so.test_pairs);
    int reused = siam_synth_present(loc->dir, &so);
    if (!reused && siam_synth_write(loc->dir, &so, &err) < 0)
        return siam_lua_error(L, &err);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", loc->dir);
    if (siam_lfw_probe(loc, dir, &err) < 0)
        return siam_lua_error(L, &err);
    loc->origin = SIAM_DATA_SYNTHETIC;
    snprintf(loc->message, sizeof loc->message,
             "data: SYNTHETIC face set (%d people x %d images, seed %llu) %s %s", so.identities,
             so.images_per_identity, (unsigned long long)so.seed,
             reused ? "already at" : "generated at", dir);
    if (!quiet) {
        fprintf(stderr, "%s\n", loc->message);
        fflush(stderr);
    }
    push_loaded(L, loc->train, loc->image_root, &lo);
    push_loaded(L, loc->test, loc->image_root, &lo);
    push_location(L, loc);
    return 3;
}

/* Splits a path into the bank's (person, file) naming: "dir" and "base" so
 * that the image's name reads back as the path. */
static void split_path(const char *path, char *dir, char *base, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, cap, ".");
        snprintf(base, cap, "%s", path);
    } else {
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
        snprintf(base, cap, "%s", slash + 1);
    }
}

/* siam.data.files({{a, b[, label]}, ...}[, {size=, crop=}]): a pair set of image
 * files, each decoded, converted to grey and resized as the loader does.
 * Labels default to 0 (unknown). */
static int data_files(lua_State *L)
{
    static const char *const keys[] = { "size", "crop", NULL };
    luaL_checktype(L, 1, LUA_TTABLE);
    siam_lua_opts_check(L, 2, keys);
    int size = (int)siam_lua_opt_integer(L, 2, "size", SIAM_IMAGE_SIZE, 8, 4096);
    int crop = opt_crop(L, 2);
    lua_Integer n = luaL_len(L, 1);
    if (n < 1)
        return luaL_argerror(L, 1, "at least one pair expected");
    if (n > INT_MAX / 2)
        return luaL_argerror(L, 1, "too many pairs");
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 1, i) != LUA_TTABLE)
            return siam_lua_argerrorf(L, 1, "pair %I must be a table {a, b[, label]}, got %s",
                                      i, luaL_typename(L, -1));
        for (int k = 1; k <= 2; k++) {
            if (lua_geti(L, -1, k) != LUA_TSTRING)
                return siam_lua_argerrorf(L, 1, "pair %I: image %d must be a path, got %s", i,
                                          k, luaL_typename(L, -1));
            lua_pop(L, 1);
        }
        int lt = lua_geti(L, -1, 3);
        if (lt != LUA_TNIL && !(lt == LUA_TNUMBER && (lua_tonumber(L, -1) == 0.0 ||
                                                      lua_tonumber(L, -1) == 1.0)))
            return siam_lua_argerrorf(L, 1, "pair %I: label must be 0 or 1", i);
        lua_pop(L, 2);
    }
    int count = (int)(2 * n);
    siam_lua_box *box = siam_lua_newbox(L, SIAM_PAIRSET_MT);
    siam_error err;
    siam_images *im = siam_images_new(count, size, size, ".", &err);
    if (im == NULL)
        return siam_lua_error(L, &err);
    im->crop = crop;
    siam_pairset *ps = siam_pairset_new(im, (size_t)n, "files", &err);
    siam_images_release(im); /* the set holds the bank now */
    if (ps == NULL)
        return siam_lua_error(L, &err);
    box->ptr = ps;
    /* Names are built in a userdata scratch block, so an error leaks nothing. */
    size_t cap = PATH_MAX;
    char *names = lua_newuserdatauv(L, (size_t)count * 2 * cap, 0);
    const char **people = lua_newuserdatauv(L, (size_t)count * 2 * sizeof(char *), 0);
    const char **files = people + count;
    for (int j = 0; j < count; j++) {
        lua_geti(L, 1, j / 2 + 1);
        lua_geti(L, -1, j % 2 + 1);
        const char *path = lua_tostring(L, -1);
        char *dir = names + (size_t)j * 2 * cap, *base = dir + cap;
        split_path(path, dir, base, cap);
        people[j] = dir;
        files[j] = base;
        if (siam_image_decode_file(im->pixels + (size_t)j * size * size, size, size, crop,
                                   path, &err) < 0)
            return siam_lua_error(L, &err);
        if (j % 2 == 1) {
            siam_pair *p = &ps->pairs[j / 2];
            p->a = j - 1;
            p->b = j;
            p->fold = 0;
            lua_geti(L, -2, 3);
            p->label = (float)lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
    }
    if (siam_images_set_names(im, people, files, &err) < 0)
        return siam_lua_error(L, &err);
    lua_pop(L, 2);
    return 1;
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

/* set:split{val=0.2, seed=, disjoint=false} -> train, val[, dropped] */
static int set_split(lua_State *L)
{
    static const char *const keys[] = { "val", "seed", "disjoint", NULL };
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    siam_lua_opts_check(L, 2, keys);
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
    lua_Integer def = siam_lua_config_integer(L, "seed", 0);
    uint64_t seed = (uint64_t)luaL_optinteger(L, 3, def < 0 ? 0 : def);
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

static const luaL_Reg set_methods[] = {
    { "pair", set_pair },     { "images", set_images }, { "info", set_info },
    { "split", set_split }, { "fingerprint", set_fingerprint },
    { "take", set_take },     { "folds", set_folds }, { "fold", set_fold },
    { "summary", set_summary }, { "batches", siam_lua_set_batches }, { "close", set_gc },
    { NULL, NULL }
};

static const luaL_Reg set_meta[] = {
    { "__len", set_len }, { "__tostring", set_tostring }, { "__gc", set_gc },
    { "__close", set_gc }, { NULL, NULL }
};

static const luaL_Reg data_funcs[] = {
    { "load", data_load }, { "find", data_find }, { "synthetic", data_synthetic },
    { "files", data_files }, { NULL, NULL }
};

void siam_lua_open_data(lua_State *L)
{
    siam_lua_newclass(L, SIAM_PAIRSET_MT, set_methods, set_meta);
    siam_lua_open_batches(L);
    lua_newtable(L);
    luaL_setfuncs(L, data_funcs, 0);
    siam_lua_open_augment(L);
    lua_setfield(L, -2, "data");
    lua_pushcfunction(L, data_load);
    lua_setfield(L, -2, "lfw");
}
