/* siam.io, pictures part: gnuplot plots (siam.Plotter), TensorBoard event
 * files (siam.TFEvents) and the image sheet of face pairs. Scratch arrays are
 * Lua userdata, so an argument error half-way leaks nothing. */
#include "bindings/runio.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/pairset.h"
#include "bindings/tensor.h"
#include "bindings/util.h"
#include "host/image_sheet.h"
#include "host/pairset_sheet.h"
#include "host/plot.h"
#include "host/png.h"
#include "host/tfevents.h"

/* Registry key: set once the "gnuplot not found" notice has been printed,
 * so a process (one Lua state) says it once however many plotters it makes. */
#define NOTICE_SAID_KEY "siam.io.gnuplot_notice_said"

/* The numbers of the list at `arg` as a scratch double array of length
 * *n (pushed on the stack as a userdata). `want` >= 0 requires that length. */
static double *check_numbers(lua_State *L, int arg, lua_Integer want, size_t *n)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_Integer len = luaL_len(L, arg);
    if (want >= 0 && len != want)
        luaL_error(L, "bad argument #%d (list of %d numbers expected, got %d)", arg, (int)want,
                   (int)len);
    double *v = lua_newuserdatauv(L, (size_t)(len > 0 ? len : 1) * sizeof *v, 0);
    for (lua_Integer i = 1; i <= len; i++) {
        int t = lua_geti(L, arg, i);
        if (t == LUA_TNIL)
            v[i - 1] = NAN; /* a value not measured */
        else if (t == LUA_TNUMBER)
            v[i - 1] = lua_tonumber(L, -1);
        else
            luaL_error(L, "bad argument #%d (item %d must be a number, got %s)", arg, (int)i,
                       luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    *n = (size_t)len;
    return v;
}

/* ---- siam.Plotter ---- */

static int plotter_new(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    siam_lua_box *box = siam_lua_newbox(L, SIAM_PLOTTER_MT);
    siam_error err;
    box->ptr = siam_plotter_new(dir, &err);
    if (box->ptr == NULL) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    return 1;
}

static int plotter_has_gnuplot(lua_State *L)
{
    siam_plotter *p = siam_lua_checkobj(L, 1, SIAM_PLOTTER_MT);
    lua_pushboolean(L, siam_plotter_has_gnuplot(p));
    return 1;
}

/* Turns a plot status into the Lua result: "drawn" or "skipped", plus, the
 * first time in this process that a plot is skipped, the notice, printed on
 * stderr and returned as a second value for the run's log. */
static int plot_result(lua_State *L, siam_plotter *p, int rc, const siam_error *err)
{
    if (rc < 0)
        return siam_lua_error(L, err);
    if (rc == 0) {
        lua_pushliteral(L, "drawn");
        return 1;
    }
    lua_pushliteral(L, "skipped");
    const char *notice = siam_plotter_take_notice(p);
    if (notice == NULL)
        return 1;
    lua_getfield(L, LUA_REGISTRYINDEX, NOTICE_SAID_KEY);
    int said = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (said)
        return 1;
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, NOTICE_SAID_KEY);
    fprintf(stderr, "siamlua: %s\n", notice);
    fflush(stderr);
    lua_pushstring(L, notice);
    return 2;
}

/* p:training(dir, name, title, rows[, {loss=, best_epoch=}]) with rows a
 * list of {epoch=, train_loss=, val_loss=, train_acc=, val_acc=} (missing
 * fields: NaN); loss labels the loss axis, best_epoch is marked. */
static int plotter_training(lua_State *L)
{
    siam_plotter *p = siam_lua_checkobj(L, 1, SIAM_PLOTTER_MT);
    const char *dir = luaL_checkstring(L, 2);
    const char *name = luaL_checkstring(L, 3);
    const char *title = luaL_checkstring(L, 4);
    luaL_checktype(L, 5, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 5);
    siam_plot_epoch *rows = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *rows, 0);
    static const char *const keys[] = {"epoch", "train_loss", "val_loss", "train_acc", "val_acc"};
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 5, i) != LUA_TTABLE)
            return luaL_error(L, "bad argument #5 to 'training' (row %d must be a table, got %s)",
                              (int)i, luaL_typename(L, -1));
        double v[5];
        for (int k = 0; k < 5; k++) {
            int t = lua_getfield(L, -1, keys[k]);
            if (t != LUA_TNIL && t != LUA_TNUMBER)
                return luaL_error(L, "bad argument #5 to 'training' (row %d: %s must be a "
                                  "number, got %s)", (int)i, keys[k], luaL_typename(L, -1));
            v[k] = t == LUA_TNUMBER ? lua_tonumber(L, -1) : (k == 0 ? (double)i : NAN);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        rows[i - 1] = (siam_plot_epoch){v[0], v[1], v[2], v[3], v[4]};
    }
    siam_plot_training_marks marks = {NULL, NAN};
    if (!lua_isnoneornil(L, 6)) {
        static const char *const keys[] = {"loss", "best_epoch", NULL};
        siam_lua_opts_check(L, 6, keys);
        marks.loss_label = siam_lua_opt_string(L, 6, "loss", NULL); /* the table keeps it */
        marks.best_epoch = siam_lua_opt_number(L, 6, "best_epoch", NAN);
    }
    siam_error err;
    int rc = siam_plot_training(p, dir, name, title, rows, (size_t)n, &marks, &err);
    return plot_result(L, p, rc, &err);
}

/* p:confusion(dir, name, title, {tp=, fp=, tn=, fn=}) */
static int plotter_confusion(lua_State *L)
{
    siam_plotter *p = siam_lua_checkobj(L, 1, SIAM_PLOTTER_MT);
    const char *dir = luaL_checkstring(L, 2);
    const char *name = luaL_checkstring(L, 3);
    const char *title = luaL_checkstring(L, 4);
    luaL_checktype(L, 5, LUA_TTABLE);
    static const char *const keys[] = {"tp", "fp", "tn", "fn"};
    long c[4];
    for (int k = 0; k < 4; k++) {
        lua_getfield(L, 5, keys[k]);
        int ok;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < 0)
            return luaL_error(L, "bad argument #5 to 'confusion' (%s must be a count >= 0, "
                              "got %s)", keys[k], luaL_tolstring(L, -1, NULL));
        c[k] = (long)v;
        lua_pop(L, 1);
    }
    siam_error err;
    int rc = siam_plot_confusion(p, dir, name, title, c[0], c[1], c[2], c[3], &err);
    return plot_result(L, p, rc, &err);
}

/* p:roc(dir, name, title, fpr, tpr, auc) */
static int plotter_roc(lua_State *L)
{
    siam_plotter *p = siam_lua_checkobj(L, 1, SIAM_PLOTTER_MT);
    const char *dir = luaL_checkstring(L, 2);
    const char *name = luaL_checkstring(L, 3);
    const char *title = luaL_checkstring(L, 4);
    lua_Number auc = luaL_checknumber(L, 7);
    size_t n, m;
    double *fpr = check_numbers(L, 5, -1, &n);
    double *tpr = check_numbers(L, 6, (lua_Integer)n, &m);
    siam_error err;
    int rc = siam_plot_roc(p, dir, name, title, fpr, tpr, n, auc, &err);
    return plot_result(L, p, rc, &err);
}

/* p:grid(dir, name, title, labels, val_acc, test_acc, train_seconds) */
static int plotter_grid(lua_State *L)
{
    siam_plotter *p = siam_lua_checkobj(L, 1, SIAM_PLOTTER_MT);
    const char *dir = luaL_checkstring(L, 2);
    const char *name = luaL_checkstring(L, 3);
    const char *title = luaL_checkstring(L, 4);
    luaL_checktype(L, 5, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 5);
    const char **labels = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *labels, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        /* Only real strings: their text stays alive in the caller's table. */
        if (lua_geti(L, 5, i) != LUA_TSTRING)
            return luaL_error(L, "bad argument #5 to 'grid' (label %d must be a string, got %s)",
                              (int)i, luaL_typename(L, -1));
        labels[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    size_t m;
    double *val = check_numbers(L, 6, n, &m);
    double *test = check_numbers(L, 7, n, &m);
    double *secs = check_numbers(L, 8, n, &m);
    siam_error err;
    int rc = siam_plot_grid(p, dir, name, title, labels, val, test, secs, (size_t)n, &err);
    return plot_result(L, p, rc, &err);
}

/* p:sweep(dir, name, title, param, x, val_acc, test_acc [, logx]) */
static int plotter_sweep(lua_State *L)
{
    siam_plotter *p = siam_lua_checkobj(L, 1, SIAM_PLOTTER_MT);
    const char *dir = luaL_checkstring(L, 2);
    const char *name = luaL_checkstring(L, 3);
    const char *title = luaL_checkstring(L, 4);
    const char *param = luaL_checkstring(L, 5);
    int logx = lua_toboolean(L, 9);
    size_t n, m;
    double *x = check_numbers(L, 6, -1, &n);
    double *val = check_numbers(L, 7, (lua_Integer)n, &m);
    double *test = check_numbers(L, 8, (lua_Integer)n, &m);
    siam_error err;
    int rc = siam_plot_sweep(p, dir, name, title, param, x, val, test, n, logx, &err);
    return plot_result(L, p, rc, &err);
}

/* p:runs(dir, name, title, metric, series) with series a list of {label=,
 * epochs={...}, values={...}} (values nil where not measured). */
static int plotter_runs(lua_State *L)
{
    siam_plotter *p = siam_lua_checkobj(L, 1, SIAM_PLOTTER_MT);
    const char *dir = luaL_checkstring(L, 2);
    const char *name = luaL_checkstring(L, 3);
    const char *title = luaL_checkstring(L, 4);
    const char *metric = luaL_checkstring(L, 5);
    luaL_checktype(L, 6, LUA_TTABLE);
    lua_settop(L, 6);
    lua_Integer n = luaL_len(L, 6);
    siam_plot_series *s = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *s, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 6, i) != LUA_TTABLE)
            return luaL_error(L, "bad argument #6 to 'runs' (series %d must be a table, got %s)",
                              (int)i, luaL_typename(L, -1));
        int t = lua_gettop(L);
        if (lua_getfield(L, t, "label") != LUA_TSTRING)
            return luaL_error(L, "bad argument #6 to 'runs' (series %d: label must be a string)",
                              (int)i);
        s[i - 1].label = lua_tostring(L, -1); /* the caller's table keeps it */
        lua_getfield(L, t, "epochs");
        lua_getfield(L, t, "values");
        if (!lua_istable(L, -2) || !lua_istable(L, -1))
            return luaL_error(L, "bad argument #6 to 'runs' (series %d: epochs and values must "
                              "be lists)", (int)i);
        size_t ne, nv;
        s[i - 1].epoch = check_numbers(L, t + 2, -1, &ne);
        s[i - 1].value = check_numbers(L, t + 3, (lua_Integer)ne, &nv);
        s[i - 1].n = ne;
        /* Only the two scratch arrays stay on the stack (the label lives in
         * the caller's table). */
        lua_rotate(L, t, 2);
        lua_settop(L, t + 1);
        luaL_checkstack(L, 8, "too many series");
    }
    siam_error err;
    int rc = siam_plot_runs(p, dir, name, title, metric, s, (size_t)n, &err);
    return plot_result(L, p, rc, &err);
}

static int plotter_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_PLOTTER_MT);
    siam_plotter_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

static const luaL_Reg plotter_methods[] = {
    {"has_gnuplot", plotter_has_gnuplot},
    {"training", plotter_training},
    {"confusion", plotter_confusion},
    {"roc", plotter_roc},
    {"grid", plotter_grid},
    {"sweep", plotter_sweep},
    {"runs", plotter_runs},
    {"close", plotter_gc},
    {NULL, NULL},
};
static const luaL_Reg plotter_meta[] = {
    {"__gc", plotter_gc}, {"__close", plotter_gc}, {NULL, NULL},
};

/* ---- siam.TFEvents ---- */

/* siam.io.tfevents(dir) -> writer | nil, message */
static int tfevents_open(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    siam_lua_box *box = siam_lua_newbox(L, SIAM_TFEVENTS_MT);
    siam_error err;
    box->ptr = siam_tfevents_open(dir, &err);
    if (box->ptr == NULL) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    return 1;
}

static int tfevents_path(lua_State *L)
{
    siam_tfevents *w = siam_lua_checkobj(L, 1, SIAM_TFEVENTS_MT);
    lua_pushstring(L, siam_tfevents_path(w));
    return 1;
}

static int tfevents_scalar(lua_State *L)
{
    siam_tfevents *w = siam_lua_checkobj(L, 1, SIAM_TFEVENTS_MT);
    const char *tag = luaL_checkstring(L, 2);
    lua_Integer step = luaL_checkinteger(L, 3);
    lua_Number value = luaL_checknumber(L, 4);
    siam_error err;
    if (siam_tfevents_scalar(w, tag, (int64_t)step, value, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

/* w:histogram(tag, step, values) with values a list of numbers or a
 * siam.Tensor (downloaded from its device). */
static int tfevents_histogram(lua_State *L)
{
    siam_tfevents *w = siam_lua_checkobj(L, 1, SIAM_TFEVENTS_MT);
    const char *tag = luaL_checkstring(L, 2);
    lua_Integer step = luaL_checkinteger(L, 3);
    siam_error err;
    float *v;
    size_t n;
    if (lua_type(L, 4) == LUA_TUSERDATA) {
        siam_tensor *t = siam_lua_checktensor(L, 4);
        n = siam_tensor_numel(t);
        v = lua_newuserdatauv(L, (n > 0 ? n : 1) * sizeof *v, 0);
        if (siam_tensor_download(t, v, n, &err) != 0)
            return siam_lua_error(L, &err);
    } else {
        double *d = check_numbers(L, 4, -1, &n);
        v = lua_newuserdatauv(L, (n > 0 ? n : 1) * sizeof *v, 0);
        for (size_t i = 0; i < n; i++)
            v[i] = (float)d[i];
    }
    if (siam_tfevents_histogram(w, tag, (int64_t)step, v, n, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

/* w:image(tag, step, png_bytes, height, width, channels) */
static int tfevents_image(lua_State *L)
{
    siam_tfevents *w = siam_lua_checkobj(L, 1, SIAM_TFEVENTS_MT);
    const char *tag = luaL_checkstring(L, 2);
    lua_Integer step = luaL_checkinteger(L, 3);
    size_t size;
    const char *png = luaL_checklstring(L, 4, &size);
    lua_Integer h = luaL_checkinteger(L, 5), wd = luaL_checkinteger(L, 6);
    lua_Integer c = luaL_checkinteger(L, 7);
    luaL_argcheck(L, h >= 1 && h <= 1 << 20, 5, "height must be in 1..1048576");
    luaL_argcheck(L, wd >= 1 && wd <= 1 << 20, 6, "width must be in 1..1048576");
    luaL_argcheck(L, c >= 1 && c <= 4, 7, "channels must be 1, 2, 3 or 4");
    siam_error err;
    if (siam_tfevents_image(w, tag, (int64_t)step, png, size, (int)h, (int)wd, (int)c, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

static int tfevents_flush(lua_State *L)
{
    siam_tfevents *w = siam_lua_checkobj(L, 1, SIAM_TFEVENTS_MT);
    siam_error err;
    if (siam_tfevents_flush(w, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

/* w:close() reports a failed final flush; __gc closes quietly. */
static int tfevents_close(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_TFEVENTS_MT);
    siam_tfevents *w = box->ptr;
    box->ptr = NULL;
    siam_error err;
    if (w != NULL && siam_tfevents_close(w, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

static int tfevents_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_TFEVENTS_MT);
    siam_tfevents_close(box->ptr, NULL);
    box->ptr = NULL;
    return 0;
}

static const luaL_Reg tfevents_methods[] = {
    {"path", tfevents_path},
    {"scalar", tfevents_scalar},
    {"histogram", tfevents_histogram},
    {"image", tfevents_image},
    {"flush", tfevents_flush},
    {"close", tfevents_close},
    {NULL, NULL},
};
static const luaL_Reg tfevents_meta[] = {
    {"__gc", tfevents_gc}, {"__close", tfevents_gc}, {NULL, NULL},
};

/* ---- image sheet ---- */

/* siam.io.image_sheet(path, rows, height, width[, title]): rows is a list of
 * {label=, pairs={{a=bytes, b=bytes, prob=}, ...}} with every row holding
 * the same number of cells (a cell may be false: left blank). The faces are
 * strings of height*width grey bytes. */
static int io_image_sheet(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer h = luaL_checkinteger(L, 3), w = luaL_checkinteger(L, 4);
    luaL_argcheck(L, h >= 1 && h <= 4096, 3, "height must be in 1..4096");
    luaL_argcheck(L, w >= 1 && w <= 4096, 4, "width must be in 1..4096");
    const char *title = luaL_optstring(L, 5, NULL);
    lua_settop(L, 5); /* scratch arrays go above the title */
    lua_Integer rows = luaL_len(L, 2);
    luaL_argcheck(L, rows >= 1 && rows <= 1024, 2, "need 1..1024 rows");
    lua_Integer cols = -1;
    const char **labels = lua_newuserdatauv(L, (size_t)rows * sizeof *labels, 0);
    siam_sheet_pair *pairs = NULL;
    for (lua_Integer r = 1; r <= rows; r++) {
        if (lua_geti(L, 2, r) != LUA_TTABLE)
            return luaL_error(L, "bad argument #2 to 'image_sheet' (row %d must be a table)",
                              (int)r);
        int row = lua_gettop(L);
        lua_getfield(L, row, "label");
        labels[r - 1] = lua_tostring(L, -1) ? lua_tostring(L, -1) : "";
        lua_setfield(L, row, "label"); /* keeps a converted number's text alive */
        if (lua_getfield(L, row, "pairs") != LUA_TTABLE)
            return luaL_error(L, "bad argument #2 to 'image_sheet' (row %d has no pairs list)",
                              (int)r);
        lua_Integer n = luaL_len(L, -1);
        if (cols < 0) {
            cols = n;
            if (cols < 1 || cols > 1024)
                return luaL_error(L, "bad argument #2 to 'image_sheet' (need 1..1024 cells "
                                  "per row)");
            pairs = lua_newuserdatauv(L, (size_t)(rows * cols) * sizeof *pairs, 0);
            lua_replace(L, 3); /* anchor the scratch array (height already read) */
            pairs = lua_touserdata(L, 3);
        } else if (n != cols) {
            return luaL_error(L, "bad argument #2 to 'image_sheet' (row %d has %d cells, "
                              "row 1 has %d)", (int)r, (int)n, (int)cols);
        }
        for (lua_Integer c = 1; c <= cols; c++) {
            siam_sheet_pair *cell = &pairs[(r - 1) * cols + (c - 1)];
            *cell = (siam_sheet_pair){NULL, NULL, 0.0f};
            int t = lua_geti(L, -1, c);
            if (t == LUA_TTABLE) {
                const char *img[2] = {"a", "b"};
                const uint8_t *px[2];
                for (int k = 0; k < 2; k++) {
                    size_t len = 0;
                    lua_getfield(L, -1, img[k]);
                    px[k] = (const uint8_t *)lua_tolstring(L, -1, &len);
                    if (lua_type(L, -1) != LUA_TSTRING || len != (size_t)(h * w))
                        return luaL_error(L, "bad argument #2 to 'image_sheet' (row %d cell %d:"
                                          " %s must be a string of %d bytes)", (int)r, (int)c,
                                          img[k], (int)(h * w));
                    lua_pop(L, 1);
                }
                lua_getfield(L, -1, "prob");
                cell->a = px[0];
                cell->b = px[1];
                cell->prob = (float)luaL_optnumber(L, -1, NAN);
                lua_pop(L, 1);
            } else if (t != LUA_TBOOLEAN && t != LUA_TNIL) {
                return luaL_error(L, "bad argument #2 to 'image_sheet' (row %d cell %d must be "
                                  "a table or false)", (int)r, (int)c);
            }
            lua_pop(L, 1);
        }
        lua_settop(L, row - 1);
    }
    siam_error err;
    if (siam_image_sheet_write(path, pairs, (int)rows, (int)cols, labels, title, (int)h, (int)w,
                               &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

/* Pushes the list of the eight sheet rows, each {label="TP most sure",
 * indices={i, ...}} (1-based; -1 entries of out, blank cells, left out). */
static void push_picks(lua_State *L, const int *out, int k)
{
    lua_createtable(L, SIAM_SHEET_ROWS, 0);
    for (int r = 0; r < SIAM_SHEET_ROWS; r++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, siam_sheet_row_label(r));
        lua_setfield(L, -2, "label");
        lua_newtable(L);
        int j = 0;
        for (int c = 0; c < k; c++) {
            int idx = out[r * k + c];
            if (idx >= 0) {
                lua_pushinteger(L, idx + 1);
                lua_rawseti(L, -2, ++j);
            }
        }
        lua_setfield(L, -2, "indices");
        lua_rawseti(L, -2, r + 1);
    }
}

/* siam.io.sheet_pick(probs, labels, threshold, k) -> list of the eight
 * rows, each {label="TP most sure", indices={i, ...}} (1-based; categories
 * with fewer than k pairs have shorter lists). */
static int io_sheet_pick(lua_State *L)
{
    size_t n, m;
    double *prob = check_numbers(L, 1, -1, &n);
    double *label = check_numbers(L, 2, (lua_Integer)n, &m);
    lua_Number threshold = luaL_checknumber(L, 3);
    lua_Integer k = luaL_checkinteger(L, 4);
    luaL_argcheck(L, k >= 1 && k <= 1024, 4, "k must be in 1..1024");
    float *pf = lua_newuserdatauv(L, (n > 0 ? n : 1) * 2 * sizeof *pf, 0);
    for (size_t i = 0; i < n; i++) {
        pf[i] = (float)prob[i];
        pf[n + i] = (float)label[i];
    }
    int *out = lua_newuserdatauv(L, (size_t)(SIAM_SHEET_ROWS * k) * sizeof *out, 0);
    siam_error err;
    if (siam_sheet_pick(out, pf, pf + n, n, (float)threshold, (int)k, &err) != 0)
        return siam_lua_error(L, &err);
    push_picks(L, out, (int)k);
    return 1;
}

/* siam.io.sheet(set, probs, path[, {threshold=0.5, per_kind=3, title=}]) -> rows,
 * height, width: writes the sheet of a siam.PairSet's evaluation (probs[i]
 * for pair i, e.g. siam.evaluate's probs) as a grey PNG, the faces taken in
 * C from the set's image bank. rows is what sheet_pick returns; height and
 * width are the PNG's. */
static int io_sheet(lua_State *L)
{
    static const char *const keys[] = {"threshold", "per_kind", "title", NULL};
    lua_settop(L, 4); /* scratch arrays go above the options */
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    size_t n;
    double *prob = check_numbers(L, 2, (lua_Integer)ps->count, &n);
    const char *path = luaL_checkstring(L, 3);
    siam_lua_opts_check(L, 4, keys);
    lua_Number threshold = siam_lua_opt_number(L, 4, "threshold", 0.5);
    if (!(threshold >= 0.0 && threshold <= 1.0))
        return siam_lua_argerrorf(L, 4, "option 'threshold' must be in [0, 1], got %f",
                                  threshold);
    int k = (int)siam_lua_opt_integer(L, 4, "per_kind", 3, 1, SIAM_PAIRSET_SHEET_MAX_PER_KIND);
    const char *title = siam_lua_opt_string(L, 4, "title", NULL); /* the table keeps it */
    float *pf = lua_newuserdatauv(L, (n > 0 ? n : 1) * sizeof *pf, 0);
    for (size_t i = 0; i < n; i++)
        pf[i] = (float)prob[i];
    int *out = lua_newuserdatauv(L, (size_t)(SIAM_SHEET_ROWS * k) * sizeof *out, 0);
    siam_error err;
    uint8_t *img;
    int h, w;
    if (siam_pairset_sheet_render(&img, &h, &w, out, ps, pf, n, (float)threshold, k, title,
                                  &err) != 0)
        return siam_lua_error(L, &err);
    int rc = siam_png_write(path, img, h, w, 1, &err);
    free(img);
    if (rc != 0)
        return siam_lua_error(L, &err);
    push_picks(L, out, k);
    lua_pushinteger(L, h);
    lua_pushinteger(L, w);
    return 3;
}

static const luaL_Reg plots_functions[] = {
    {"plotter", plotter_new},
    {"tfevents", tfevents_open},
    {"image_sheet", io_image_sheet},
    {"sheet_pick", io_sheet_pick},
    {"sheet", io_sheet},
    {NULL, NULL},
};

void siam_lua_open_io_plots(lua_State *L)
{
    siam_lua_newclass(L, SIAM_PLOTTER_MT, plotter_methods, plotter_meta);
    siam_lua_newclass(L, SIAM_TFEVENTS_MT, tfevents_methods, tfevents_meta);
    luaL_setfuncs(L, plots_functions, 0);
}
