/* Implementation of tests/support/ops_check.h: backend groups, device
 * transfers, Philox fills, comparisons and naive double references. */
#include "tests/support/ops_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/backend.h"
#include "kernels/philox.h"

static int backend_setup(void **state, const siam_ops *ops, const char *name)
{
    siam_check_backend *b = calloc(1, sizeof *b);
    if (b == NULL)
        return -1;
    if (ops == NULL) {
        snprintf(b->why, sizeof b->why, "%s backend not built (make CUDA=1 builds it)", name);
    } else {
        siam_error err = {{0}};
        /* CUDA takes the environment's options (SIAM_CUDA_BATCHNORM:
         * gpu-check runs the batch-norm suite with each); FP32, all cores.
         * A bad value fails the group rather than skip it. */
        siam_ctx_options opt = {.threads = 0};
        if (ops->device == SIAM_DEVICE_CUDA && siam_backend_env_options(&opt, &err)) {
            print_message("backend %s: %s\n", name, err.msg);
            free(b);
            return -1;
        }
        if ((b->ctx = ops->ctx_new(&opt, &err)) == NULL)
            snprintf(b->why, sizeof b->why, "%s backend cannot start: %s", name, err.msg);
        else
            b->ops = ops;
    }
    print_message("backend %s: %s\n", name, b->ops ? "ready" : b->why);
    *state = b;
    return 0;
}

static int setup_cpu(void **state)
{
    return backend_setup(state, &siam_ops_cpu, "cpu");
}

static int setup_cuda(void **state)
{
    return backend_setup(state, siam_ops_cuda(), "cuda");
}

static int teardown(void **state)
{
    siam_check_backend *b = *state;
    if (b && b->ops)
        b->ops->ctx_free(b->ctx);
    free(b);
    return 0;
}

int siam_check_run(const char *suite, const struct CMUnitTest *tests, size_t count)
{
    char name[256];
    snprintf(name, sizeof name, "%s/cpu", suite);
    int failed = _cmocka_run_group_tests(name, tests, count, setup_cpu, teardown);
    snprintf(name, sizeof name, "%s/cuda", suite);
    failed += _cmocka_run_group_tests(name, tests, count, setup_cuda, teardown);
    return failed;
}

const siam_check_backend *siam_check_backend_of(void **state)
{
    const siam_check_backend *b = *state;
    assert_non_null(b);
    if (b->ops == NULL) {
        print_message("skipped: %s\n", b->why);
        skip();
    }
    return b;
}

void siam_check_ok(const siam_check_backend *b, int rc, const char *what)
{
    if (rc != 0)
        fail_msg("%s on %s failed: %s", what, b->ops->name, b->ops->ctx_error(b->ctx));
}

void *siam_check_put_bytes(const siam_check_backend *b, const void *host, size_t bytes)
{
    void *d = b->ops->mem_alloc(b->ctx, bytes);
    if (d == NULL)
        fail_msg("mem_alloc(%zu) on %s: %s", bytes, b->ops->name, b->ops->ctx_error(b->ctx));
    if (host)
        siam_check_ok(b, b->ops->upload(b->ctx, d, host, bytes), "upload");
    return d;
}

float *siam_check_alloc(const siam_check_backend *b, size_t n)
{
    return siam_check_put_bytes(b, NULL, n * sizeof(float));
}

float *siam_check_put(const siam_check_backend *b, const float *host, size_t n)
{
    return siam_check_put_bytes(b, host, n * sizeof(float));
}

void siam_check_get_bytes(const siam_check_backend *b, void *host, const void *dev, size_t bytes)
{
    siam_check_ok(b, b->ops->download(b->ctx, host, dev, bytes), "download");
}

void siam_check_get(const siam_check_backend *b, float *host, const float *dev, size_t n)
{
    siam_check_get_bytes(b, host, dev, n * sizeof(float));
}

void siam_check_free(const siam_check_backend *b, void *dev)
{
    b->ops->mem_free(b->ctx, dev);
}

void siam_check_random(float *x, size_t n, uint64_t stream, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * siam_philox_uniform(4242, stream, i);
}

float *siam_check_floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (p == NULL)
        fail_msg("out of host memory for %zu floats", n);
    return p;
}

double *siam_check_doubles(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (p == NULL)
        fail_msg("out of host memory for %zu doubles", n);
    return p;
}

double *siam_check_widen(const float *x, size_t n)
{
    double *d = siam_check_doubles(n);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static double close_report(const char *what, const float *got, const size_t *idx,
                           const double *want, size_t k, double tol)
{
    double ss = 0.0;
    for (size_t i = 0; i < k; i++)
        ss += want[i] * want[i];
    double rms = k ? sqrt(ss / (double)k) : 0.0;
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < k; i++) {
        double g = got[idx ? idx[i] : i];
        double scale = fmax(fabs(want[i]), rms);
        double d = fabs(g - want[i]);
        double r = scale > 0.0 ? d / scale : d;
        if (!(r <= worst)) { /* also catches NaN */
            worst = r;
            at = i;
            if (isnan(r))
                break;
        }
    }
    print_message("%-44s max rel diff %.3e (tol %.1e) over %zu values%s\n", what, worst, tol, k,
                  idx ? " (sampled)" : "");
    if (!(worst <= tol))
        fail_msg("%s: value %zu is %.9g, expected %.9g (rel diff %.3e > %.1e)", what,
                 idx ? idx[at] : at, (double)got[idx ? idx[at] : at], want[at], worst, tol);
    return worst;
}

double siam_check_close(const char *what, const float *got, const double *want, size_t n,
                        double tol)
{
    return close_report(what, got, NULL, want, n, tol);
}

double siam_check_close_at(const char *what, const float *got, const size_t *idx,
                           const double *want, size_t k, double tol)
{
    return close_report(what, got, idx, want, k, tol);
}

void siam_check_sample(size_t *idx, size_t k, size_t n, uint64_t stream)
{
    for (size_t i = 0; i < k; i++) {
        size_t j = (size_t)((double)siam_philox_uniform(99, stream, i) * (double)n);
        idx[i] = j < n ? j : n - 1;
    }
}

void siam_check_fd(siam_check_fn f, void *user, double *x, size_t n, double h, double *grad)
{
    for (size_t i = 0; i < n; i++) {
        double x0 = x[i];
        x[i] = x0 + h;
        double fp = f(user, x);
        x[i] = x0 - h;
        double fm = f(user, x);
        x[i] = x0;
        grad[i] = (fp - fm) / (2.0 * h);
    }
}

double siam_ref_conv2d_at(const siam_conv_shape *s, const double *in, const double *w,
                          const double *b, int n, int co, int oh, int ow)
{
    double acc = b ? b[co] : 0.0;
    for (int ci = 0; ci < s->Ci; ci++)
        for (int kh = 0; kh < s->KH; kh++)
            for (int kw = 0; kw < s->KW; kw++)
                acc += in[(((size_t)n * s->Ci + ci) * s->H + oh + kh) * s->W + ow + kw]
                       * w[(((size_t)co * s->Ci + ci) * s->KH + kh) * s->KW + kw];
    return acc;
}

void siam_ref_conv2d_forward(const siam_conv_shape *s, double *out, const double *in,
                             const double *w, const double *b)
{
    int OH = s->H - s->KH + 1, OW = s->W - s->KW + 1;
    size_t k = 0;
    for (int n = 0; n < s->N; n++)
        for (int co = 0; co < s->Co; co++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                    out[k++] = siam_ref_conv2d_at(s, in, w, b, n, co, oh, ow);
}

double siam_ref_conv2d_dw_at(const siam_conv_shape *s, const double *dout, const double *in,
                             int co, int ci, int kh, int kw)
{
    int OH = s->H - s->KH + 1, OW = s->W - s->KW + 1;
    double acc = 0.0;
    for (int n = 0; n < s->N; n++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                acc += dout[(((size_t)n * s->Co + co) * OH + oh) * OW + ow]
                       * in[(((size_t)n * s->Ci + ci) * s->H + oh + kh) * s->W + ow + kw];
    return acc;
}

double siam_ref_conv2d_din_at(const siam_conv_shape *s, const double *dout, const double *w,
                              int n, int ci, int h, int x)
{
    int OH = s->H - s->KH + 1, OW = s->W - s->KW + 1;
    double acc = 0.0;
    for (int co = 0; co < s->Co; co++)
        for (int kh = 0; kh < s->KH; kh++)
            for (int kw = 0; kw < s->KW; kw++) {
                int oh = h - kh, ow = x - kw;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW)
                    continue;
                acc += dout[(((size_t)n * s->Co + co) * OH + oh) * OW + ow]
                       * w[(((size_t)co * s->Ci + ci) * s->KH + kh) * s->KW + kw];
            }
    return acc;
}

void siam_ref_conv2d_db(const siam_conv_shape *s, double *db, const double *dout)
{
    size_t P = (size_t)(s->H - s->KH + 1) * (s->W - s->KW + 1);
    for (int co = 0; co < s->Co; co++) {
        double acc = 0.0;
        for (int n = 0; n < s->N; n++)
            for (size_t p = 0; p < P; p++)
                acc += dout[((size_t)n * s->Co + co) * P + p];
        db[co] = acc;
    }
}

void siam_ref_bn_train(double *out, double *mean, double *var, const double *in,
                       const double *gamma, const double *beta, int N, int C, int HW, double eps)
{
    double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double s = 0.0, ss = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++)
                s += in[((size_t)n * C + c) * HW + i];
        double mu = s / M;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                double t = in[((size_t)n * C + c) * HW + i] - mu;
                ss += t * t;
            }
        double v = ss / M;
        if (mean)
            mean[c] = mu;
        if (var)
            var[c] = v;
        if (out)
            for (int n = 0; n < N; n++)
                for (int i = 0; i < HW; i++) {
                    size_t k = ((size_t)n * C + c) * HW + i;
                    out[k] = (in[k] - mu) / sqrt(v + eps) * gamma[c] + beta[c];
                }
    }
}

void siam_ref_bn_backward(double *din, double *dgamma, double *dbeta, const double *dout,
                          const double *in, const double *gamma, int N, int C, int HW,
                          double eps)
{
    double M = (double)N * HW;
    double *mean = siam_check_doubles((size_t)C), *var = siam_check_doubles((size_t)C);
    siam_ref_bn_train(NULL, mean, var, in, gamma, gamma, N, C, HW, eps);
    for (int c = 0; c < C; c++) {
        double is = 1.0 / sqrt(var[c] + eps), sg = 0.0, sgx = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)n * C + c) * HW + i;
                sg += dout[k];
                sgx += dout[k] * (in[k] - mean[c]) * is;
            }
        dgamma[c] = sgx;
        dbeta[c] = sg;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)n * C + c) * HW + i;
                double xh = (in[k] - mean[c]) * is;
                din[k] = gamma[c] * is / M * (M * dout[k] - sg - xh * sgx);
            }
    }
    free(mean);
    free(var);
}

void siam_ref_linear_forward(double *out, const double *in, const double *w, const double *b,
                             int N, int I, int O)
{
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
            double acc = b[o];
            for (int i = 0; i < I; i++)
                acc += in[(size_t)n * I + i] * w[(size_t)o * I + i];
            out[(size_t)n * O + o] = acc;
        }
}

void siam_check_near(const char *what, const float *got, const double *want, size_t n,
                     double atol, double rtol)
{
    double worst = 0.0;
    size_t at = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= atol + rtol * fabs(want[i])))
            bad = 1;
        if (!(d <= worst)) {
            worst = d;
            at = i;
        }
    }
    print_message("%-44s max |diff| %.3g at %zu\n", what, worst, at);
    if (bad)
        fail_msg("%s: value %zu is %.9g, expected %.9g", what, at, (double)got[at], want[at]);
}
