/* The identity heads' logit rule (siam_ops.margin_softmax), shared by the
 * CPU and CUDA backends so that both apply the same margin, clamp and
 * threshold to the true class. Sizes, buffers and the loss itself are in
 * kernels/ops.h; the formulas and their sources in docs/ops.md. */
#ifndef SIAM_MARGIN_H
#define SIAM_MARGIN_H

#ifndef __CUDACC__
#include <math.h>
#endif

/* As kernels/philox.h defines it (an identical redefinition is allowed). */
#ifdef __CUDACC__
#define SIAM_HD __host__ __device__ __forceinline__
#else
#define SIAM_HD static inline
#endif

#define SIAM_MARGIN_SOFTMAX 0 /* logits E W^T */
#define SIAM_MARGIN_COSFACE 1 /* s cos, s (cos - m) for the true class */
#define SIAM_MARGIN_ARCFACE 2 /* s cos, s cos(theta + m) for the true class */

/* The floor of a row's L2 norm: torch.nn.functional.normalize's eps. */
#define SIAM_MARGIN_NORM_EPS 1e-12
/* The floor of sin(theta) in ArcFace's derivative: at theta = 0 the exact
 * derivative d cos(theta + m) / d cos(theta) = sin(theta + m) / sin(theta)
 * is infinite (PyTorch gives inf there). A float cosine below 1 has
 * sin(theta) >= 3e-4, so the floor only acts at cos = 1 exactly. */
#define SIAM_MARGIN_SIN_EPS 1e-6

/* The logit of a class other than the row's label, from its cosine (the
 * raw dot product for softmax); its derivative w.r.t. c is s (1: softmax). */
SIAM_HD double siam_margin_other(int kind, double s, double c)
{
    return kind == SIAM_MARGIN_SOFTMAX ? c : s * c;
}

/* The true class's logit from its cosine c, and in *dz its derivative
 * w.r.t. c. ArcFace follows insightface (easy_margin off): c is clamped to
 * [-1, 1] (no gradient where the clamp acts, as torch.clamp); while
 * c > cos(pi - m), i.e. theta + m < pi, the logit is
 * s (c cos m - sin(theta) sin m) = s cos(theta + m); beyond, where
 * cos(theta + m) would rise again, it is s (c - m sin m), which keeps the
 * logit falling with theta. */
SIAM_HD double siam_margin_target(int kind, double s, double m, double c, double *dz)
{
    if (kind == SIAM_MARGIN_SOFTMAX) {
        *dz = 1.0;
        return c;
    }
    if (kind == SIAM_MARGIN_COSFACE) {
        *dz = s;
        return s * (c - m);
    }
    double cc = c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
    double pass = cc == c ? 1.0 : 0.0;
    double cos_m = cos(m), sin_m = sin(m);
    if (cc > -cos_m) { /* cos(pi - m) = -cos m */
        double sn = sqrt(fmax(1.0 - cc * cc, 0.0));
        *dz = pass * s * (cos_m + sin_m * cc / fmax(sn, SIAM_MARGIN_SIN_EPS));
        return s * (cc * cos_m - sn * sin_m);
    }
    *dz = pass * s;
    return s * (cc - m * sin_m); /* sin(pi - m) m = m sin m */
}

#endif
