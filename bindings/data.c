/* siam.data (bindings/data.h): the functions that make siam.PairSet
 * userdata (load: LFW View 1 or 2 or a pairs file; find: LFW, else the
 * synthetic set; synthetic; files: pairs of image files). The PairSet's
 * methods are in bindings/pairset.c. */
#include "bindings/data.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/augment.h"
#include "bindings/config.h"
#include "bindings/pairset.h"
#include "bindings/util.h"
#include "host/lfw_cache.h"
#include "host/lfw_find.h"
#include "host/lfw_images.h"
#include "host/lfw_load.h"
#include "host/synth.h"

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

static const luaL_Reg data_funcs[] = {
    { "load", data_load }, { "find", data_find }, { "synthetic", data_synthetic },
    { "files", data_files }, { NULL, NULL }
};

void siam_lua_open_data(lua_State *L)
{
    siam_lua_open_pairset(L);
    lua_newtable(L);
    luaL_setfuncs(L, data_funcs, 0);
    siam_lua_open_augment(L);
    lua_setfield(L, -2, "data");
    lua_pushcfunction(L, data_load);
    lua_setfield(L, -2, "lfw");
}
