/* The CUDA operator table: the kernels/cuda/ operators collected behind
 * the interface of kernels/ops.h. Built only with CUDA=1 (which defines
 * SIAM_CUDA, so kernels/backend.c leaves siam_ops_cuda to this file). */
#include "kernels/cuda/cuda.h"

/* Positional, in the order of struct siam_ops (C++17 has no designated
 * initialisers); a slip in the order fails to compile, since neighbouring
 * members have different function types. */
static const siam_ops cuda_ops = {
    "cuda",
    SIAM_DEVICE_CUDA,
    siam_cuda_ctx_new,
    siam_cuda_ctx_free,
    siam_cuda_ctx_error,
    siam_cuda_mem_alloc,
    siam_cuda_mem_free,
    siam_cuda_upload,
    siam_cuda_download,
    siam_cuda_copy,
    siam_cuda_fill,
    siam_cuda_synchronize,
    siam_cuda_conv2d_forward,
    siam_cuda_conv2d_backward,
    siam_cuda_batchnorm_forward_train,
    siam_cuda_batchnorm_forward_eval,
    siam_cuda_batchnorm_backward,
    siam_cuda_relu_forward,
    siam_cuda_relu_backward,
    siam_cuda_maxpool2_forward,
    siam_cuda_maxpool2_backward,
    siam_cuda_linear_forward,
    siam_cuda_linear_backward,
    siam_cuda_sigmoid_forward,
    siam_cuda_sigmoid_backward,
    siam_cuda_absdiff_forward,
    siam_cuda_absdiff_backward,
    siam_cuda_dropout_forward,
    siam_cuda_dropout_backward,
    siam_cuda_bce_forward,
    siam_cuda_bce_backward,
    siam_cuda_adam_step,
    siam_cuda_sgd_step,
    siam_cuda_gather_normalize,
    siam_cuda_augment_batch,
    siam_cuda_pair_features_forward,
    siam_cuda_pair_features_backward,
    siam_cuda_lerp,
    /* No fused batch norm -> ReLU -> max-pool: the model runs the separate
     * ops above, keeping separate buffers (cuDNN's batch-norm backward is
     * not documented as safe in place). */
    nullptr,
    nullptr,
    nullptr,
    siam_cuda_nonfinite_count,
    siam_cuda_step_report,
    siam_cuda_stamp,
    siam_cuda_stamp_ms,
    siam_cuda_describe,
    siam_cuda_l2_normalize_forward,
    siam_cuda_l2_normalize_backward,
    siam_cuda_triplet_hard_forward,
    siam_cuda_triplet_hard_backward,
    siam_cuda_margin_softmax,
};

extern "C" const siam_ops *siam_ops_cuda(void)
{
    return &cuda_ops;
}
