/* siam.Tensor: creation from Lua tables, element access and a few
 * reductions and elementwise operations, for inspecting what the C side
 * computes. Not a general tensor library: heavy work stays in kernels/. */
#include "bindings/tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bindings/util.h"

#define MAXD SIAM_HOSTTENSOR_MAX_DIMS
/* How many values __tostring shows before "...". */
#define SHOW_VALUES 8

siam_hosttensor *siam_lua_checktensor(lua_State *L, int arg)
{
    return siam_lua_checkobj(L, arg, SIAM_TENSOR_MT);
}

siam_hosttensor *siam_lua_newtensor(lua_State *L, int ndim, const long long *shape)
{
    siam_lua_box *box = siam_lua_newbox(L, SIAM_TENSOR_MT);
    siam_error err;
    siam_hosttensor *t = siam_hosttensor_new(ndim, shape, &err);
    if (t == NULL)
        siam_lua_error(L, &err);
    box->ptr = t;
    return t;
}

/* ---- creation ---------------------------------------------------------- */

/* "[2][1]" for the first `depth` indices of idx (1-based). */
static const char *push_path(lua_State *L, const lua_Integer *idx, int depth)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int d = 0; d < depth; d++) {
        lua_pushfstring(L, "[%I]", idx[d]);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* Shape of a nested table: follow first elements down to a number. The
 * table is at stack index `tab`. */
static int nested_shape(lua_State *L, int tab, long long *shape)
{
    lua_Integer idx[MAXD];
    int ndim = 0;
    lua_pushvalue(L, tab);
    while (lua_type(L, -1) == LUA_TTABLE) {
        if (ndim == MAXD)
            luaL_argerror(L, 1, lua_pushfstring(L, "more than %d nested levels", MAXD));
        lua_Unsigned n = lua_rawlen(L, -1);
        if (n == 0) {
            const char *path = push_path(L, idx, ndim);
            luaL_argerror(L, 1, lua_pushfstring(L, "empty table%s%s: a tensor needs values",
                                                ndim ? " at " : "", path));
        }
        shape[ndim] = (long long)n;
        idx[ndim++] = 1;
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return ndim;
}

/* Copies the nested table on the top of the stack (level `depth`) into
 * data, in row-major order, checking that it is rectangular. */
static void fill_nested(lua_State *L, const long long *shape, int ndim, int depth,
                        lua_Integer *idx, float **data)
{
    lua_Unsigned n = lua_rawlen(L, -1);
    if ((long long)n != shape[depth]) {
        const char *path = push_path(L, idx, depth);
        luaL_argerror(L, 1, lua_pushfstring(L, "ragged table: %s%s has %I value%s, expected %I",
                                            depth ? "element " : "the table", path,
                                            (lua_Integer)n, n == 1 ? "" : "s",
                                            (lua_Integer)shape[depth]));
    }
    for (lua_Integer i = 1; i <= (lua_Integer)n; i++) {
        idx[depth] = i;
        int type = lua_rawgeti(L, -1, i);
        if (depth + 1 < ndim) {
            if (type != LUA_TTABLE) {
                const char *path = push_path(L, idx, depth + 1);
                luaL_argerror(L, 1, lua_pushfstring(L, "element %s is a %s, expected a table",
                                                    path, luaL_typename(L, -2)));
            }
            fill_nested(L, shape, ndim, depth + 1, idx, data);
        } else {
            if (type != LUA_TNUMBER) {
                const char *path = push_path(L, idx, depth + 1);
                luaL_argerror(L, 1, lua_pushfstring(L, "element %s is a %s, expected a number",
                                                    path, luaL_typename(L, -2)));
            }
            *(*data)++ = (float)lua_tonumber(L, -1);
        }
        lua_pop(L, 1);
    }
}

/* siam.tensor(table): a tensor from a (nested) table of numbers. */
static int tensor_from_table(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    long long shape[MAXD];
    int ndim = nested_shape(L, 1, shape);
    siam_hosttensor *t = siam_lua_newtensor(L, ndim, shape);
    lua_Integer idx[MAXD];
    float *p = t->data;
    lua_pushvalue(L, 1);
    fill_nested(L, shape, ndim, 0, idx, &p);
    lua_pop(L, 1);
    return 1;
}

/* The shape given as zeros(2, 3) or zeros{2, 3}. */
static int shape_args(lua_State *L, long long *shape)
{
    int n;
    if (lua_type(L, 1) == LUA_TTABLE) {
        n = (int)luaL_len(L, 1);
        luaL_argcheck(L, n >= 1 && n <= MAXD, 1,
                      lua_pushfstring(L, "a shape has 1 to %d sizes, got %d", MAXD, n));
        for (int i = 0; i < n; i++) {
            lua_geti(L, 1, i + 1);
            int isint = 0;
            lua_Integer v = lua_tointegerx(L, -1, &isint);
            if (!isint || lua_type(L, -1) != LUA_TNUMBER)
                luaL_argerror(L, 1, lua_pushfstring(L, "size %d is not an integer", i + 1));
            luaL_argcheck(L, v >= 1, 1,
                          lua_pushfstring(L, "size %d is %I, expected at least 1", i + 1, v));
            shape[i] = (long long)v;
            lua_pop(L, 1);
        }
        return n;
    }
    n = lua_gettop(L);
    luaL_argcheck(L, n >= 1, 1, "shape expected");
    luaL_argcheck(L, n <= MAXD, MAXD + 1,
                  lua_pushfstring(L, "a shape has 1 to %d sizes", MAXD));
    for (int i = 0; i < n; i++) {
        lua_Integer v = luaL_checkinteger(L, i + 1);
        luaL_argcheck(L, v >= 1, i + 1,
                      lua_pushfstring(L, "size must be at least 1, got %I", v));
        shape[i] = (long long)v;
    }
    return n;
}

static int tensor_filled(lua_State *L, float value)
{
    long long shape[MAXD];
    int ndim = shape_args(L, shape);
    siam_hosttensor *t = siam_lua_newtensor(L, ndim, shape);
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = value;
    return 1;
}

static int tensor_zeros(lua_State *L)
{
    return tensor_filled(L, 0.0f);
}

static int tensor_ones(lua_State *L)
{
    return tensor_filled(L, 1.0f);
}

/* ---- element access ----------------------------------------------------- */

/* Flat offset of the `ndim` indices starting at stack index `first`. */
static size_t flat_offset(lua_State *L, const siam_hosttensor *t, int first, int given,
                          const char *fname)
{
    if (given != t->ndim)
        luaL_error(L, "%s: a %d-dimensional tensor takes %d ind%s, got %d", fname, t->ndim,
                   t->ndim, t->ndim == 1 ? "ex" : "ices", given);
    size_t off = 0;
    for (int d = 0; d < t->ndim; d++) {
        lua_Integer i = luaL_checkinteger(L, first + d);
        if (i < 1 || i > t->shape[d])
            luaL_argerror(L, first + d,
                          lua_pushfstring(L, "index %I out of range [1, %I] for dimension %d", i,
                                          (lua_Integer)t->shape[d], d + 1));
        off = off * (size_t)t->shape[d] + (size_t)(i - 1);
    }
    return off;
}

static int tensor_get(lua_State *L)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    size_t off = flat_offset(L, t, 2, lua_gettop(L) - 1, "get");
    lua_pushnumber(L, t->data[off]);
    return 1;
}

static int tensor_set(lua_State *L)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    int top = lua_gettop(L);
    lua_Number v = luaL_checknumber(L, top);
    size_t off = flat_offset(L, t, 2, top - 2, "set");
    t->data[off] = (float)v;
    lua_settop(L, 1);
    return 1; /* the tensor, so calls chain */
}

static int tensor_shape(lua_State *L)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    lua_createtable(L, t->ndim, 0);
    for (int d = 0; d < t->ndim; d++) {
        lua_pushinteger(L, (lua_Integer)t->shape[d]);
        lua_rawseti(L, -2, d + 1);
    }
    return 1;
}

static int tensor_dim(lua_State *L)
{
    lua_pushinteger(L, siam_lua_checktensor(L, 1)->ndim);
    return 1;
}

static int tensor_numel(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)siam_lua_checktensor(L, 1)->numel);
    return 1;
}

static void push_nested(lua_State *L, const siam_hosttensor *t, int depth, const float **p)
{
    lua_Integer n = (lua_Integer)t->shape[depth];
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (depth + 1 < t->ndim)
            push_nested(L, t, depth + 1, p);
        else
            lua_pushnumber(L, *(*p)++);
        lua_rawseti(L, -2, i);
    }
}

static int tensor_totable(lua_State *L)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    luaL_checkstack(L, t->ndim + 2, "tensor too deep");
    const float *p = t->data;
    push_nested(L, t, 0, &p);
    return 1;
}

/* t[i]: the value (1-D) or a copy of row i (more dimensions); other keys
 * are method names. */
static int tensor_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TNUMBER) {
        lua_pushvalue(L, 2);
        lua_gettable(L, lua_upvalueindex(1));
        return 1;
    }
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    int isint = 0;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    if (!isint)
        return luaL_error(L, "tensor index must be an integer, got %s", lua_tostring(L, 2));
    if (i < 1 || i > t->shape[0])
        return luaL_error(L, "index %I out of range [1, %I]", i, (lua_Integer)t->shape[0]);
    if (t->ndim == 1) {
        lua_pushnumber(L, t->data[i - 1]);
        return 1;
    }
    size_t row = t->numel / (size_t)t->shape[0];
    siam_hosttensor *r = siam_lua_newtensor(L, t->ndim - 1, t->shape + 1);
    memcpy(r->data, t->data + (size_t)(i - 1) * row, row * sizeof *r->data);
    return 1;
}

static int tensor_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)siam_lua_checktensor(L, 1)->shape[0]);
    return 1;
}

/* ---- reductions (accumulated in double) -------------------------------- */

static int tensor_sum(lua_State *L)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    double s = 0.0;
    for (size_t i = 0; i < t->numel; i++)
        s += t->data[i];
    lua_pushnumber(L, s);
    return 1;
}

static int tensor_mean(lua_State *L)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    double s = 0.0;
    for (size_t i = 0; i < t->numel; i++)
        s += t->data[i];
    lua_pushnumber(L, s / (double)t->numel);
    return 1;
}

/* max/min return the value and its 1-based flat position (first one on
 * ties). NaN values are skipped unless all are NaN. */
static int tensor_extreme(lua_State *L, int want_max)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    size_t best = 0;
    for (size_t i = 1; i < t->numel; i++) {
        float v = t->data[i], b = t->data[best];
        if (isnan(b) || (want_max ? v > b : v < b))
            best = isnan(v) ? best : i;
    }
    lua_pushnumber(L, t->data[best]);
    lua_pushinteger(L, (lua_Integer)best + 1);
    return 2;
}

static int tensor_max(lua_State *L)
{
    return tensor_extreme(L, 1);
}

static int tensor_min(lua_State *L)
{
    return tensor_extreme(L, 0);
}

/* The Euclidean (Frobenius) norm, sqrt(sum x^2). */
static int tensor_norm(lua_State *L)
{
    siam_hosttensor *t = siam_lua_checktensor(L, 1);
    double s = 0.0;
    for (size_t i = 0; i < t->numel; i++)
        s += (double)t->data[i] * t->data[i];
    lua_pushnumber(L, sqrt(s));
    return 1;
}

/* ---- elementwise ---------------------------------------------------------- */

typedef enum { OP_ADD, OP_SUB, OP_MUL } elementwise_op;

static float apply(elementwise_op op, float a, float b)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    default: return a * b;
    }
}

/* New tensor = a op b, where a or b (not both) may be a number; ib
 * is the argument that a shape mismatch is blamed on. */
static int elementwise(lua_State *L, elementwise_op op, int ia, int ib)
{
    int a_num = lua_type(L, ia) == LUA_TNUMBER, b_num = lua_type(L, ib) == LUA_TNUMBER;
    siam_hosttensor *a = a_num ? NULL : siam_lua_checktensor(L, ia);
    siam_hosttensor *b = b_num ? NULL : siam_lua_checktensor(L, ib);
    const siam_hosttensor *like = a ? a : b;
    if (a != NULL && b != NULL) {
        int same = a->ndim == b->ndim;
        for (int d = 0; same && d < a->ndim; d++)
            same = a->shape[d] == b->shape[d];
        if (!same) {
            char sa[128], sb[128];
            siam_hosttensor_shape_string(a, sa, sizeof sa);
            siam_hosttensor_shape_string(b, sb, sizeof sb);
            return luaL_argerror(L, ib, lua_pushfstring(L, "shape mismatch: %s and %s", sa, sb));
        }
    }
    float sa = a_num ? (float)lua_tonumber(L, ia) : 0.0f;
    float sb = b_num ? (float)lua_tonumber(L, ib) : 0.0f;
    siam_hosttensor *r = siam_lua_newtensor(L, like->ndim, like->shape);
    for (size_t i = 0; i < r->numel; i++)
        r->data[i] = apply(op, a ? a->data[i] : sa, b ? b->data[i] : sb);
    return 1;
}

/* Methods take a tensor or a number as the other operand. */
static int method_operand(lua_State *L)
{
    siam_lua_checktensor(L, 1);
    if (lua_type(L, 2) != LUA_TNUMBER)
        siam_lua_checktensor(L, 2);
    return 0;
}

static int tensor_add(lua_State *L)
{
    method_operand(L);
    return elementwise(L, OP_ADD, 1, 2);
}

static int tensor_sub(lua_State *L)
{
    method_operand(L);
    return elementwise(L, OP_SUB, 1, 2);
}

static int tensor_mul(lua_State *L)
{
    method_operand(L);
    return elementwise(L, OP_MUL, 1, 2);
}

static int tensor_scale(lua_State *L)
{
    siam_lua_checktensor(L, 1);
    luaL_checknumber(L, 2);
    return elementwise(L, OP_MUL, 1, 2);
}

/* Operators: `t + u`, `2 * t`, `t - 1`, `-t`. */
static int tensor_op_add(lua_State *L)
{
    return elementwise(L, OP_ADD, 1, 2);
}

static int tensor_op_sub(lua_State *L)
{
    return elementwise(L, OP_SUB, 1, 2);
}

static int tensor_op_mul(lua_State *L)
{
    return elementwise(L, OP_MUL, 1, 2);
}

static int tensor_op_unm(lua_State *L)
{
    lua_settop(L, 1);
    lua_pushnumber(L, -1.0);
    return elementwise(L, OP_MUL, 1, 2);
}

/* ---- lifetime and printing ------------------------------------------------ */

static int tensor_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_TENSOR_MT);
    siam_hosttensor_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

static int tensor_tostring(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_TENSOR_MT);
    const siam_hosttensor *t = box->ptr;
    if (t == NULL) {
        lua_pushliteral(L, SIAM_TENSOR_MT " (closed)");
        return 1;
    }
    char shape[128];
    siam_hosttensor_shape_string(t, shape, sizeof shape);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_pushfstring(L, SIAM_TENSOR_MT " %s {", shape);
    luaL_addvalue(&b);
    size_t shown = t->numel < SHOW_VALUES ? t->numel : SHOW_VALUES;
    for (size_t i = 0; i < shown; i++) {
        char num[32];
        snprintf(num, sizeof num, "%s%.6g", i ? ", " : "", (double)t->data[i]);
        luaL_addstring(&b, num);
    }
    if (shown < t->numel) {
        lua_pushfstring(L, ", ... (%I values)", (lua_Integer)t->numel);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '}');
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg tensor_methods[] = {
    {"shape", tensor_shape},   {"dim", tensor_dim},     {"numel", tensor_numel},
    {"get", tensor_get},       {"set", tensor_set},     {"totable", tensor_totable},
    {"sum", tensor_sum},       {"mean", tensor_mean},   {"max", tensor_max},
    {"min", tensor_min},       {"norm", tensor_norm},   {"add", tensor_add},
    {"sub", tensor_sub},       {"mul", tensor_mul},     {"scale", tensor_scale},
    {NULL, NULL},
};

static const luaL_Reg tensor_metamethods[] = {
    {"__index", tensor_index}, {"__len", tensor_len},       {"__tostring", tensor_tostring},
    {"__gc", tensor_gc},       {"__close", tensor_gc},      {"__add", tensor_op_add},
    {"__sub", tensor_op_sub},  {"__mul", tensor_op_mul},    {"__unm", tensor_op_unm},
    {NULL, NULL},
};

static const luaL_Reg tensor_functions[] = {
    {"tensor", tensor_from_table},
    {"zeros", tensor_zeros},
    {"ones", tensor_ones},
    {NULL, NULL},
};

void siam_lua_open_tensor(lua_State *L)
{
    siam_lua_newclass(L, SIAM_TENSOR_MT, tensor_methods, tensor_metamethods);
    luaL_setfuncs(L, tensor_functions, 0);
}
