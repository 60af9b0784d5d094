/* The operators' shared argument checks (kernels/op_checks.h). */
#include "kernels/op_checks.h"

#include <math.h>

#include "kernels/margin.h"

int siam_check_conv2d(siam_error *err, const char *fn, int N, int Ci, int H, int W, int Co,
                      int KH, int KW)
{
    if (N < 0 || Ci < 1 || Co < 1 || KH < 1 || KW < 1)
        return siam_fail(err, "%s: bad sizes N=%d Ci=%d Co=%d kernel %dx%d", fn, N, Ci, Co, KH,
                         KW);
    if (H < KH || W < KW)
        return siam_fail(err, "%s: kernel %dx%d larger than input %dx%d", fn, KH, KW, H, W);
    return 0;
}

int siam_check_linear(siam_error *err, const char *fn, int N, int I, int O)
{
    if (N < 0 || I < 1 || O < 1)
        return siam_fail(err, "%s: bad sizes N=%d I=%d O=%d", fn, N, I, O);
    return 0;
}

int siam_check_batchnorm(siam_error *err, const char *fn, int N, int C, int HW)
{
    if (N < 1 || C < 1 || HW < 1)
        return siam_fail(err, "%s: bad sizes N=%d C=%d HW=%d", fn, N, C, HW);
    return 0;
}

int siam_check_batchnorm_eps(siam_error *err, float eps)
{
    if (!(eps > 0.0f))
        return siam_fail(err, "batchnorm_backward: eps must be > 0 (the forward's), got %g",
                         (double)eps);
    return 0;
}

int siam_check_maxpool2(siam_error *err, const char *fn, int NC, int H, int W)
{
    if (NC < 0 || H < 2 || W < 2)
        return siam_fail(err, "%s: bad sizes NC=%d H=%d W=%d", fn, NC, H, W);
    return 0;
}

int siam_check_gather(siam_error *err, int n, int pixels, float std)
{
    if (n < 0 || pixels < 1)
        return siam_fail(err, "gather_normalize: bad sizes n=%d pixels=%d", n, pixels);
    if (!(std > 0.0f))
        return siam_fail(err, "gather_normalize: std must be > 0, got %g", (double)std);
    return 0;
}

int siam_check_augment(siam_error *err, int n, int H, int W, float std)
{
    if (n < 0 || H < 1 || W < 1)
        return siam_fail(err, "augment_batch: bad sizes n=%d H=%d W=%d", n, H, W);
    if (!(std > 0.0f))
        return siam_fail(err, "augment_batch: std must be > 0, got %g", (double)std);
    return 0;
}

int siam_check_dropout(siam_error *err, float p)
{
    if (!(p >= 0.0f && p <= 1.0f))
        return siam_fail(err, "dropout_forward: p must be in [0, 1], got %g", (double)p);
    return 0;
}

int siam_check_adam(siam_error *err, long step, float beta1, float beta2)
{
    if (step < 1)
        return siam_fail(err, "adam_step: step counts from 1, got %ld", step);
    if (!(beta1 >= 0.0f && beta1 < 1.0f && beta2 >= 0.0f && beta2 < 1.0f))
        return siam_fail(err, "adam_step: betas must be in [0, 1), got %g, %g", (double)beta1,
                         (double)beta2);
    return 0;
}

int siam_check_sgd(siam_error *err, float momentum, int nesterov)
{
    if (nesterov && momentum <= 0.0f)
        return siam_fail(err, "sgd_step: nesterov needs momentum > 0, got %g", (double)momentum);
    return 0;
}

int siam_check_lerp(siam_error *err, float w)
{
    if (!(w >= 0.0f && w <= 1.0f))
        return siam_fail(err, "lerp: weight %g outside [0, 1]", (double)w);
    return 0;
}

int siam_check_l2_normalize(siam_error *err, const char *fn, int N, int D, float eps)
{
    if (N < 0 || D < 1)
        return siam_fail(err, "%s: bad sizes N=%d D=%d", fn, N, D);
    if (!(eps > 0.0f))
        return siam_fail(err, "%s: eps %g must be > 0", fn, (double)eps);
    return 0;
}

int siam_check_triplet(siam_error *err, const char *fn, int N, int D, float margin, int soft)
{
    if (N < 0 || D < 1)
        return siam_fail(err, "%s: bad sizes N=%d D=%d", fn, N, D);
    if (!(margin >= 0.0f && margin < 1e30f))
        return siam_fail(err, "%s: margin %g must be finite and >= 0", fn, (double)margin);
    if (soft != 0 && soft != 1)
        return siam_fail(err, "%s: soft %d is not 0 or 1", fn, soft);
    return 0;
}

int siam_check_margin_softmax(siam_error *err, int N, int D, int C, int kind, float s, float m)
{
    if (N < 1 || D < 1 || C < 1)
        return siam_fail(err, "margin_softmax: bad sizes N=%d D=%d C=%d", N, D, C);
    if (kind != SIAM_MARGIN_SOFTMAX && kind != SIAM_MARGIN_COSFACE && kind != SIAM_MARGIN_ARCFACE)
        return siam_fail(err, "margin_softmax: unknown kind %d (0 softmax, 1 cosface, 2 arcface)",
                         kind);
    if (kind == SIAM_MARGIN_SOFTMAX)
        return 0;
    if (!(isfinite(s) && s >= 0.0f))
        return siam_fail(err, "margin_softmax: scale s must be a finite number >= 0, got %g",
                         (double)s);
    if (kind == SIAM_MARGIN_ARCFACE && !(m >= 0.0f && (double)m < 3.14159265358979323846))
        return siam_fail(err, "margin_softmax: arcface margin m must be in [0, pi), got %g",
                         (double)m);
    if (!(isfinite(m) && m >= 0.0f))
        return siam_fail(err, "margin_softmax: margin m must be a finite number >= 0, got %g",
                         (double)m);
    return 0;
}

int siam_fail_margin_label(siam_error *err, int row, int label, int C)
{
    return siam_fail(err, "margin_softmax: labels[%d] = %d is outside [0, C) with C = %d", row,
                     label, C);
}
