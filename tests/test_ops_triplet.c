/* The embedding-loss operators (ops->l2_normalize_*, ops->triplet_hard_*)
 * on every backend: against naive double-precision references, central
 * finite differences, and PyTorch's numbers (tests/fixtures/triplet.h,
 * scripts/make_triplet_fixture.py): F.normalize, then batch-hard mining
 * and nn.TripletMarginWithDistanceLoss with the cosine distance (or the
 * soft margin), differentiated by autograd through the normalisation. */
#include "tests/support/ops_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixtures/triplet.h"

enum { N = 16, D = 33 };

static void ref_normalize(double *out, const double *x, int n, int d)
{
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int k = 0; k < d; k++)
            s += x[i * d + k] * x[i * d + k];
        double inv = 1.0 / fmax(sqrt(s), 1e-12);
        for (int k = 0; k < d; k++)
            out[i * d + k] = x[i * d + k] * inv;
    }
}

/* The batch-hard loss in double from the whole distance matrix; hard (2n)
 * as the op's, -1 for an anchor without a positive or a negative. */
static double ref_triplet(int32_t *hard, const double *e, const int32_t *labels, int n, int d,
                          double margin, int soft)
{
    double *dist = malloc((size_t)n * n * sizeof *dist), sum = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int k = 0; k < d; k++)
                s += e[i * d + k] * e[j * d + k];
            dist[i * n + j] = 1.0 - s;
        }
    int valid = 0;
    for (int a = 0; a < n; a++) {
        int p = -1, q = -1;
        for (int j = 0; j < n; j++) {
            if (j != a && labels[j] == labels[a] && (p < 0 || dist[a * n + j] > dist[a * n + p]))
                p = j;
            if (labels[j] != labels[a] && (q < 0 || dist[a * n + j] < dist[a * n + q]))
                q = j;
        }
        int ok = p >= 0 && q >= 0;
        if (hard) {
            hard[2 * a] = ok ? p : -1;
            hard[2 * a + 1] = ok ? q : -1;
        }
        if (!ok)
            continue;
        double x = dist[a * n + p] - dist[a * n + q] + margin;
        sum += soft ? log1p(exp(x)) : fmax(x, 0.0);
        valid++;
    }
    free(dist);
    return valid ? sum / valid : 0.0;
}

/* P x K labels with a singleton: 0 0 0 1 1 1 ... and the last row alone,
 * so that one anchor has no positive. */
static void labels_of(int32_t *labels, int n)
{
    for (int i = 0; i < n; i++)
        labels[i] = i / 3;
    labels[n - 1] = 99;
}

static void normalize_forward_backward(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    size_t n = (size_t)N * D;
    float *x = siam_check_floats(n), *g = siam_check_floats(n), *got = siam_check_floats(n);
    siam_check_random(x, n, 81, -1.0f, 1.0f);
    siam_check_random(g, n, 82, -1.0f, 1.0f);
    for (int k = 0; k < D; k++)
        x[k] = 0.0f; /* row 0 is zero: the clamp */
    double *xd = siam_check_widen(x, n), *want = siam_check_doubles(n);
    float *x_ = siam_check_put(be, x, n), *g_ = siam_check_put(be, g, n);
    float *y_ = siam_check_alloc(be, n), *dx_ = siam_check_alloc(be, n);
    siam_check_ok(be, be->ops->l2_normalize_forward(be->ctx, y_, x_, N, D, SIAM_L2NORM_EPS),
                  "l2_normalize_forward");
    ref_normalize(want, xd, N, D);
    siam_check_get(be, got, y_, n);
    siam_check_near("l2_normalize forward", got, want, n, 0.0, 4e-7);
    siam_check_ok(be, be->ops->l2_normalize_backward(be->ctx, dx_, g_, x_, N, D,
                                                     SIAM_L2NORM_EPS), "l2_normalize_backward");
    siam_check_get(be, got, dx_, n);
    /* the zero row: dout / eps, as torch's clamp_min passes the gradient */
    for (int k = 0; k < D; k++)
        assert_float_equal(got[k], g[k] / 1e-12f, 1e-6 * fabs(g[k] / 1e-12));
    /* the others against the analytic gradient of sum(normalize(x) * g) */
    double *fd = siam_check_doubles(n);
    for (int i = 1; i < N; i++) {
        double s = 0.0, yg = 0.0;
        for (int k = 0; k < D; k++)
            s += xd[i * D + k] * xd[i * D + k];
        s = sqrt(s);
        for (int k = 0; k < D; k++)
            yg += xd[i * D + k] / s * g[i * D + k];
        for (int k = 0; k < D; k++)
            fd[i * D + k] = (g[i * D + k] - xd[i * D + k] / s * yg) / s;
    }
    siam_check_close("l2_normalize backward", got + D, fd + D, n - D, 1e-6);
    assert_int_equal(be->ops->l2_normalize_forward(be->ctx, y_, x_, N, 0, 1e-12f), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "l2_normalize_forward: bad sizes N=16 D=0");
    assert_int_equal(be->ops->l2_normalize_backward(be->ctx, dx_, g_, x_, N, D, 0.0f), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "l2_normalize_backward: eps 0 must be > 0");
    free(x), free(g), free(got), free(xd), free(want), free(fd);
    siam_check_free(be, x_), siam_check_free(be, g_), siam_check_free(be, y_);
    siam_check_free(be, dx_);
}

typedef struct fd_user {
    const int32_t *labels;
    double *e; /* scratch */
    double margin;
    int soft;
} fd_user;

static double triplet_of(void *user, const double *x)
{
    fd_user *u = user;
    return ref_triplet(NULL, x, u->labels, N, D, u->margin, u->soft);
}

/* Forward against the double reference (the loss and the mined
 * partners), backward against its central differences, for the hinge and
 * the soft margin; the backward ADDS into what de holds and scales by
 * dloss. The op is a function of e alone (it does not normalise), so the
 * differences are taken on unit rows moved off the sphere, which is fine:
 * the op's formula holds for any rows. */
static void triplet_against_reference(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    size_t n = (size_t)N * D;
    float *x = siam_check_floats(n), *e = siam_check_floats(n), *got = siam_check_floats(n);
    float *base = siam_check_floats(n);
    int32_t labels[N], hard[2 * N], want_hard[2 * N];
    labels_of(labels, N);
    siam_check_random(x, n, 83, -1.0f, 1.0f);
    siam_check_random(base, n, 84, -1.0f, 1.0f);
    double *xd = siam_check_widen(x, n), *ed = siam_check_doubles(n), *fd = siam_check_doubles(n);
    ref_normalize(ed, xd, N, D);
    for (size_t i = 0; i < n; i++) {
        e[i] = (float)ed[i];
        ed[i] = e[i];
    }
    float *e_ = siam_check_put(be, e, n), *de_ = siam_check_alloc(be, n);
    int32_t *lab_ = siam_check_put_bytes(be, labels, sizeof labels);
    int32_t *hard_ = siam_check_put_bytes(be, hard, sizeof hard);
    const struct { float margin; int soft; } cases[] = { { 0.3f, 0 }, { 0.05f, 0 }, { 0.0f, 1 },
                                                         { 0.2f, 1 } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float m = cases[c].margin, loss;
        int soft = cases[c].soft;
        char what[64];
        siam_check_ok(be, be->ops->triplet_hard_forward(be->ctx, &loss, hard_, e_, lab_, N, D, m,
                                                        soft), "triplet_hard_forward");
        double want = ref_triplet(want_hard, ed, labels, N, D, m, soft);
        siam_check_get_bytes(be, hard, hard_, sizeof hard);
        printf("margin %g%s: loss %.7f, reference %.7f\n", (double)m, soft ? " soft" : "",
               (double)loss, want);
        assert_memory_equal(hard, want_hard, sizeof hard);
        assert_int_equal(hard[2 * (N - 1)], -1); /* the singleton */
        assert_true(fabs(loss - want) <= 1e-6 * fmax(1.0, fabs(want)));
        assert_true(want > 0.0);
        /* de starts at `base`: the op adds 0.5 * d(loss) to it */
        float *b_ = siam_check_put(be, base, n);
        siam_check_ok(be, be->ops->triplet_hard_backward(be->ctx, b_, hard_, e_, N, D, m, soft,
                                                         0.5f), "triplet_hard_backward");
        siam_check_get(be, got, b_, n);
        siam_check_free(be, b_);
        fd_user u = { labels, NULL, m, soft };
        siam_check_fd(triplet_of, &u, ed, n, 1e-6, fd);
        for (size_t i = 0; i < n; i++)
            fd[i] = base[i] + 0.5 * fd[i];
        snprintf(what, sizeof what, "triplet m %g soft %d: base + 0.5 fd", (double)m, soft);
        siam_check_close(what, got, fd, n, 2e-6);
    }
    free(x), free(e), free(got), free(base), free(xd), free(ed), free(fd);
    siam_check_free(be, e_), siam_check_free(be, de_), siam_check_free(be, lab_);
    siam_check_free(be, hard_);
}

/* No anchor with both partners (one identity; or one row each): the loss
 * is 0, every hard is -1, and the backward adds nothing. N = 0 is empty.
 * Bad margins, soft flags and sizes are refused by name. */
static void triplet_edges_and_errors(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 4, d = 3 };
    float e[n * d], got[n * d];
    siam_check_random(e, n * d, 85, -1.0f, 1.0f);
    int32_t one[n] = { 7, 7, 7, 7 }, each[n] = { 0, 1, 2, 3 }, hard[2 * n];
    for (int i = 0; i < 2 * n; i++)
        hard[i] = i / 2; /* to be overwritten with -1 */
    float *e_ = siam_check_put(be, e, n * d), *de_ = siam_check_put(be, e, n * d);
    int32_t *hard_ = siam_check_put_bytes(be, hard, sizeof hard);
    for (int k = 0; k < 2; k++) {
        int32_t *lab_ = siam_check_put_bytes(be, k ? each : one, sizeof one);
        float loss = -1.0f;
        siam_check_ok(be, be->ops->triplet_hard_forward(be->ctx, &loss, hard_, e_, lab_, n, d,
                                                        0.3f, 0), "forward");
        assert_true(loss == 0.0f);
        siam_check_get_bytes(be, hard, hard_, sizeof hard);
        for (int i = 0; i < 2 * n; i++)
            assert_int_equal(hard[i], -1);
        siam_check_ok(be, be->ops->triplet_hard_backward(be->ctx, de_, hard_, e_, n, d, 0.3f, 0,
                                                         1.0f), "backward");
        siam_check_get(be, got, de_, n * d);
        assert_memory_equal(got, e, sizeof e);
        siam_check_free(be, lab_);
    }
    float loss = -1.0f;
    siam_check_ok(be, be->ops->triplet_hard_forward(be->ctx, &loss, NULL, NULL, NULL, 0, d, 0.3f,
                                                    0), "empty");
    assert_true(loss == 0.0f);
    assert_int_equal(be->ops->triplet_hard_forward(be->ctx, &loss, hard_, e_, hard_, n, d, -0.1f,
                                                   0), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx),
                        "triplet_hard_forward: margin -0.1 must be finite and >= 0");
    assert_int_equal(be->ops->triplet_hard_backward(be->ctx, de_, hard_, e_, n, d, 0.1f, 2, 1.0f),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "triplet_hard_backward: soft 2 is not 0 or 1");
    assert_int_equal(be->ops->triplet_hard_forward(be->ctx, &loss, hard_, e_, hard_, n, 0, 0.1f,
                                                   0), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "triplet_hard_forward: bad sizes N=4 D=0");
    siam_check_free(be, e_), siam_check_free(be, de_), siam_check_free(be, hard_);
}

/* PyTorch's numbers: normalise, mine, loss, and d(loss)/d(x) through both
 * ops' backward passes. */
static void triplet_against_pytorch(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = TRIPLET_N * TRIPLET_D };
    float *x_ = siam_check_put(be, triplet_x, n), *e_ = siam_check_alloc(be, n);
    float *de_ = siam_check_alloc(be, n), *dx_ = siam_check_alloc(be, n);
    int32_t *lab_ = siam_check_put_bytes(be, triplet_labels, sizeof triplet_labels);
    int32_t hard[2 * TRIPLET_N];
    memset(hard, 0, sizeof hard);
    int32_t *hard_ = siam_check_put_bytes(be, hard, sizeof hard);
    float got[n];
    double want[n];
    siam_check_ok(be, be->ops->l2_normalize_forward(be->ctx, e_, x_, TRIPLET_N, TRIPLET_D,
                                                    SIAM_L2NORM_EPS), "normalize");
    siam_check_get(be, got, e_, n);
    for (int i = 0; i < n; i++)
        want[i] = triplet_e[i];
    siam_check_near("F.normalize", got, want, n, 0.0, 5e-7);
    for (size_t c = 0; c < sizeof triplet_cases / sizeof triplet_cases[0]; c++) {
        const triplet_case *tc = &triplet_cases[c];
        float loss;
        siam_check_ok(be, be->ops->triplet_hard_forward(be->ctx, &loss, hard_, e_, lab_,
                                                        TRIPLET_N, TRIPLET_D, tc->margin,
                                                        tc->soft), "forward");
        siam_check_get_bytes(be, hard, hard_, sizeof hard);
        assert_memory_equal(hard, tc->hard, sizeof hard);
        printf("%s: loss %.7f, PyTorch %.7f\n", tc->name, (double)loss, (double)tc->loss);
        assert_true(fabsf(loss - tc->loss) <= 2e-6f * fmaxf(1.0f, fabsf(tc->loss)));
        siam_check_ok(be, be->ops->fill(be->ctx, de_, 0.0f, n), "fill");
        siam_check_ok(be, be->ops->triplet_hard_backward(be->ctx, de_, hard_, e_, TRIPLET_N,
                                                         TRIPLET_D, tc->margin, tc->soft, 1.0f),
                      "backward");
        siam_check_ok(be, be->ops->l2_normalize_backward(be->ctx, dx_, de_, x_, TRIPLET_N,
                                                         TRIPLET_D, SIAM_L2NORM_EPS),
                      "normalize backward");
        siam_check_get(be, got, dx_, n);
        for (int i = 0; i < n; i++)
            want[i] = tc->dx[i];
        char what[64];
        snprintf(what, sizeof what, "%s d(loss)/d(x)", tc->name);
        siam_check_close(what, got, want, n, 2e-5);
    }
    siam_check_free(be, x_), siam_check_free(be, e_), siam_check_free(be, de_);
    siam_check_free(be, dx_), siam_check_free(be, lab_), siam_check_free(be, hard_);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_forward_backward),
        cmocka_unit_test(triplet_against_reference),
        cmocka_unit_test(triplet_edges_and_errors),
        cmocka_unit_test(triplet_against_pytorch),
    };
    return siam_check_run("ops_triplet", tests, sizeof tests / sizeof tests[0]);
}
