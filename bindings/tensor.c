/* siam.Tensor: creation from Lua tables, element access and a few
 * reductions and elementwise operations, for inspecting what the C side
 * computes. Not a general tensor library: heavy work stays in kernels/. */
#include "bindings/tensor.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bindings/context.h"

#define MAXD SIAM_TENSOR_MAX_DIMS
/* How many values __tostring shows before "...". */
#define SHOW_VALUES 8

siam_tensor *siam_lua_checktensor(lua_State *L, int arg)
{
    return siam_lua_checkobj(L, arg, SIAM_TENSOR_MT);
}

siam_lua_box *siam_lua_newtensorbox(lua_State *L, int owner)
{
    owner = lua_absindex(L, owner);
    siam_lua_box *box = siam_lua_newbox(L, SIAM_TENSOR_MT);
    siam_lua_setowner(L, -1, owner);
    return box;
}

siam_tensor *siam_lua_newtensor(lua_State *L, int context, int ndim, const int *shape)
{
    siam_lua_context *c = siam_lua_checkcontext(L, context);
    siam_lua_box *box = siam_lua_newtensorbox(L, context);
    siam_error err;
    siam_tensor *t = siam_tensor_new(c->ops, c->ctx, ndim, shape, &err);
    if (t == NULL)
        siam_lua_error(L, &err);
    box->ptr = t;
    return t;
}

/* A new zero tensor with the same context (owner) as the tensor at `like`. */
static siam_tensor *new_like(lua_State *L, int like, int ndim, const int *shape)
{
    lua_getiuservalue(L, like, 1);
    siam_tensor *t = siam_lua_newtensor(L, -1, ndim, shape);
    lua_remove(L, -2);
    return t;
}

/* The values of t readable on the host: the data itself on the CPU, else a
 * copy in a temporary userdata left on the stack (collected like any other,
 * so an error leaks nothing). */
static const float *host_values(lua_State *L, const siam_tensor *t)
{
    if (t->device == SIAM_DEVICE_CPU)
        return t->data;
    size_t n = siam_tensor_numel(t);
    float *copy = lua_newuserdatauv(L, n * sizeof *copy, 0);
    siam_error err;
    if (siam_tensor_download(t, copy, n, &err) != 0)
        siam_lua_error(L, &err);
    return copy;
}

/* Somewhere to write all of t's values on the host: the data itself on the
 * CPU, else a temporary userdata; commit_values then uploads it. */
static float *host_buffer(lua_State *L, const siam_tensor *t)
{
    if (t->device == SIAM_DEVICE_CPU)
        return t->data;
    return lua_newuserdatauv(L, siam_tensor_numel(t) * sizeof(float), 0);
}

static void commit_values(lua_State *L, siam_tensor *t, const float *buf)
{
    siam_error err;
    if (buf != t->data && siam_tensor_upload(t, buf, siam_tensor_numel(t), &err) != 0)
        siam_lua_error(L, &err);
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

/* Shape of a nested table: follow first elements down to a number. */
static int nested_shape(lua_State *L, int tab, int *shape)
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
        if (n > INT_MAX)
            luaL_argerror(L, 1, "table too long for a tensor");
        shape[ndim] = (int)n;
        idx[ndim++] = 1;
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return ndim;
}

/* Copies the nested table on the top of the stack (level `depth`) into
 * data, in row-major order, checking that it is rectangular. */
static void fill_nested(lua_State *L, const int *shape, int ndim, int depth, lua_Integer *idx,
                        float **data)
{
    lua_Unsigned n = lua_rawlen(L, -1);
    if (n != (lua_Unsigned)shape[depth]) {
        const char *path = push_path(L, idx, depth);
        luaL_argerror(L, 1, lua_pushfstring(L, "ragged table: element %s has %I value%s, "
                                            "expected %d", path, (lua_Integer)n,
                                            n == 1 ? "" : "s", shape[depth]));
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

/* siam.tensor(table): a CPU tensor from a (nested) table of numbers. */
static int tensor_from_table(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int shape[MAXD];
    int ndim = nested_shape(L, 1, shape);
    siam_lua_cpu_context(L);
    siam_tensor *t = siam_lua_newtensor(L, -1, ndim, shape);
    int result = lua_gettop(L);
    float *buf = host_buffer(L, t);
    float *p = buf;
    lua_Integer idx[MAXD];
    lua_pushvalue(L, 1);
    fill_nested(L, shape, ndim, 0, idx, &p);
    lua_pop(L, 1);
    commit_values(L, t, buf);
    lua_settop(L, result);
    return 1;
}

static int check_size(lua_State *L, int arg, lua_Integer v, const char *what)
{
    if (v < 1 || v > INT_MAX)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s must be in [1, %d], got %I", what, INT_MAX,
                                              v));
    return (int)v;
}

/* The shape given as zeros(2, 3) or zeros{2, 3}. */
static int shape_args(lua_State *L, int *shape)
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
            shape[i] = check_size(L, 1, v, lua_pushfstring(L, "size %d", i + 1));
            lua_pop(L, 2);
        }
        return n;
    }
    n = lua_gettop(L);
    luaL_argcheck(L, n >= 1, 1, "shape expected");
    luaL_argcheck(L, n <= MAXD, MAXD + 1, lua_pushfstring(L, "a shape has 1 to %d sizes", MAXD));
    for (int i = 0; i < n; i++)
        shape[i] = check_size(L, i + 1, luaL_checkinteger(L, i + 1), "size");
    return n;
}

static int tensor_filled(lua_State *L, float value)
{
    int shape[MAXD];
    int ndim = shape_args(L, shape);
    siam_lua_context *c = siam_lua_cpu_context(L);
    siam_tensor *t = siam_lua_newtensor(L, -1, ndim, shape);
    if (value != 0.0f && c->ops->fill(c->ctx, t->data, value, siam_tensor_numel(t)) != 0)
        return luaL_error(L, "%s", c->ops->ctx_error(c->ctx));
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

/* Flat offset of the indices starting at stack index `first`. */
static size_t flat_offset(lua_State *L, const siam_tensor *t, int first, int given,
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
                          lua_pushfstring(L, "index %I out of range [1, %d] for dimension %d", i,
                                          t->shape[d], d + 1));
        off = off * (size_t)t->shape[d] + (size_t)(i - 1);
    }
    return off;
}

static float read_one(lua_State *L, const siam_tensor *t, size_t off)
{
    float v;
    if (t->ops->download(t->ctx, &v, t->data + off, sizeof v) != 0)
        luaL_error(L, "%s", t->ops->ctx_error(t->ctx));
    return v;
}

static int tensor_get(lua_State *L)
{
    siam_tensor *t = siam_lua_checktensor(L, 1);
    size_t off = flat_offset(L, t, 2, lua_gettop(L) - 1, "get");
    lua_pushnumber(L, read_one(L, t, off));
    return 1;
}

static int tensor_set(lua_State *L)
{
    siam_tensor *t = siam_lua_checktensor(L, 1);
    int top = lua_gettop(L);
    float v = (float)luaL_checknumber(L, top);
    size_t off = flat_offset(L, t, 2, top - 2, "set");
    if (t->ops->upload(t->ctx, t->data + off, &v, sizeof v) != 0)
        return luaL_error(L, "%s", t->ops->ctx_error(t->ctx));
    lua_settop(L, 1);
    return 1; /* the tensor, so calls chain */
}

static int tensor_shape(lua_State *L)
{
    siam_tensor *t = siam_lua_checktensor(L, 1);
    lua_createtable(L, t->ndim, 0);
    for (int d = 0; d < t->ndim; d++) {
        lua_pushinteger(L, t->shape[d]);
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
    lua_pushinteger(L, (lua_Integer)siam_tensor_numel(siam_lua_checktensor(L, 1)));
    return 1;
}

static int tensor_device(lua_State *L)
{
    lua_pushstring(L, siam_lua_checktensor(L, 1)->ops->name);
    return 1;
}

static void push_nested(lua_State *L, const siam_tensor *t, int depth, const float **p)
{
    int n = t->shape[depth];
    lua_createtable(L, n, 0);
    for (int i = 1; i <= n; i++) {
        if (depth + 1 < t->ndim)
            push_nested(L, t, depth + 1, p);
        else
            lua_pushnumber(L, *(*p)++);
        lua_rawseti(L, -2, i);
    }
}

static int tensor_totable(lua_State *L)
{
    siam_tensor *t = siam_lua_checktensor(L, 1);
    const float *p = host_values(L, t);
    luaL_checkstack(L, t->ndim + 2, "tensor too deep");
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
    siam_tensor *t = siam_lua_checktensor(L, 1);
    int isint = 0;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    if (!isint)
        return luaL_error(L, "tensor index must be an integer, got %s", lua_tostring(L, 2));
    if (i < 1 || i > t->shape[0])
        return luaL_error(L, "index %I out of range [1, %d]", i, t->shape[0]);
    if (t->ndim == 1) {
        lua_pushnumber(L, read_one(L, t, (size_t)(i - 1)));
        return 1;
    }
    size_t row = siam_tensor_numel(t) / (size_t)t->shape[0];
    siam_tensor *r = new_like(L, 1, t->ndim - 1, t->shape + 1);
    if (t->ops->copy(t->ctx, r->data, t->data + (size_t)(i - 1) * row, row * sizeof(float)) != 0)
        return luaL_error(L, "%s", t->ops->ctx_error(t->ctx));
    return 1;
}

static int tensor_len(lua_State *L)
{
    lua_pushinteger(L, siam_lua_checktensor(L, 1)->shape[0]);
    return 1;
}

/* ---- reductions (accumulated in double) -------------------------------- */

/* The sum of the values of the tensor at argument 1; *numel gets their count. */
static double values_sum(lua_State *L, size_t *numel)
{
    siam_tensor *t = siam_lua_checktensor(L, 1);
    const float *x = host_values(L, t);
    size_t n = siam_tensor_numel(t);
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *numel = n;
    return s;
}

static int tensor_sum(lua_State *L)
{
    size_t n;
    lua_pushnumber(L, values_sum(L, &n));
    return 1;
}

static int tensor_mean(lua_State *L)
{
    size_t n;
    double s = values_sum(L, &n);
    lua_pushnumber(L, s / (double)n);
    return 1;
}

/* max/min return the value and its 1-based flat position (first one on
 * ties). NaN values are skipped unless all are NaN. */
static int tensor_extreme(lua_State *L, int want_max)
{
    siam_tensor *t = siam_lua_checktensor(L, 1);
    const float *x = host_values(L, t);
    size_t n = siam_tensor_numel(t);
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        float v = x[i], b = x[best];
        if (isnan(b) || (want_max ? v > b : v < b))
            best = isnan(v) ? best : i;
    }
    lua_pushnumber(L, x[best]);
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
    siam_tensor *t = siam_lua_checktensor(L, 1);
    const float *x = host_values(L, t);
    size_t n = siam_tensor_numel(t);
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
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

/* New tensor = a op b, where a or b (not both) may be a number; ib is the
 * argument that a shape mismatch is blamed on. Computed on the host (this
 * is for inspection); the result lives where the first tensor operand does. */
static int elementwise(lua_State *L, elementwise_op op, int ia, int ib)
{
    int a_num = lua_type(L, ia) == LUA_TNUMBER, b_num = lua_type(L, ib) == LUA_TNUMBER;
    siam_tensor *a = a_num ? NULL : siam_lua_checktensor(L, ia);
    siam_tensor *b = b_num ? NULL : siam_lua_checktensor(L, ib);
    if (a != NULL && b != NULL && !siam_tensor_same_shape(a, b)) {
        char sa[64], sb[64];
        return luaL_argerror(L, ib, lua_pushfstring(L, "shape mismatch: %s and %s",
                                                    siam_tensor_shape_str(a, sa, sizeof sa),
                                                    siam_tensor_shape_str(b, sb, sizeof sb)));
    }
    float sa = a_num ? (float)lua_tonumber(L, ia) : 0.0f;
    float sb = b_num ? (float)lua_tonumber(L, ib) : 0.0f;
    const float *xa = a ? host_values(L, a) : NULL;
    const float *xb = b ? host_values(L, b) : NULL;
    const siam_tensor *like = a ? a : b;
    siam_tensor *r = new_like(L, a ? ia : ib, like->ndim, like->shape);
    int result = lua_gettop(L);
    float *out = host_buffer(L, r);
    size_t n = siam_tensor_numel(r);
    for (size_t i = 0; i < n; i++)
        out[i] = apply(op, xa ? xa[i] : sa, xb ? xb[i] : sb);
    commit_values(L, r, out);
    lua_settop(L, result);
    return 1;
}

/* Methods take a tensor or a number as the other operand. */
static void method_operand(lua_State *L)
{
    siam_lua_checktensor(L, 1);
    if (lua_type(L, 2) != LUA_TNUMBER)
        siam_lua_checktensor(L, 2);
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
    siam_tensor_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

static int tensor_tostring(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_TENSOR_MT);
    const siam_tensor *t = box->ptr;
    if (t == NULL) {
        lua_pushliteral(L, SIAM_TENSOR_MT " (closed)");
        return 1;
    }
    size_t n = siam_tensor_numel(t);
    size_t shown = n < SHOW_VALUES ? n : SHOW_VALUES;
    float head[SHOW_VALUES];
    if (t->ops->download(t->ctx, head, t->data, shown * sizeof *head) != 0)
        return luaL_error(L, "%s", t->ops->ctx_error(t->ctx));
    char shape[64];
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_pushfstring(L, SIAM_TENSOR_MT "%s%s %s {", t->device == SIAM_DEVICE_CPU ? "" : " ",
                    t->device == SIAM_DEVICE_CPU ? "" : t->ops->name,
                    siam_tensor_shape_str(t, shape, sizeof shape));
    luaL_addvalue(&b);
    for (size_t i = 0; i < shown; i++) {
        char num[32];
        snprintf(num, sizeof num, "%s%.6g", i ? ", " : "", (double)head[i]);
        luaL_addstring(&b, num);
    }
    if (shown < n) {
        lua_pushfstring(L, ", ... (%I values)", (lua_Integer)n);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '}');
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg tensor_methods[] = {
    {"shape", tensor_shape}, {"dim", tensor_dim},         {"numel", tensor_numel},
    {"get", tensor_get},     {"set", tensor_set},         {"totable", tensor_totable},
    {"sum", tensor_sum},     {"mean", tensor_mean},       {"max", tensor_max},
    {"min", tensor_min},     {"norm", tensor_norm},       {"add", tensor_add},
    {"sub", tensor_sub},     {"mul", tensor_mul},         {"scale", tensor_scale},
    {"device", tensor_device}, {NULL, NULL},
};

static const luaL_Reg tensor_metamethods[] = {
    {"__index", tensor_index}, {"__len", tensor_len},    {"__tostring", tensor_tostring},
    {"__gc", tensor_gc},       {"__close", tensor_gc},   {"__add", tensor_op_add},
    {"__sub", tensor_op_sub},  {"__mul", tensor_op_mul}, {"__unm", tensor_op_unm},
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
