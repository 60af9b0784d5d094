/* Elementwise activations on the CPU: ReLU and the logistic sigmoid. Both
 * backward passes read the forward output, so they work in place. */
#include <math.h>

#include "kernels/cpu/cpu.h"

/* Below this many values a parallel region costs more than it saves. */
#define SIAM_CPU_PAR_MIN 32768

int siam_cpu_relu_forward(siam_ctx *ctx, float *out, const float *in, size_t n)
{
    if (n && (!out || !in))
        return siam_cpu_fail(ctx, "relu_forward: NULL buffer");
#pragma omp parallel for schedule(static) if (n > SIAM_CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
    return 0;
}

int siam_cpu_relu_backward(siam_ctx *ctx, float *din, const float *dout, const float *out, size_t n)
{
    if (n && (!din || !dout || !out))
        return siam_cpu_fail(ctx, "relu_backward: NULL buffer");
#pragma omp parallel for schedule(static) if (n > SIAM_CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
    return 0;
}

int siam_cpu_sigmoid_forward(siam_ctx *ctx, float *out, const float *in, size_t n)
{
    if (n && (!out || !in))
        return siam_cpu_fail(ctx, "sigmoid_forward: NULL buffer");
#pragma omp parallel for schedule(static) if (n > SIAM_CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        /* exp of a non-positive argument only: no overflow for large |x|. */
        float x = in[i];
        if (x >= 0.0f)
            out[i] = 1.0f / (1.0f + expf(-x));
        else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
    return 0;
}

int siam_cpu_sigmoid_backward(siam_ctx *ctx, float *din, const float *dout, const float *out,
                              size_t n)
{
    if (n && (!din || !dout || !out))
        return siam_cpu_fail(ctx, "sigmoid_backward: NULL buffer");
#pragma omp parallel for schedule(static) if (n > SIAM_CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        din[i] = dout[i] * out[i] * (1.0f - out[i]);
    return 0;
}
