/* siam.data.augment and the reader of augmentation tables
 * (bindings/augment.h). */
#include "bindings/augment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"

static const char *const augment_keys[] = { "enabled", "p_component", "rotate_deg", "shear",
                                            "scale_min", "scale_max", "translate_px", "p_flip",
                                            "brightness", "contrast", NULL };

static float opt_prob(lua_State *L, int idx, int arg, const char *key, float def)
{
    lua_Number v = siam_lua_opt_number(L, idx, key, def);
    if (!(v >= 0.0 && v <= 1.0))
        siam_lua_argerrorf(L, arg, "augment option '%s' must be in [0, 1], got %f", key, v);
    return (float)v;
}

static float opt_nonneg(lua_State *L, int idx, int arg, const char *key, float def)
{
    lua_Number v = siam_lua_opt_number(L, idx, key, def);
    if (!(v >= 0.0))
        siam_lua_argerrorf(L, arg, "augment option '%s' must be >= 0, got %f", key, v);
    return (float)v;
}

/* A float setting as the user wrote it (1.2, not 1.2000000476837). */
static double shown(float f)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)f);
    return strtod(buf, NULL);
}

void siam_lua_augment_read(lua_State *L, int arg, int idx, siam_augment *out)
{
    idx = lua_absindex(L, idx);
    siam_augment_defaults(out);
    int type = lua_type(L, idx);
    if (type == LUA_TNIL || type == LUA_TNONE)
        return;
    if (type == LUA_TBOOLEAN) {
        out->enabled = lua_toboolean(L, idx);
        return;
    }
    if (type != LUA_TTABLE)
        siam_lua_argerrorf(L, arg, "option 'augment' must be a boolean or a table, got %s",
                           luaL_typename(L, idx));
    /* The nested table's keys are checked as its own options; an error still
     * names the argument of the outer call. */
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; augment_keys[i] && !known; i++)
                known =
                    strcmp(lua_tostring(L, -1), augment_keys[i]) == 0;
        if (!known)
            siam_lua_argerrorf(L, arg, "unknown augment option '%s'",
                               lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                              : luaL_typename(L, -1));
    }
    out->enabled = siam_lua_opt_boolean(L, idx, "enabled", 1);
    out->p_component = opt_prob(L, idx, arg, "p_component", out->p_component);
    out->rotate_deg = opt_nonneg(L, idx, arg, "rotate_deg", out->rotate_deg);
    out->shear = opt_nonneg(L, idx, arg, "shear", out->shear);
    out->scale_min = opt_nonneg(L, idx, arg, "scale_min", out->scale_min);
    out->scale_max = opt_nonneg(L, idx, arg, "scale_max", out->scale_max);
    out->translate_px = opt_nonneg(L, idx, arg, "translate_px", out->translate_px);
    out->p_flip = opt_prob(L, idx, arg, "p_flip", out->p_flip);
    out->brightness = opt_nonneg(L, idx, arg, "brightness", out->brightness);
    out->contrast = opt_prob(L, idx, arg, "contrast", out->contrast);
    if (out->scale_min <= 0.0f || out->scale_min > out->scale_max)
        siam_lua_argerrorf(L, arg, "augment needs 0 < scale_min <= scale_max, got %f and %f",
                           shown(out->scale_min), shown(out->scale_max));
    if (out->shear >= 1.0f)
        siam_lua_argerrorf(L, arg, "augment option 'shear' must be below 1, got %f",
                           shown(out->shear));
}

void siam_lua_augment_push(lua_State *L, const siam_augment *a)
{
    lua_createtable(L, 0, 10);
    siam_lua_setboolean(L, "enabled", a->enabled);
    siam_lua_setnumber(L, "p_component", a->p_component);
    siam_lua_setnumber(L, "rotate_deg", a->rotate_deg);
    siam_lua_setnumber(L, "shear", a->shear);
    siam_lua_setnumber(L, "scale_min", a->scale_min);
    siam_lua_setnumber(L, "scale_max", a->scale_max);
    siam_lua_setnumber(L, "translate_px", a->translate_px);
    siam_lua_setnumber(L, "p_flip", a->p_flip);
    siam_lua_setnumber(L, "brightness", a->brightness);
    siam_lua_setnumber(L, "contrast", a->contrast);
}

/* siam.data.augment([settings]): the full settings table, paper values
 * where not given, enabled unless enabled = false. */
static int data_augment(lua_State *L)
{
    siam_augment a;
    if (lua_isnoneornil(L, 1)) {
        siam_augment_defaults(&a);
        a.enabled = 1;
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        siam_lua_augment_read(L, 1, 1, &a);
    }
    siam_lua_augment_push(L, &a);
    return 1;
}

void siam_lua_open_augment(lua_State *L)
{
    lua_pushcfunction(L, data_augment);
    lua_setfield(L, -2, "augment");
}
