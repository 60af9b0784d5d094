/* The choice of a cuDNN convolution algorithm, as plain data: cuDNN's
 * proposals for one direction of one shape (ranked by its heuristics, or
 * timed by a one-time search) reduced to what the choice reads, the rule
 * that picks one, and the line that reports it. Plain C with no CUDA types,
 * so the rule is tested without a GPU (tests/test_conv_algo.c); the CUDA
 * backend (kernels/cuda/conv2d.cu) fills the candidates. */
#ifndef SIAM_CONV_ALGO_H
#define SIAM_CONV_ALGO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct siam_conv_candidate {
    int algo;          /* cuDNN's enum value for the direction */
    const char *name;  /* e.g. "IMPLICIT_PRECOMP_GEMM" */
    int ok;            /* cuDNN's status for it was success */
    int deterministic; /* CUDNN_DETERMINISTIC */
    int fp32;          /* proposed with CUDNN_FMA_MATH: no TF32 */
    int workspace_ok;  /* its workspace size is known */
    size_t workspace;  /* bytes */
    float ms;          /* measured time (the search), or < 0 (heuristics) */
} siam_conv_candidate;

/* Index of the candidate to use among n in cuDNN's order (best first), or
 * -1 when none will do. Every pass takes the first candidate that succeeded
 * and whose workspace is known and at most ws_limit; pass 0 also wants it
 * deterministic (seeded runs repeat; the fast backward-filter algorithms
 * accumulate with atomics) and FP32 unless allow_tf32; pass 1 drops
 * determinism; without TF32 a pass 2 takes any math type and sets
 * *force_fp32, so that the caller runs it with CUDNN_FMA_MATH rather than
 * fail. *force_fp32 is 0 otherwise. */
int siam_conv_algo_choose(const siam_conv_candidate *c, int n, int allow_tf32, size_t ws_limit,
                          int *force_fp32);

/* One line on the choice for the log, e.g.
 * "conv2d 64x1x105x105 * 64x1x10x10 backward-filter: ALGO_1 (FP32, deterministic,
 *  2.0 MiB workspace, heuristic rank 2 of 7)"; with a measured time
 * "..., 0.512 ms measured, rank 1 of 7)". shape is N, Ci, H, W, Co, KH, KW;
 * rank is c's 0-based index among the count proposals; forced as returned
 * by siam_conv_algo_choose; allow_tf32 says whether the math may be TF32. */
void siam_conv_algo_describe(char *buf, size_t cap, const int shape[7], const char *direction,
                             const siam_conv_candidate *c, int rank, int count, int forced,
                             int allow_tf32);

#ifdef __cplusplus
}
#endif

#endif
