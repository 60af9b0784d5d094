/* Test helpers for the operator suites: run one list of cmocka tests against
 * every backend (skipping, with the reason, a backend that is not built or
 * cannot start), move data through ops->upload/download so the same check
 * works on device memory, fill inputs from Philox, compare with naive
 * double-precision references, and take central finite differences. */
#ifndef SIAM_TESTS_OPS_CHECK_H
#define SIAM_TESTS_OPS_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernels/ops.h"

typedef struct siam_check_backend {
    const siam_ops *ops; /* NULL when this backend is unavailable */
    siam_ctx *ctx;
    char why[1200];     /* why it is unavailable */
} siam_check_backend;

/* Runs `tests` as group "<suite>/cpu", then "<suite>/cuda". Each test gets a
 * siam_check_backend as its state; returns the number of failures. */
int siam_check_run(const char *suite, const struct CMUnitTest *tests, size_t count);

/* The backend of a test's state; skips the test (printing why) when the
 * backend is unavailable. */
const siam_check_backend *siam_check_backend_of(void **state);

/* Device buffers: allocation, host<->device copies; each fails the test with
 * the backend's message on error. */
float *siam_check_alloc(const siam_check_backend *b, size_t n);
float *siam_check_put(const siam_check_backend *b, const float *host, size_t n);
void *siam_check_put_bytes(const siam_check_backend *b, const void *host, size_t bytes);
void siam_check_get(const siam_check_backend *b, float *host, const float *dev, size_t n);
void siam_check_get_bytes(const siam_check_backend *b, void *host, const void *dev, size_t bytes);
void siam_check_free(const siam_check_backend *b, void *dev);
/* Fails the test with ctx's message when rc != 0. */
void siam_check_ok(const siam_check_backend *b, int rc, const char *what);

/* x[i] = lo + (hi - lo) * siam_philox_uniform(4242, stream, i). */
void siam_check_random(float *x, size_t n, uint64_t stream, float lo, float hi);
/* Host allocations that fail the test when memory runs out. */
float *siam_check_floats(size_t n);
double *siam_check_doubles(size_t n);
double *siam_check_widen(const float *x, size_t n);

/* Largest relative difference max_i |got_i - want_i| / max(|want_i|, s)
 * where s is the RMS of want (so values near zero are judged on the scale
 * of the whole tensor); prints it and asserts it is <= tol. With idx, only
 * the listed positions are compared (got and want are indexed by idx[k]
 * for got, k for want). Returns the difference. */
double siam_check_close(const char *what, const float *got, const double *want, size_t n,
                        double tol);
double siam_check_close_at(const char *what, const float *got, const size_t *idx,
                           const double *want, size_t k, double tol);
/* Elementwise: |got_i - want_i| <= atol + rtol*|want_i| for every i (NaN
 * fails); prints the largest difference. For exact results (atol = rtol = 0)
 * and per-element bounds that siam_check_close's tensor-wide scale would
 * loosen. */
void siam_check_near(const char *what, const float *got, const double *want, size_t n,
                     double atol, double rtol);
/* k sample positions in [0, n), from Philox stream `stream`. */
void siam_check_sample(size_t *idx, size_t k, size_t n, uint64_t stream);

/* Central differences of a scalar function: grad[i] = (f(x+h e_i) -
 * f(x-h e_i)) / 2h, x restored afterwards. */
typedef double (*siam_check_fn)(void *user, const double *x);
void siam_check_fd(siam_check_fn f, void *user, double *x, size_t n, double h, double *grad);

/* Naive references in double. Shapes as in kernels/ops.h. */
typedef struct siam_conv_shape {
    int N, Ci, H, W, Co, KH, KW;
} siam_conv_shape;
double siam_ref_conv2d_at(const siam_conv_shape *s, const double *in, const double *w,
                          const double *b, int n, int co, int oh, int ow);
void siam_ref_conv2d_forward(const siam_conv_shape *s, double *out, const double *in,
                             const double *w, const double *b);
double siam_ref_conv2d_dw_at(const siam_conv_shape *s, const double *dout, const double *in,
                             int co, int ci, int kh, int kw);
double siam_ref_conv2d_din_at(const siam_conv_shape *s, const double *dout, const double *w,
                              int n, int ci, int h, int x);
void siam_ref_conv2d_db(const siam_conv_shape *s, double *db, const double *dout);

/* Training-mode batch norm: out, and the batch mean and biased variance. */
void siam_ref_bn_train(double *out, double *mean, double *var, const double *in,
                       const double *gamma, const double *beta, int N, int C, int HW, double eps);
/* Its backward (analytic, in double): din, dgamma, dbeta overwritten. */
void siam_ref_bn_backward(double *din, double *dgamma, double *dbeta, const double *dout,
                          const double *in, const double *gamma, int N, int C, int HW,
                          double eps);

void siam_ref_linear_forward(double *out, const double *in, const double *w, const double *b,
                             int N, int I, int O);

#endif
