/* Every operator of kernels/ops.h against PyTorch 1.13 on the same float32
 * inputs (tests/fixtures/ops.bin, written by scripts/make_fixtures.py), on
 * each backend. A last group checks the fixture itself against naive
 * double-precision references, so that a failure can be told apart as the
 * kernel's or the fixture's.
 *
 * Differences are relative, |got - torch| / max(|torch|, rms(torch)), so
 * values near zero are judged on the scale of the whole tensor. Both sides
 * round in float32 but sum in different orders; the tolerances below follow
 * from the length of the sums. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/fixture.h"
#include "tests/support/ops_check.h"

#define OPS_FIXTURE "tests/fixtures/ops.bin"

/* conv and linear outputs sum K = Ci*KH*KW (up to 3136) or I (576)
 * products; random-order float32 rounding grows like sqrt(K) * 2^-24
 * (about 3e-6 at K = 3136), and a blocked GEMM can be a few times worse.
 * Measured on the CPU backend: 4.3e-6 (conv2 shape). */
#define TOL_GEMM_FWD 2e-5
/* Weight gradients sum N*Ho*Wo (up to 18432) products, input gradients
 * Co*KH*KW (up to 6272): sqrt(18432) * 2^-24 is about 8e-6. Measured:
 * 1.3e-5 for conv1's dW, nearly all of it PyTorch's own rounding (its dW
 * is 1.27e-5 from the double reference, see the fixture group). */
#define TOL_GEMM_BWD 4e-5
/* Batch norm: sums over N*HW (up to 18432) values per channel, then a
 * handful of operations per element. Measured: 1.4e-6 (dbeta, bn_big). */
#define TOL_BN 2e-5
/* A few float32 operations per element (expf, divisions). Measured:
 * 1.4e-7. */
#define TOL_ELEMENTWISE 1e-6
/* max-pool, ReLU and |a - b| only select, move or subtract once: the
 * results must be identical. */
#define TOL_EXACT 0.0
/* cuDNN may pick Winograd or FFT convolutions, and cuBLAS other blockings,
 * whose rounding is a few times that of a direct sum (not measured here:
 * no GPU on the development machines). */
#define CUDA_FACTOR 5.0

typedef struct bench {
    const siam_check_backend *be;
    siam_fixture *fx;
    double factor; /* tolerance multiplier for this backend */
} bench;

static bench bench_open(void **state)
{
    bench b = {.be = siam_check_backend_of(state), .fx = NULL, .factor = 1.0};
    siam_error e = {{0}};
    b.fx = siam_fixture_load(OPS_FIXTURE, &e);
    if (!b.fx)
        fail_msg("%s (regenerate with scripts/make_fixtures.py)", e.msg);
    if (b.be->ops->device == SIAM_DEVICE_CUDA)
        b.factor = CUDA_FACTOR;
    return b;
}

/* The integer settings of a case, stored as floats. */
static void dims_of(const bench *b, const char *name, int *out, size_t n)
{
    siam_error e = {{0}};
    const float *d = siam_fixture_data(b->fx, name, n, &e);
    if (!d)
        fail_msg("%s", e.msg);
    for (size_t i = 0; i < n; i++)
        out[i] = (int)d[i];
}

static float *host_input(const bench *b, const char *name, size_t n)
{
    siam_error e = {{0}};
    float *x = siam_fixture_input(b->fx, name, n, &e);
    if (!x)
        fail_msg("%s", e.msg);
    return x;
}

/* A device copy of input `name`. */
static float *dev_input(const bench *b, const char *name, size_t n)
{
    float *h = host_input(b, name, n);
    float *d = siam_check_put(b->be, h, n);
    free(h);
    return d;
}

static const float *fixture_values(const bench *b, const char *name, size_t n)
{
    siam_error e = {{0}};
    const float *v = siam_fixture_data(b->fx, name, n, &e);
    if (!v)
        fail_msg("%s", e.msg);
    return v;
}

/* Compares host values `got` (numel) with the fixture's `name`, whole or
 * sampled (name.idx / name.val); the label names the backend. */
static double compare_host(const bench *b, const char *name, const float *got, size_t numel,
                           double tol)
{
    char label[128];
    snprintf(label, sizeof label, "%s %s", b->be->ops->name, name);
    siam_error e = {{0}};
    const siam_fixture_tensor *t = siam_fixture_get(b->fx, name, NULL);
    double r;
    if (t) {
        if (t->numel != numel)
            fail_msg("%s: fixture holds %zu values, the operator gave %zu", name, t->numel,
                     numel);
        double *want = siam_check_widen(t->data, numel);
        r = siam_check_close(label, got, want, numel, tol);
        free(want);
        return r;
    }
    char in[128], vn[128];
    snprintf(in, sizeof in, "%s.idx", name);
    snprintf(vn, sizeof vn, "%s.val", name);
    const siam_fixture_tensor *ti = siam_fixture_get(b->fx, in, &e);
    if (!ti)
        fail_msg("%s", e.msg);
    const float *v = fixture_values(b, vn, ti->numel);
    size_t *idx = calloc(ti->numel, sizeof *idx);
    assert_non_null(idx);
    for (size_t k = 0; k < ti->numel; k++) {
        idx[k] = (size_t)ti->data[k];
        if (idx[k] >= numel)
            fail_msg("%s: sample index %zu outside the %zu values", in, idx[k], numel);
    }
    double *want = siam_check_widen(v, ti->numel);
    r = siam_check_close_at(label, got, idx, want, ti->numel, tol);
    free(want);
    free(idx);
    return r;
}

/* The same for a device buffer. */
static double compare_dev(const bench *b, const char *name, const float *dev, size_t numel,
                          double tol)
{
    float *h = siam_check_floats(numel);
    siam_check_get(b->be, h, dev, numel);
    double r = compare_host(b, name, h, numel, tol);
    free(h);
    return r;
}

/* The n integer settings "<c>.dims" of case c. */
static void case_dims(const bench *b, const char *c, int *d, size_t n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.dims", c);
    dims_of(b, name, d, n);
}

/* Device copy of input "<c>.<suffix>". */
static float *case_input(const bench *b, const char *c, const char *suffix, size_t n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", c, suffix);
    return dev_input(b, name, n);
}

static void case_compare(const bench *b, const char *c, const char *suffix, const float *dev,
                         size_t n, double tol)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", c, suffix);
    compare_dev(b, name, dev, n, tol);
}

/* A layer with weights and a bias (conv2d, linear): the case's in, w, b and
 * dout on the device, and room for out, din, dw and db. */
typedef struct weighted_bufs {
    size_t nin, nw, nb, nout;
    float *in, *w, *bias, *dout, *out, *din, *dw, *db;
} weighted_bufs;

static weighted_bufs weighted_open(const bench *b, const char *c, size_t nin, size_t nw,
                                   size_t nb, size_t nout)
{
    weighted_bufs l = {.nin = nin, .nw = nw, .nb = nb, .nout = nout};
    l.in = case_input(b, c, "in", nin);
    l.w = case_input(b, c, "w", nw);
    l.bias = case_input(b, c, "b", nb);
    l.dout = case_input(b, c, "dout", nout);
    l.out = siam_check_alloc(b->be, nout);
    l.din = siam_check_alloc(b->be, nin);
    l.dw = siam_check_alloc(b->be, nw);
    l.db = siam_check_alloc(b->be, nb);
    return l;
}

/* After the backward pass: din, dw and db against the fixture. */
static void weighted_compare_grads(const bench *b, const char *c, const weighted_bufs *l)
{
    case_compare(b, c, "din", l->din, l->nin, TOL_GEMM_BWD * b->factor);
    case_compare(b, c, "dw", l->dw, l->nw, TOL_GEMM_BWD * b->factor);
    case_compare(b, c, "db", l->db, l->nb, TOL_GEMM_BWD * b->factor);
}

static void weighted_close(const bench *b, const weighted_bufs *l)
{
    float *bufs[] = {l->in, l->w, l->bias, l->dout, l->out, l->din, l->dw, l->db};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        siam_check_free(b->be, bufs[i]);
}

static void conv_case(void **state, const char *c)
{
    bench b = bench_open(state);
    const siam_ops *ops = b.be->ops;
    int d[7];
    case_dims(&b, c, d, 7);
    int N = d[0], Ci = d[1], H = d[2], W = d[3], Co = d[4], KH = d[5], KW = d[6];
    size_t nin = (size_t)N * Ci * H * W, nw = (size_t)Co * Ci * KH * KW;
    size_t nout = (size_t)N * Co * (H - KH + 1) * (W - KW + 1);
    weighted_bufs l = weighted_open(&b, c, nin, nw, (size_t)Co, nout);

    siam_check_ok(b.be,
                  ops->conv2d_forward(b.be->ctx, l.out, l.in, l.w, l.bias, N, Ci, H, W, Co, KH,
                                      KW),
                  "conv2d_forward");
    case_compare(&b, c, "out", l.out, nout, TOL_GEMM_FWD * b.factor);
    siam_check_ok(b.be,
                  ops->conv2d_backward(b.be->ctx, l.din, l.dw, l.db, l.dout, l.in, l.w, N, Ci, H,
                                       W, Co, KH, KW),
                  "conv2d_backward");
    weighted_compare_grads(&b, c, &l);
    weighted_close(&b, &l);
    siam_fixture_free(b.fx);
}

static void conv2d_small(void **state)
{
    conv_case(state, "conv_small");
}

static void conv2d_conv1_shape(void **state)
{
    conv_case(state, "conv_c1");
}

static void conv2d_conv2_shape(void **state)
{
    conv_case(state, "conv_c2");
}

static void batchnorm_case(void **state, const char *c)
{
    bench b = bench_open(state);
    const siam_ops *ops = b.be->ops;
    char n[128];
    int d[3];
    case_dims(&b, c, d, 3);
    int N = d[0], C = d[1], HW = d[2];
    size_t nx = (size_t)N * C * HW, nc = (size_t)C;
    snprintf(n, sizeof n, "%s.hyper", c);
    const float *hyper = fixture_values(&b, n, 2);
    float momentum = hyper[0], eps = hyper[1];
    float *in = case_input(&b, c, "in", nx), *dout = case_input(&b, c, "dout", nx);
    float *gamma = case_input(&b, c, "gamma", nc), *beta = case_input(&b, c, "beta", nc);
    float *rmean = case_input(&b, c, "running_mean0", nc);
    float *rvar = case_input(&b, c, "running_var0", nc);
    float *emean = case_input(&b, c, "eval_mean", nc), *evar = case_input(&b, c, "eval_var", nc);
    float *out = siam_check_alloc(b.be, nx), *din = siam_check_alloc(b.be, nx);
    float *smean = siam_check_alloc(b.be, nc), *sinv = siam_check_alloc(b.be, nc);
    float *dgamma = siam_check_alloc(b.be, nc), *dbeta = siam_check_alloc(b.be, nc);
    float *eout = siam_check_alloc(b.be, nx);
    double tol = TOL_BN * b.factor;

    siam_check_ok(b.be,
                  ops->batchnorm_forward_train(b.be->ctx, out, smean, sinv, rmean, rvar, in,
                                               gamma, beta, N, C, HW, momentum, eps),
                  "batchnorm_forward_train");
    case_compare(&b, c, "out", out, nx, tol);
    case_compare(&b, c, "save_mean", smean, nc, tol);
    case_compare(&b, c, "save_invstd", sinv, nc, tol);
    case_compare(&b, c, "running_mean", rmean, nc, tol);
    case_compare(&b, c, "running_var", rvar, nc, tol);
    siam_check_ok(b.be,
                  ops->batchnorm_backward(b.be->ctx, din, dgamma, dbeta, dout, in, smean, sinv,
                                          gamma, N, C, HW, eps),
                  "batchnorm_backward");
    case_compare(&b, c, "din", din, nx, tol);
    case_compare(&b, c, "dgamma", dgamma, nc, tol);
    case_compare(&b, c, "dbeta", dbeta, nc, tol);
    siam_check_ok(b.be,
                  ops->batchnorm_forward_eval(b.be->ctx, eout, in, emean, evar, gamma, beta, N,
                                              C, HW, eps),
                  "batchnorm_forward_eval");
    case_compare(&b, c, "eval_out", eout, nx, tol);

    float *bufs[] = {in, dout, gamma, beta, rmean, rvar, emean, evar,
                     out, din, smean, sinv, dgamma, dbeta, eout};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        siam_check_free(b.be, bufs[i]);
    siam_fixture_free(b.fx);
}

static void batchnorm_small(void **state)
{
    batchnorm_case(state, "bn_small");
}

static void batchnorm_offset_mean(void **state)
{
    batchnorm_case(state, "bn_big");
}

static void maxpool_with_ties(void **state)
{
    bench b = bench_open(state);
    const siam_ops *ops = b.be->ops;
    int d[3];
    dims_of(&b, "pool.dims", d, 3);
    int NC = d[0], H = d[1], W = d[2];
    size_t nx = (size_t)NC * H * W, ny = (size_t)NC * (H / 2) * (W / 2);
    float *in = dev_input(&b, "pool.in", nx), *dout = dev_input(&b, "pool.dout", ny);
    float *out = siam_check_alloc(b.be, ny), *din = siam_check_alloc(b.be, nx);
    int32_t *arg = siam_check_put_bytes(b.be, NULL, ny * sizeof(int32_t));
    siam_check_ok(b.be, ops->maxpool2_forward(b.be->ctx, out, arg, in, NC, H, W),
                  "maxpool2_forward");
    compare_dev(&b, "pool.out", out, ny, TOL_EXACT);
    int32_t *argh = calloc(ny, sizeof *argh);
    float *argf = siam_check_floats(ny);
    assert_non_null(argh);
    siam_check_get_bytes(b.be, argh, arg, ny * sizeof(int32_t));
    for (size_t i = 0; i < ny; i++)
        argf[i] = (float)argh[i];
    /* PyTorch takes the first maximum in row-major order on ties. */
    compare_host(&b, "pool.argmax", argf, ny, TOL_EXACT);
    siam_check_ok(b.be, ops->maxpool2_backward(b.be->ctx, din, dout, arg, NC, H, W),
                  "maxpool2_backward");
    compare_dev(&b, "pool.din", din, nx, TOL_EXACT);
    free(argh);
    free(argf);
    siam_check_free(b.be, in);
    siam_check_free(b.be, dout);
    siam_check_free(b.be, out);
    siam_check_free(b.be, din);
    siam_check_free(b.be, arg);
    siam_fixture_free(b.fx);
}

static void linear_case(void **state, const char *c)
{
    bench b = bench_open(state);
    const siam_ops *ops = b.be->ops;
    int d[3];
    case_dims(&b, c, d, 3);
    int N = d[0], I = d[1], O = d[2];
    size_t nin = (size_t)N * I, nw = (size_t)O * I, nout = (size_t)N * O;
    weighted_bufs l = weighted_open(&b, c, nin, nw, (size_t)O, nout);
    siam_check_ok(b.be, ops->linear_forward(b.be->ctx, l.out, l.in, l.w, l.bias, N, I, O),
                  "linear_forward");
    case_compare(&b, c, "out", l.out, nout, TOL_GEMM_FWD * b.factor);
    siam_check_ok(b.be,
                  ops->linear_backward(b.be->ctx, l.din, l.dw, l.db, l.dout, l.in, l.w, N, I, O),
                  "linear_backward");
    weighted_compare_grads(&b, c, &l);
    weighted_close(&b, &l);
    siam_fixture_free(b.fx);
}

static void linear_small(void **state)
{
    linear_case(state, "lin_small");
}

static void linear_wide(void **state)
{
    linear_case(state, "lin_big");
}

static size_t numel_of(const bench *b, const char *name)
{
    siam_error e = {{0}};
    const siam_fixture_tensor *t = siam_fixture_get(b->fx, name, &e);
    if (!t)
        fail_msg("%s", e.msg);
    return t->numel;
}

/* An activation y = f(x) whose gradient is computed from y: fixture tensors
 * "<name>.in", ".dout", ".out" and ".din". */
typedef int (*activation_fwd)(siam_ctx *ctx, float *out, const float *in, size_t n);
typedef int (*activation_bwd)(siam_ctx *ctx, float *din, const float *dout, const float *out,
                              size_t n);

static void activation_case(const bench *b, const char *name, activation_fwd fwd,
                            activation_bwd bwd, double tol)
{
    char t[128], fn[128];
    snprintf(t, sizeof t, "%s.in", name);
    size_t n = numel_of(b, t);
    float *x = dev_input(b, t, n);
    snprintf(t, sizeof t, "%s.dout", name);
    float *dout = dev_input(b, t, n);
    float *y = siam_check_alloc(b->be, n), *dx = siam_check_alloc(b->be, n);
    snprintf(fn, sizeof fn, "%s_forward", name);
    siam_check_ok(b->be, fwd(b->be->ctx, y, x, n), fn);
    snprintf(t, sizeof t, "%s.out", name);
    compare_dev(b, t, y, n, tol);
    snprintf(fn, sizeof fn, "%s_backward", name);
    siam_check_ok(b->be, bwd(b->be->ctx, dx, dout, y, n), fn);
    snprintf(t, sizeof t, "%s.din", name);
    compare_dev(b, t, dx, n, tol);
    float *bufs[] = {x, dout, y, dx};
    for (size_t i = 0; i < 4; i++)
        siam_check_free(b->be, bufs[i]);
}

static void sigmoid_and_relu(void **state)
{
    bench b = bench_open(state);
    const siam_ops *ops = b.be->ops;
    activation_case(&b, "sigmoid", ops->sigmoid_forward, ops->sigmoid_backward,
                    TOL_ELEMENTWISE * b.factor);
    activation_case(&b, "relu", ops->relu_forward, ops->relu_backward, TOL_EXACT);
    siam_fixture_free(b.fx);
}

static void absdiff_with_equal_pairs(void **state)
{
    bench b = bench_open(state);
    const siam_ops *ops = b.be->ops;
    size_t n = numel_of(&b, "absdiff.a");
    float *a = dev_input(&b, "absdiff.a", n), *bb = dev_input(&b, "absdiff.b", n);
    float *dout = dev_input(&b, "absdiff.dout", n);
    float *y = siam_check_alloc(b.be, n), *da = siam_check_alloc(b.be, n);
    float *db = siam_check_alloc(b.be, n);
    siam_check_ok(b.be, ops->absdiff_forward(b.be->ctx, y, a, bb, n), "absdiff_forward");
    compare_dev(&b, "absdiff.out", y, n, TOL_EXACT);
    siam_check_ok(b.be, ops->absdiff_backward(b.be->ctx, da, db, dout, a, bb, n),
                  "absdiff_backward");
    compare_dev(&b, "absdiff.da", da, n, TOL_EXACT);
    compare_dev(&b, "absdiff.db", db, n, TOL_EXACT);
    float *bufs[] = {a, bb, dout, y, da, db};
    for (size_t i = 0; i < 6; i++)
        siam_check_free(b.be, bufs[i]);
    siam_fixture_free(b.fx);
}

static void bce_with_clamped_logs(void **state)
{
    bench b = bench_open(state);
    const siam_ops *ops = b.be->ops;
    size_t n = numel_of(&b, "bce.p");
    float *p = dev_input(&b, "bce.p", n), *y = dev_input(&b, "bce.y", n);
    float *dp = siam_check_alloc(b.be, n);
    float loss = NAN;
    siam_check_ok(b.be, ops->bce_forward(b.be->ctx, &loss, p, y, n), "bce_forward");
    /* The mean of n terms, two of which are the clamp value 100. */
    compare_host(&b, "bce.loss", &loss, 1, TOL_ELEMENTWISE * b.factor);
    float dloss = fixture_values(&b, "bce.dloss", 1)[0];
    siam_check_ok(b.be, ops->bce_backward(b.be->ctx, dp, p, y, n, dloss), "bce_backward");
    compare_dev(&b, "bce.dp", dp, n, TOL_ELEMENTWISE * b.factor);
    siam_check_free(b.be, p);
    siam_check_free(b.be, y);
    siam_check_free(b.be, dp);
    siam_fixture_free(b.fx);
}

/* ---- The fixture against naive double references (no backend). ---- */

static bench bench_plain(void)
{
    bench b = {.be = NULL, .fx = NULL, .factor = 1.0};
    siam_error e = {{0}};
    b.fx = siam_fixture_load(OPS_FIXTURE, &e);
    if (!b.fx)
        fail_msg("%s", e.msg);
    return b;
}

/* Largest relative difference of the fixture's sampled or whole tensor
 * `name` from ref(k-th flat index), on the scale max(|ref|, rms). */
typedef double (*ref_at_fn)(const void *user, size_t flat);

static double fixture_vs_ref(const bench *b, const char *name, size_t numel, ref_at_fn ref,
                             const void *user, double tol)
{
    char in[128], vn[128];
    const siam_fixture_tensor *t = siam_fixture_get(b->fx, name, NULL);
    size_t k;
    const float *vals, *idxf = NULL;
    if (t) {
        k = t->numel;
        vals = t->data;
        assert_int_equal(k, numel);
    } else {
        snprintf(in, sizeof in, "%s.idx", name);
        snprintf(vn, sizeof vn, "%s.val", name);
        k = numel_of(b, in);
        idxf = fixture_values(b, in, k);
        vals = fixture_values(b, vn, k);
    }
    /* siam_check_close compares float `got` against double `want`: here the
     * fixture is `got` and the double reference is `want`. */
    double *want = siam_check_doubles(k);
    for (size_t i = 0; i < k; i++)
        want[i] = ref(user, idxf ? (size_t)idxf[i] : i);
    char label[128];
    snprintf(label, sizeof label, "torch %s vs double", name);
    double r = siam_check_close(label, vals, want, k, tol);
    free(want);
    return r;
}

typedef struct conv_ref {
    siam_conv_shape s;
    double *in, *w, *b, *dout;
} conv_ref;

static double conv_out_at(const void *u, size_t f)
{
    const conv_ref *c = u;
    int Ho = c->s.H - c->s.KH + 1, Wo = c->s.W - c->s.KW + 1;
    int ow = (int)(f % (size_t)Wo), oh = (int)(f / (size_t)Wo % (size_t)Ho);
    int co = (int)(f / ((size_t)Wo * Ho) % (size_t)c->s.Co);
    int n = (int)(f / ((size_t)Wo * Ho * c->s.Co));
    return siam_ref_conv2d_at(&c->s, c->in, c->w, c->b, n, co, oh, ow);
}

static double conv_din_at(const void *u, size_t f)
{
    const conv_ref *c = u;
    int x = (int)(f % (size_t)c->s.W), h = (int)(f / (size_t)c->s.W % (size_t)c->s.H);
    int ci = (int)(f / ((size_t)c->s.W * c->s.H) % (size_t)c->s.Ci);
    int n = (int)(f / ((size_t)c->s.W * c->s.H * c->s.Ci));
    return siam_ref_conv2d_din_at(&c->s, c->dout, c->w, n, ci, h, x);
}

static double conv_dw_at(const void *u, size_t f)
{
    const conv_ref *c = u;
    int kw = (int)(f % (size_t)c->s.KW), kh = (int)(f / (size_t)c->s.KW % (size_t)c->s.KH);
    int ci = (int)(f / ((size_t)c->s.KW * c->s.KH) % (size_t)c->s.Ci);
    int co = (int)(f / ((size_t)c->s.KW * c->s.KH * c->s.Ci));
    return siam_ref_conv2d_dw_at(&c->s, c->dout, c->in, co, ci, kh, kw);
}

static double *widen_input(const bench *b, const char *c, const char *suffix, size_t n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", c, suffix);
    float *f = host_input(b, name, n);
    double *d = siam_check_widen(f, n);
    free(f);
    return d;
}

static void fixture_conv_matches_double(void **state)
{
    (void)state;
    bench b = bench_plain();
    const char *cases[] = {"conv_small", "conv_c1", "conv_c2"};
    for (size_t i = 0; i < 3; i++) {
        const char *c = cases[i];
        char n[128];
        int d[7];
        case_dims(&b, c, d, 7);
        conv_ref r = {.s = {d[0], d[1], d[2], d[3], d[4], d[5], d[6]}};
        size_t nin = (size_t)d[0] * d[1] * d[2] * d[3], nw = (size_t)d[4] * d[1] * d[5] * d[6];
        size_t nout = (size_t)d[0] * d[4] * (d[2] - d[5] + 1) * (d[3] - d[6] + 1);
        r.in = widen_input(&b, c, "in", nin);
        r.w = widen_input(&b, c, "w", nw);
        r.b = widen_input(&b, c, "b", (size_t)d[4]);
        r.dout = widen_input(&b, c, "dout", nout);
        snprintf(n, sizeof n, "%s.out", c);
        fixture_vs_ref(&b, n, nout, conv_out_at, &r, TOL_GEMM_FWD);
        snprintf(n, sizeof n, "%s.din", c);
        fixture_vs_ref(&b, n, nin, conv_din_at, &r, TOL_GEMM_BWD);
        snprintf(n, sizeof n, "%s.dw", c);
        fixture_vs_ref(&b, n, nw, conv_dw_at, &r, TOL_GEMM_BWD);
        free(r.in);
        free(r.w);
        free(r.b);
        free(r.dout);
    }
    siam_fixture_free(b.fx);
}

typedef struct bn_ref {
    double *out, *din, *eout;
} bn_ref;

static double bn_out_at(const void *u, size_t f)
{
    return ((const bn_ref *)u)->out[f];
}

static double bn_din_at(const void *u, size_t f)
{
    return ((const bn_ref *)u)->din[f];
}

static double bn_eout_at(const void *u, size_t f)
{
    return ((const bn_ref *)u)->eout[f];
}

static void fixture_batchnorm_matches_double(void **state)
{
    (void)state;
    bench b = bench_plain();
    const char *cases[] = {"bn_small", "bn_big"};
    for (size_t i = 0; i < 2; i++) {
        const char *c = cases[i];
        char n[128];
        int d[3];
        case_dims(&b, c, d, 3);
        int N = d[0], C = d[1], HW = d[2];
        size_t nx = (size_t)N * C * HW;
        snprintf(n, sizeof n, "%s.hyper", c);
        const float *hyper = fixture_values(&b, n, 2);
        double eps = hyper[1];
        double *in = widen_input(&b, c, "in", nx), *g = widen_input(&b, c, "gamma", (size_t)C);
        double *be = widen_input(&b, c, "beta", (size_t)C);
        double *dout = widen_input(&b, c, "dout", nx);
        double *em = widen_input(&b, c, "eval_mean", (size_t)C);
        double *ev = widen_input(&b, c, "eval_var", (size_t)C);
        bn_ref r = {siam_check_doubles(nx), siam_check_doubles(nx), siam_check_doubles(nx)};
        double *mean = siam_check_doubles((size_t)C), *var = siam_check_doubles((size_t)C);
        double *dg = siam_check_doubles((size_t)C), *dbt = siam_check_doubles((size_t)C);
        siam_ref_bn_train(r.out, mean, var, in, g, be, N, C, HW, eps);
        siam_ref_bn_backward(r.din, dg, dbt, dout, in, g, N, C, HW, eps);
        for (size_t k = 0; k < nx; k++) {
            size_t ch = k / (size_t)HW % (size_t)C;
            r.eout[k] = (in[k] - em[ch]) / sqrt(ev[ch] + eps) * g[ch] + be[ch];
        }
        snprintf(n, sizeof n, "%s.out", c);
        fixture_vs_ref(&b, n, nx, bn_out_at, &r, TOL_BN);
        snprintf(n, sizeof n, "%s.din", c);
        fixture_vs_ref(&b, n, nx, bn_din_at, &r, TOL_BN);
        snprintf(n, sizeof n, "%s.eval_out", c);
        fixture_vs_ref(&b, n, nx, bn_eout_at, &r, TOL_BN);
        /* Running statistics: (1 - m) * old + m * batch, unbiased variance. */
        double mom = hyper[0], M = (double)N * HW;
        snprintf(n, sizeof n, "%s.running_mean0", c);
        const float *rm0 = fixture_values(&b, n, (size_t)C);
        snprintf(n, sizeof n, "%s.running_var0", c);
        const float *rv0 = fixture_values(&b, n, (size_t)C);
        double *rm = siam_check_doubles((size_t)C), *rv = siam_check_doubles((size_t)C);
        for (int ch = 0; ch < C; ch++) {
            rm[ch] = (1.0 - mom) * rm0[ch] + mom * mean[ch];
            rv[ch] = (1.0 - mom) * rv0[ch] + mom * var[ch] * M / (M - 1.0);
        }
        const char *suffix[] = {"running_mean", "running_var", "dgamma", "dbeta"};
        const double *want[] = {rm, rv, dg, dbt};
        for (size_t k = 0; k < 4; k++) {
            snprintf(n, sizeof n, "%s.%s", c, suffix[k]);
            char label[160];
            snprintf(label, sizeof label, "torch %s vs double", n);
            siam_check_close(label, fixture_values(&b, n, (size_t)C), want[k], (size_t)C,
                             TOL_BN);
        }
        double *all[] = {in, g, be, dout, em, ev, r.out, r.din, r.eout, mean, var, dg, dbt, rm, rv};
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
            free(all[k]);
    }
    siam_fixture_free(b.fx);
}

static double vec_at(const void *u, size_t f)
{
    return ((const double *)u)[f];
}

static void fixture_linear_matches_double(void **state)
{
    (void)state;
    bench b = bench_plain();
    const char *cases[] = {"lin_small", "lin_big"};
    for (size_t i = 0; i < 2; i++) {
        const char *c = cases[i];
        char n[128];
        int d[3];
        case_dims(&b, c, d, 3);
        int N = d[0], I = d[1], O = d[2];
        double *in = widen_input(&b, c, "in", (size_t)N * I);
        double *w = widen_input(&b, c, "w", (size_t)O * I);
        double *bias = widen_input(&b, c, "b", (size_t)O);
        double *out = siam_check_doubles((size_t)N * O);
        siam_ref_linear_forward(out, in, w, bias, N, I, O);
        snprintf(n, sizeof n, "%s.out", c);
        fixture_vs_ref(&b, n, (size_t)N * O, vec_at, out, TOL_GEMM_FWD);
        free(in);
        free(w);
        free(bias);
        free(out);
    }
    siam_fixture_free(b.fx);
}

int main(void)
{
    const struct CMUnitTest backend_tests[] = {
        cmocka_unit_test(conv2d_small),
        cmocka_unit_test(conv2d_conv1_shape),
        cmocka_unit_test(conv2d_conv2_shape),
        cmocka_unit_test(batchnorm_small),
        cmocka_unit_test(batchnorm_offset_mean),
        cmocka_unit_test(maxpool_with_ties),
        cmocka_unit_test(linear_small),
        cmocka_unit_test(linear_wide),
        cmocka_unit_test(sigmoid_and_relu),
        cmocka_unit_test(absdiff_with_equal_pairs),
        cmocka_unit_test(bce_with_clamped_logs),
    };
    const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test(fixture_conv_matches_double),
        cmocka_unit_test(fixture_batchnorm_matches_double),
        cmocka_unit_test(fixture_linear_matches_double),
    };
    int failed = siam_check_run("torch_ops", backend_tests,
                                sizeof backend_tests / sizeof backend_tests[0]);
    failed += cmocka_run_group_tests_name("torch_ops/fixture", fixture_tests, NULL, NULL);
    return failed;
}
