/* The CPU backend's operator tables: the plain one (siam_ops_cpu, direct
 * convolutions) and the two that differ from it only in their
 * convolutions (per-layer choice, all FFT: kernels/cpu/conv2d_select.h).
 * C cannot initialise one constant from another, so the entries they share
 * are listed once, here, and used by all three. */
#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/conv2d_select.h"
#include "kernels/cpu/cpu.h"

#define CPU_ENTRIES_BUT_CONV \
    .device = SIAM_DEVICE_CPU, \
    .ctx_new = siam_cpu_ctx_new, \
    .ctx_free = siam_cpu_ctx_free, \
    .ctx_error = siam_cpu_ctx_error, \
    .mem_alloc = siam_cpu_mem_alloc, \
    .mem_free = siam_cpu_mem_free, \
    .upload = siam_cpu_upload, \
    .download = siam_cpu_download, \
    .copy = siam_cpu_copy, \
    .fill = siam_cpu_fill, \
    .synchronize = siam_cpu_synchronize, \
    .batchnorm_forward_train = siam_cpu_batchnorm_forward_train, \
    .batchnorm_forward_eval = siam_cpu_batchnorm_forward_eval, \
    .batchnorm_backward = siam_cpu_batchnorm_backward, \
    .relu_forward = siam_cpu_relu_forward, \
    .relu_backward = siam_cpu_relu_backward, \
    .maxpool2_forward = siam_cpu_maxpool2_forward, \
    .maxpool2_backward = siam_cpu_maxpool2_backward, \
    .linear_forward = siam_cpu_linear_forward, \
    .linear_backward = siam_cpu_linear_backward, \
    .sigmoid_forward = siam_cpu_sigmoid_forward, \
    .sigmoid_backward = siam_cpu_sigmoid_backward, \
    .absdiff_forward = siam_cpu_absdiff_forward, \
    .absdiff_backward = siam_cpu_absdiff_backward, \
    .dropout_forward = siam_cpu_dropout_forward, \
    .dropout_backward = siam_cpu_dropout_backward, \
    .bce_forward = siam_cpu_bce_forward, \
    .bce_backward = siam_cpu_bce_backward, \
    .adam_step = siam_cpu_adam_step, \
    .sgd_step = siam_cpu_sgd_step, \
    .gather_normalize = siam_cpu_gather_normalize, \
    .augment_batch = siam_cpu_augment_batch, \
    .pair_features_forward = siam_cpu_pair_features_forward, \
    .pair_features_backward = siam_cpu_pair_features_backward, \
    .lerp = siam_cpu_lerp, \
    .bn_relu_pool_forward_train = siam_cpu_bn_relu_pool_forward_train, \
    .bn_relu_pool_forward_eval = siam_cpu_bn_relu_pool_forward_eval, \
    .bn_relu_pool_backward = siam_cpu_bn_relu_pool_backward, \
    .nonfinite_count = siam_cpu_nonfinite_count, \
    .step_report = siam_cpu_step_report, \
    .l2_normalize_forward = siam_cpu_l2_normalize_forward, \
    .l2_normalize_backward = siam_cpu_l2_normalize_backward, \
    .triplet_hard_forward = siam_cpu_triplet_hard_forward, \
    .triplet_hard_backward = siam_cpu_triplet_hard_backward, \
    .margin_softmax = siam_cpu_margin_softmax

const siam_ops siam_ops_cpu = {
    .name = "cpu",
    CPU_ENTRIES_BUT_CONV,
    .conv2d_forward = siam_cpu_conv2d_forward,
    .conv2d_backward = siam_cpu_conv2d_backward,
};

static const siam_ops cpu_auto_table = {
    .name = "cpu",
    CPU_ENTRIES_BUT_CONV,
    .conv2d_forward = siam_cpu_conv2d_auto_forward,
    .conv2d_backward = siam_cpu_conv2d_auto_backward,
};

static const siam_ops cpu_fft_table = {
    .name = "cpu",
    CPU_ENTRIES_BUT_CONV,
    .conv2d_forward = siam_cpu_conv2d_fft_forward,
    .conv2d_backward = siam_cpu_conv2d_fft_backward,
};

const siam_ops *siam_ops_cpu_conv_table(siam_conv_path path)
{
    if (path == SIAM_CONV_FFT)
        return &cpu_fft_table;
    return path == SIAM_CONV_DIRECT ? &siam_ops_cpu : &cpu_auto_table;
}
