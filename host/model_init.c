/* Seeded initialisation of the Siamese model's parameters and BN running
 * statistics. Values are computed on the host from Philox and uploaded in
 * blocks; this is not on the training path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/model.h"
#include "kernels/philox.h"

int siam_init_kind_parse(const char *name, siam_init_kind *out, siam_error *err)
{
    if (name && strcmp(name, "paper") == 0)
        *out = SIAM_INIT_PAPER;
    else if (name && strcmp(name, "pytorch") == 0)
        *out = SIAM_INIT_PYTORCH;
    else if (name && strcmp(name, "crosscheck") == 0)
        *out = SIAM_INIT_CROSSCHECK;
    else
        return siam_fail(err, "unknown init '%s' (expected paper, pytorch or crosscheck)",
                         name ? name : "(null)");
    return 0;
}

/* Standard normal number i of tensor j: Box-Muller in double over two
 * Philox words, each mapped to (0, 1) by (w + 0.5) / 2^32 so log() never
 * sees 0. */
static double init_normal(uint64_t seed, int j, size_t i)
{
    uint64_t base = ((uint64_t)j << 40) + 2 * (uint64_t)i;
    double u1 = ((double)siam_philox_u32(seed, SIAM_STREAM_INIT, base) + 0.5) / 4294967296.0;
    double u2 = ((double)siam_philox_u32(seed, SIAM_STREAM_INIT, base + 1) + 0.5) / 4294967296.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Values of one tensor are made on the host this many at a time, so that
 * the host copy stays small beside the device's (the fc weight alone is
 * 144 MiB on the paper's network, which an inference's peak memory would
 * otherwise hold twice). Every value is a function of its index, so the
 * blocks change nothing in the values. */
#define SIAM_INIT_BLOCK ((size_t)1 << 18)

/* Fills values i0 .. i0+n-1 of one tensor of `kind` into v (n) on the host. */
static void init_tensor(float *v, const siam_param_info *p, int j, siam_init_kind kind,
                        uint64_t seed, size_t i0, size_t n)
{
    if (p->role == SIAM_ROLE_BN_WEIGHT || p->role == SIAM_ROLE_BN_BIAS) {
        float val = p->role == SIAM_ROLE_BN_WEIGHT ? 1.0f : 0.0f;
        for (size_t i = 0; i < n; i++)
            v[i] = val;
        return;
    }
    int is_weight = p->role == SIAM_ROLE_CONV_WEIGHT || p->role == SIAM_ROLE_FC_WEIGHT;
    if (kind == SIAM_INIT_PAPER) {
        /* Koch et al. 2015, Section 3.1: conv weights N(0, 1e-2), biases
         * N(0.5, 1e-2); fully-connected weights N(0, 2e-1). */
        double mean = is_weight ? 0.0 : 0.5;
        double sd = (is_weight && p->role == SIAM_ROLE_FC_WEIGHT) ? 2e-1 : 1e-2;
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(mean + sd * init_normal(seed, j, i0 + i));
        return;
    }
    /* torch.nn.Conv2d / Linear reset_parameters: kaiming_uniform_(a=sqrt(5))
     * gives bound = gain*sqrt(3/fan_in) with gain = sqrt(2/(1+5)), i.e.
     * 1/sqrt(fan_in); the bias bound is 1/sqrt(fan_in) too. */
    float bound = (float)(1.0 / sqrt((double)p->fan_in));
    for (size_t i = 0; i < n; i++) {
        float u = kind == SIAM_INIT_CROSSCHECK
            ? siam_philox_uniform(seed, 100 + (uint64_t)j, i0 + i)
            : siam_philox_uniform(seed, SIAM_STREAM_INIT, ((uint64_t)j << 40) + i0 + i);
        v[i] = (u * 2.0f - 1.0f) * bound;
    }
}

int siam_model_init(siam_model *m, siam_init_kind kind, uint64_t seed, siam_error *err)
{
    if (kind != SIAM_INIT_PAPER && kind != SIAM_INIT_PYTORCH && kind != SIAM_INIT_CROSSCHECK)
        return siam_fail(err, "model init: unknown kind %d", (int)kind);
    size_t nb = siam_model_buffer_numel(m);
    size_t hn = nb > SIAM_INIT_BLOCK ? nb : SIAM_INIT_BLOCK;
    float *host = malloc(hn * sizeof(float));
    if (!host)
        return siam_fail(err, "model init: out of host memory for %zu floats", hn);
    const siam_ops *o = siam_model_ops(m);
    int rc = 0;
    for (int j = 0; j < siam_model_param_count(m) && rc == 0; j++) {
        const siam_param_info *p = siam_model_param(m, j);
        for (size_t i0 = 0; i0 < p->numel && rc == 0; i0 += SIAM_INIT_BLOCK) {
            size_t n = p->numel - i0 < SIAM_INIT_BLOCK ? p->numel - i0 : SIAM_INIT_BLOCK;
            init_tensor(host, p, j, kind, seed, i0, n);
            if (o->upload(siam_model_ctx(m), siam_model_params(m) + p->offset + i0, host,
                          n * sizeof(float)))
                rc = siam_fail(err, "model init: upload of %s: %s", p->name,
                               o->ctx_error(siam_model_ctx(m)));
        }
    }
    if (rc == 0) {
        for (int j = 0; j < SIAM_MODEL_NBUFFERS; j++) {
            const siam_param_info *b = siam_model_buffer(m, j);
            float val = (j % 2) ? 1.0f : 0.0f; /* running_var 1, running_mean 0 */
            for (size_t i = 0; i < b->numel; i++)
                host[b->offset + i] = val;
        }
        if (o->upload(siam_model_ctx(m), siam_model_buffers(m), host, nb * sizeof(float)))
            rc = siam_fail(err, "model init: upload of BN statistics: %s",
                           o->ctx_error(siam_model_ctx(m)));
    }
    free(host);
    if (rc == 0)
        rc = siam_model_zero_grad(m, err);
    return rc;
}
