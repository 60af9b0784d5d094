/* The argument checks that every backend makes before an operator runs,
 * with their messages, written once so that the CPU and the CUDA backends
 * refuse the same calls in the same words (e.g. "linear_forward: bad sizes
 * N=-1 I=3 O=2"). Each returns 0, or -1 with the message in err; fn names
 * the operator where several share a check. Checks that need the backend's
 * data (index ranges, NULL buffers) stay with each backend. */
#ifndef SIAM_OP_CHECKS_H
#define SIAM_OP_CHECKS_H

#include "kernels/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Valid padding, stride 1: N >= 0, Ci, Co, KH, KW >= 1, kernel within the input. */
int siam_check_conv2d(siam_error *err, const char *fn, int N, int Ci, int H, int W, int Co,
                      int KH, int KW);
/* N >= 0, I, O >= 1. */
int siam_check_linear(siam_error *err, const char *fn, int N, int I, int O);
/* N, C, HW >= 1. */
int siam_check_batchnorm(siam_error *err, const char *fn, int N, int C, int HW);
/* The backward's eps, which must be the forward's (> 0). */
int siam_check_batchnorm_eps(siam_error *err, float eps);
/* NC >= 0, H, W >= 2. */
int siam_check_maxpool2(siam_error *err, const char *fn, int NC, int H, int W);
/* gather_normalize: n >= 0, pixels >= 1, std > 0. */
int siam_check_gather(siam_error *err, int n, int pixels, float std);
/* augment_batch: n >= 0, H, W >= 1, std > 0. */
int siam_check_augment(siam_error *err, int n, int H, int W, float std);
/* dropout_forward: p in [0, 1]. */
int siam_check_dropout(siam_error *err, float p);
/* adam_step: step >= 1, betas in [0, 1). */
int siam_check_adam(siam_error *err, long step, float beta1, float beta2);
/* sgd_step: nesterov needs momentum > 0. */
int siam_check_sgd(siam_error *err, float momentum, int nesterov);
/* lerp: w in [0, 1]. */
int siam_check_lerp(siam_error *err, float w);
/* margin_softmax: N, D, C >= 1, a known kind; for cosface and arcface a
 * finite s >= 0 and a finite m >= 0 (arcface: m < pi, where its threshold
 * cos(pi - m) stops meaning theta + m < pi). Softmax reads neither. */
int siam_check_margin_softmax(siam_error *err, int N, int D, int C, int kind, float s, float m);
/* The message for labels[row] = label outside [0, C), as both backends give it. */
int siam_fail_margin_label(siam_error *err, int row, int label, int C);

/* l2_normalize_*: N >= 0, D >= 1, eps > 0. */
int siam_check_l2_normalize(siam_error *err, const char *fn, int N, int D, float eps);
/* triplet_hard_*: N >= 0, D >= 1, a finite margin >= 0, soft 0 or 1. */
int siam_check_triplet(siam_error *err, const char *fn, int N, int D, float margin, int soft);

#ifdef __cplusplus
}
#endif

#endif
