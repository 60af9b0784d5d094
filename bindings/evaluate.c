/* siam.evaluate (bindings/evaluate.h). Metric definitions:
 * docs/training.md, "Metrics". */
#include "bindings/evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/model.h"
#include "bindings/pairset.h"
#include "bindings/util.h"
#include "host/dataset.h"
#include "host/metrics.h"
#include "host/predict.h"

typedef struct ranked {
    double confidence; /* |p - threshold| */
    size_t index;
} ranked;

/* Most confident first; ties by pair order, so the result is stable. */
static int by_confidence(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->confidence != b->confidence)
        return a->confidence > b->confidence ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* How the pairs were scored: the head's probabilities or the cosine of the
 * embeddings (which have no loss, and lie in [-1, 1]). */
typedef struct scoring {
    int cosine;
    const char *tta;  /* NULL: not given */
} scoring;

static void push_example(lua_State *L, const siam_pairset *ps, const float *probs, size_t i,
                         int cosine)
{
    const siam_pair *p = &ps->pairs[i];
    lua_createtable(L, 0, 5);
    siam_lua_setinteger(L, "index", (lua_Integer)i + 1);
    siam_lua_setstring(L, "a", ps->images->names[p->a]);
    siam_lua_setstring(L, "b", ps->images->names[p->b]);
    siam_lua_setnumber(L, cosine ? "score" : "p", probs[i]);
    siam_lua_setinteger(L, "label", p->label >= 0.5f);
}

/* Pushes {best = {...}, worst = {...}} for the pairs of one outcome. For a
 * correct outcome (tp, tn) the best are the most confident; for an error
 * (fp, fn) the worst are the most confident. */
static void push_outcome(lua_State *L, const siam_pairset *ps, const float *probs, ranked *r,
                         size_t n, int correct, int k, int cosine)
{
    qsort(r, n, sizeof *r, by_confidence);
    size_t shown = n < (size_t)k ? n : (size_t)k;
    lua_createtable(L, 0, 3);
    siam_lua_setinteger(L, "count", (lua_Integer)n);
    for (int side = 0; side < 2; side++) { /* 0: most confident, 1: least */
        lua_createtable(L, (int)shown, 0);
        for (size_t j = 0; j < shown; j++) {
            size_t at = side == 0 ? j : n - 1 - j;
            push_example(L, ps, probs, r[at].index, cosine);
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        lua_setfield(L, -2, (side == 0) == (correct != 0) ? "best" : "worst");
    }
}

/* Pushes the evaluation table of probabilities (or cosine scores) `probs`
 * (n, already computed) over the pairs of ps at threshold thr, with k
 * examples per outcome. */
static void push_evaluation(lua_State *L, const siam_pairset *ps, float *probs, double thr,
                            int k, const scoring *how)
{
    size_t n = ps->count;
    float *labels = lua_newuserdatauv(L, (n + 1) * sizeof(float), 0);
    ranked *r = lua_newuserdatauv(L, (n + 1) * sizeof *r, 0);
    for (size_t i = 0; i < n; i++)
        labels[i] = ps->pairs[i].label;
    float t = (float)thr;
    siam_confusion c;
    siam_metrics_confusion(&c, probs, labels, n, t);
    lua_createtable(L, 0, 16);
    int res = lua_gettop(L);
    siam_lua_setinteger(L, "n", (lua_Integer)n);
    if (!how->cosine)
        siam_lua_setnumber(L, "loss", siam_metrics_bce(probs, labels, n));
    siam_lua_setstring(L, "score", how->cosine ? "cosine" : "head");
    siam_lua_setnumber(L, "accuracy", siam_metrics_accuracy(probs, labels, n, t));
    siam_lua_setnumber(L, "threshold", t);
    if (how->tta != NULL)
        siam_lua_setstring(L, "tta", how->tta);
    lua_createtable(L, 0, 4);
    siam_lua_setinteger(L, "tp", (lua_Integer)c.tp);
    siam_lua_setinteger(L, "fp", (lua_Integer)c.fp);
    siam_lua_setinteger(L, "tn", (lua_Integer)c.tn);
    siam_lua_setinteger(L, "fn", (lua_Integer)c.fn);
    lua_setfield(L, res, "confusion");
    siam_error err;
    double auc, eer, best_acc, best_bal;
    float eer_thr, best_thr, bal_thr;
    /* AUC, EER and the best threshold need both classes; with one they are
     * absent (nil) rather than an error. */
    if (c.tp + c.fn > 0 && c.fp + c.tn > 0) {
        if (siam_metrics_auc(&auc, probs, labels, n, &err) < 0 ||
            siam_metrics_eer(&eer, &eer_thr, probs, labels, n, &err) < 0 ||
            siam_metrics_best_threshold(&best_thr, &best_acc, probs, labels, n, &err) < 0 ||
            siam_metrics_best_threshold_balanced(&bal_thr, &best_bal, probs, labels, n, &err) < 0)
            siam_lua_error(L, &err);
        siam_lua_setnumber(L, "balanced_accuracy",
                           siam_metrics_balanced_accuracy(probs, labels, n, t));
        siam_lua_setnumber(L, "best_balanced_threshold", bal_thr);
        siam_lua_setnumber(L, "best_balanced_accuracy", best_bal);
        siam_lua_setnumber(L, "auc", auc);
        siam_lua_setnumber(L, "eer", eer);
        siam_lua_setnumber(L, "eer_threshold", eer_thr);
        siam_lua_setnumber(L, "best_threshold", best_thr);
        siam_lua_setnumber(L, "best_accuracy", best_acc);
    }
    lua_createtable(L, 0, 4);
    static const char *const outcome[4] = { "tp", "fp", "tn", "fn" };
    for (int o = 0; o < 4; o++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            int pred = probs[i] >= t, truth = labels[i] >= 0.5f;
            int which = pred ? (truth ? 0 : 1) : (truth ? 3 : 2);
            if (which == o) {
                r[m].confidence = fabs((double)probs[i] - (double)t);
                r[m].index = i;
                m++;
            }
        }
        push_outcome(L, ps, probs, r, m, o == 0 || o == 2, k, how->cosine);
        lua_setfield(L, -2, outcome[o]);
    }
    lua_setfield(L, res, "examples");
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, probs[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, res, how->cosine ? "scores" : "probs");
    lua_replace(L, res - 2); /* over the labels; the scratch goes */
    lua_settop(L, res - 2);
}

static double opt_threshold(lua_State *L, int arg, double def)
{
    double thr = siam_lua_opt_number(L, arg, "threshold", def);
    if (!(thr >= 0.0 && thr <= 1.0))
        siam_lua_argerrorf(L, arg, "option 'threshold' must be in [0, 1], got %f", thr);
    return thr;
}

/* The cosine scores of every pair of ps (n floats, a new userdata on the
 * stack). */
static float *cosine_scores(lua_State *L, siam_lua_model *lm, const siam_pairset *ps)
{
    float *scores = lua_newuserdatauv(L, (ps->count + 1) * sizeof(float), 0);
    siam_error err;
    if (siam_model_cosine(lm->m, ps, NULL, SIAM_DATA_MEAN, SIAM_DATA_STD, scores, &err) < 0)
        siam_lua_error(L, &err);
    return scores;
}

/* siam.evaluate(model, set, {score = "cosine", threshold = t | val = set,
 * examples = 3}): verification by the cosine of the two embeddings, the
 * threshold given (in [-1, 1]) or chosen on `val` as fit's threshold = "val"
 * chooses the head's (the best balanced accuracy). */
static int evaluate_cosine(lua_State *L, siam_lua_model *lm, siam_pairset *ps)
{
    int k = (int)siam_lua_opt_integer(L, 3, "examples", 3, 0, 1000000);
    if (lua_getfield(L, 3, "tta") != LUA_TNIL)
        siam_lua_argerrorf(L, 3, "option 'tta' is for score \"head\"");
    lua_pop(L, 1);
    int has_thr = lua_getfield(L, 3, "threshold") != LUA_TNIL;
    lua_pop(L, 1);
    int has_val = lua_getfield(L, 3, "val") != LUA_TNIL;
    siam_pairset *val = NULL;
    if (has_val) {
        if (luaL_testudata(L, -1, SIAM_PAIRSET_MT) == NULL)
            siam_lua_argerrorf(L, 3, "option 'val' must be a siam.PairSet, got %s",
                               luaL_typename(L, -1));
        val = siam_lua_checkpairset(L, -1);
    }
    if (has_thr == has_val)
        siam_lua_argerrorf(L, 3, "score \"cosine\" needs %s 'threshold' (in [-1, 1]) or "
                                 "'val' (a set to choose it on)", has_thr ? "one of" : "either");
    siam_lua_model_check_set(L, 2, lm, ps);
    double thr;
    if (has_thr) {
        thr = siam_lua_opt_number(L, 3, "threshold", 0.0);
        if (!(thr >= -1.0 && thr <= 1.0))
            siam_lua_argerrorf(L, 3, "option 'threshold' must be in [-1, 1] for score "
                                     "\"cosine\", got %f", thr);
    } else {
        siam_lua_model_check_set(L, 3, lm, val);
        float *vs = cosine_scores(L, lm, val);
        float *labels = lua_newuserdatauv(L, (val->count + 1) * sizeof(float), 0);
        for (size_t i = 0; i < val->count; i++)
            labels[i] = val->pairs[i].label;
        float t;
        double best;
        siam_error err;
        if (siam_metrics_best_threshold_balanced(&t, &best, vs, labels, val->count, &err) < 0)
            siam_lua_error(L, &err);
        thr = t;
        lua_pop(L, 2);
    }
    float *scores = cosine_scores(L, lm, ps);
    scoring how = { 1, NULL };
    push_evaluation(L, ps, scores, thr, k, &how);
    return 1;
}

/* siam.evaluate(model, set[, {threshold=model.threshold, examples=3,
 * tta=model.tta, score="head"}]) */
static int evaluate(lua_State *L)
{
    static const char *const keys[] = { "threshold", "examples", "tta", "score", "val", NULL };
    static const char *const scores[] = { "head", "cosine", NULL };
    siam_lua_model *lm = siam_lua_checkmodel(L, 1);
    siam_pairset *ps = siam_lua_checkpairset(L, 2);
    siam_lua_opts_check(L, 3, keys);
    if (siam_lua_opt_choice(L, 3, "score", 0, scores) == 1)
        return evaluate_cosine(L, lm, ps);
    if (lua_type(L, 3) == LUA_TTABLE) {
        if (lua_getfield(L, 3, "val") != LUA_TNIL)
            siam_lua_argerrorf(L, 3, "option 'val' is for score \"cosine\" (the head's "
                                     "threshold comes from fit's threshold = \"val\")");
        lua_pop(L, 1);
    }
    double thr = opt_threshold(L, 3, lm->threshold);
    int k = (int)siam_lua_opt_integer(L, 3, "examples", 3, 0, 1000000);
    siam_tta tta = siam_lua_opt_tta(L, 3, "tta", lm->tta);
    siam_lua_model_check_set(L, 2, lm, ps);
    float *probs = lua_newuserdatauv(L, (ps->count + 1) * sizeof(float), 0);
    siam_lua_model_predict(L, lm, ps, tta, probs);
    scoring how = { 0, siam_tta_name(tta) };
    push_evaluation(L, ps, probs, thr, k, &how);
    return 1;
}

/* siam.evaluate_probs(set, probs[, {threshold=0.5, examples=3}]): the same
 * table for probabilities made elsewhere (an ensemble's mean, a model of
 * another program), one per pair of the set, each in [0, 1]. */
static int evaluate_probs(lua_State *L)
{
    static const char *const keys[] = { "threshold", "examples", NULL };
    siam_pairset *ps = siam_lua_checkpairset(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    siam_lua_opts_check(L, 3, keys);
    double thr = opt_threshold(L, 3, 0.5);
    int k = (int)siam_lua_opt_integer(L, 3, "examples", 3, 0, 1000000);
    lua_Integer n = luaL_len(L, 2);
    if ((size_t)n != ps->count || n < 1)
        return siam_lua_argerrorf(L, 2, "%I probabilities for a set of %I pairs", n,
                                  (lua_Integer)ps->count);
    float *probs = lua_newuserdatauv(L, (size_t)n * sizeof(float), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        int isnum = 0;
        lua_geti(L, 2, i);
        double p = lua_tonumberx(L, -1, &isnum);
        lua_pop(L, 1);
        if (!isnum || !(p >= 0.0 && p <= 1.0))
            return siam_lua_argerrorf(L, 2, "probability %I must be a number in [0, 1]", i);
        probs[i - 1] = (float)p;
    }
    scoring how = { 0, NULL };
    push_evaluation(L, ps, probs, thr, k, &how);
    return 1;
}

void siam_lua_open_evaluate(lua_State *L)
{
    lua_pushcfunction(L, evaluate);
    lua_setfield(L, -2, "evaluate");
    lua_pushcfunction(L, evaluate_probs);
    lua_setfield(L, -2, "evaluate_probs");
}
