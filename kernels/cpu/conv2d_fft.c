/* Fourier-domain conv2d (see conv2d_fft.h for the method): the size
 * checks, the choice of frequency blocks and image chunks within the
 * scratch budget, the slicing of the context's scratch, and the forward
 * and backward drivers that chain the 2-D transforms
 * (conv2d_fft_transform.c) and the channel products (conv2d_fft_cprod.c);
 * layouts in conv2d_fft_priv.h.
 * Why no wrap-around at transform size PH x PW >= H x W (circular indices,
 * 1-D, P >= H):
 * forward out[y] = sum_k in[y+k] w[k] reads y+k <= H-1 for every kept
 * y < H-KH+1; backward-filter dw[k] = sum_y in[y+k] dout[y] likewise;
 * backward-data din[x] = sum_k dout[x-k] w[k] wraps only to x-k+P >=
 * H-KH+1, where the zero-extended dout is zero. */
#include <stdint.h>
#include <string.h>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/conv2d_fft_priv.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/fft.h"

static int fft_check(siam_ctx *ctx, const char *fn, siam_cpu_fft_dims *d, int N, int Ci, int H,
                     int W, int Co, int KH, int KW)
{
    if (siam_check_conv2d(&ctx->err, fn, N, Ci, H, W, Co, KH, KW))
        return -1;
    d->N = N, d->Ci = Ci, d->H = H, d->W = W, d->Co = Co, d->KH = KH, d->KW = KW;
    d->OH = H - KH + 1;
    d->OW = W - KW + 1;
    d->PH = siam_fft_size_fast(H);
    d->PW = siam_fft_size_fast(W);
    d->V = d->PW / 2 + 1;
    return 0;
}

/* Frequency columns per block: as many as SIAM_CPU_FFT_SCRATCH_BYTES allows
 * for `per_v` floats per column, at least one, at most vb_max when > 0. */
static int fft_block(const siam_cpu_fft_dims *d, size_t per_v, int vb_max)
{
    size_t budget = SIAM_CPU_FFT_SCRATCH_BYTES / sizeof(float);
    size_t fixed = siam_cpu_fft_plans_floats(d);
    size_t vb = budget > fixed ? (budget - fixed) / per_v : 1;
    if (vb < 1)
        vb = 1;
    if (vb > (size_t)d->V)
        vb = (size_t)d->V;
    if (vb_max > 0 && vb > (size_t)vb_max)
        vb = (size_t)vb_max;
    return (int)vb;
}

/* Scratch floats per frequency column for a chunk of nc images: the
 * spectra (PH rows each). */
static size_t fwd_per_v(const siam_cpu_fft_dims *d, int nc)
{
    size_t Ti = siam_cpu_fft_pad8((size_t)nc * d->Ci),
           Tw = siam_cpu_fft_pad8((size_t)d->Co * d->Ci);
    size_t To = siam_cpu_fft_rank1_fused(d) ? 0 : siam_cpu_fft_pad8((size_t)nc * d->Co);
    return 2 * (size_t)d->PH * (Ti + Tw + To);
}

/* Backward: input, output-gradient and filter-gradient spectra (the last
 * one accumulates over image chunks), plus, when din is wanted, the filter
 * spectrum and the input-gradient product. */
static size_t bwd_per_v(const siam_cpu_fft_dims *d, int nc, int has_din)
{
    size_t Ti = siam_cpu_fft_pad8((size_t)nc * d->Ci),
           Tw = siam_cpu_fft_pad8((size_t)d->Co * d->Ci);
    size_t To = siam_cpu_fft_pad8((size_t)nc * d->Co);
    if (siam_cpu_fft_rank1_fused(d) && !has_din)
        return 2 * (size_t)d->PH * (Ti + Tw);
    return 2 * (size_t)d->PH * (Ti + To + Tw + (has_din ? Tw + Ti : 0));
}

/* Images per chunk. A block that is not the whole half spectrum costs a
 * full row transform per block for every input and output plane, while a
 * small chunk makes the channel products thin matrix products (their speed
 * needs rows) and recomputes nothing. So: the fewest blocks that the budget
 * allows with at least SIAM_FFT_MIN_IMAGES images per chunk (or one image
 * when Ci = 1: rank-one products), then the largest chunk with that many
 * blocks. images_max > 0 caps the chunk. */
#define SIAM_FFT_MIN_IMAGES 16
static int fft_images(const siam_cpu_fft_dims *d, int has_din, int backward, int images_max)
{
    size_t budget = SIAM_CPU_FFT_SCRATCH_BYTES / sizeof(float),
           fixed = siam_cpu_fft_plans_floats(d);
    int top = images_max > 0 && images_max < d->N ? images_max : d->N;
    int floor_nc = d->Ci > 1 ? SIAM_FFT_MIN_IMAGES : 1;
    int best = top, best_blocks = 0;
    for (int nc = top;; nc = (nc + 1) / 2) {
        size_t pv = backward ? bwd_per_v(d, nc, has_din) : fwd_per_v(d, nc);
        size_t vb = budget > fixed + pv ? (budget - fixed) / pv : 1;
        int blocks = vb >= (size_t)d->V ? 1 : (int)((d->V + vb - 1) / vb);
        if (best_blocks == 0 || blocks < best_blocks)
            best = nc, best_blocks = blocks;
        if (nc <= floor_nc || nc == 1 || blocks == 1)
            break;
    }
    return best;
}

int siam_cpu_conv2d_fft_forward_blocks(siam_ctx *ctx, float *out, const float *in, const float *w,
                                       const float *b, int N, int Ci, int H, int W, int Co, int KH,
                                       int KW, int vb_max, int images_max)
{
    siam_cpu_fft_dims d;
    if (fft_check(ctx, "conv2d_fft_forward", &d, N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !in || !w || !b)
        return siam_cpu_fail(ctx, "conv2d_fft_forward: NULL buffer");
    int nc = fft_images(&d, 0, 0, images_max);
    size_t per_v = fwd_per_v(&d, nc);
    int vb = fft_block(&d, per_v, vb_max);
    size_t tmpf = siam_cpu_fft_cprod_tmp_floats(&d, nc);
    size_t need = siam_cpu_fft_plans_floats(&d) + per_v * vb + siam_cpu_fft_max_threads() * tmpf;
    float *mem = siam_cpu_scratch(ctx, need);
    if (mem == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_fft_forward");
    siam_cpu_advise_huge_pages(mem, need * sizeof(float));
    siam_cpu_fft_plans pl;
    siam_cpu_fft_plans_fill(&pl, mem, &d);
    int Tw = Co * Ci;
    size_t h2 = 2 * (size_t)d.PH, plane = (size_t)d.OH * d.OW;
    float *Si = mem + siam_cpu_fft_plans_floats(&d);
    float *Sw = Si + h2 * vb * siam_cpu_fft_pad8((size_t)nc * Ci),
          *So = Sw + h2 * vb * siam_cpu_fft_pad8(Tw);
    float *tmp =
        So + (siam_cpu_fft_rank1_fused(&d) ? 0 : h2 * vb * siam_cpu_fft_pad8((size_t)nc * Co));

#pragma omp parallel for schedule(static)
    for (int t = 0; t < N * Co; t++)
        for (size_t p = 0; p < plane; p++)
            out[(size_t)t * plane + p] = b[t % Co];

    /* Thousands of small GEMMs: OpenMP splits the loops around them and each
     * call runs on its calling thread. OpenBLAS's own workers, woken per
     * call, spent their time spinning and yielding (docs/perf.md). The
     * context's count is set again before returning (kernels/cpu/cpu.h). */
    siam_cpu_blas_threads(ctx, 1);
    /* Blocks outside, image chunks inside: the filter spectrum of a block is
     * computed once for all chunks. */
    for (int v0 = 0; v0 < d.V; v0 += vb) {
        int nb = d.V - v0 < vb ? d.V - v0 : vb;
        siam_cpu_fft_forward(&pl, &d, v0, nb, Sw, w, Tw, KH, KW, KH * KW, KW);
        for (int n0 = 0; n0 < N; n0 += nc) {
            int n = N - n0 < nc ? N - n0 : nc;
            siam_cpu_fft_cprod pf = {0, n, Co, Ci, 0};
            siam_cpu_fft_forward(&pl, &d, v0, nb, Si, in + (size_t)n0 * Ci * H * W, n * Ci, H, W,
                                 H * W, W);
            siam_cpu_fft_rank1 r1 = {Si, Sw, siam_cpu_fft_pad8((size_t)n),
                                     siam_cpu_fft_pad8((size_t)Tw), Co};
            if (!siam_cpu_fft_rank1_fused(&d))
                siam_cpu_fft_cprod_run(&pf, d.PH * nb, So, Si, Sw, tmp, tmpf);
            siam_cpu_fft_inverse_add(&pl, &d, v0, nb, out + (size_t)n0 * Co * plane, (int)plane,
                                     d.OW, So, siam_cpu_fft_rank1_fused(&d) ? &r1 : NULL, n * Co,
                                     d.OH, d.OW);
        }
    }
    siam_cpu_blas_threads(ctx, 0);
    return 0;
}

int siam_cpu_conv2d_fft_backward_blocks(siam_ctx *ctx, float *din, float *dw, float *db,
                                        const float *dout, const float *in, const float *w, int N,
                                        int Ci, int H, int W, int Co, int KH, int KW, int vb_max,
                                        int images_max)
{
    siam_cpu_fft_dims d;
    if (fft_check(ctx, "conv2d_fft_backward", &d, N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!dw || !db || !dout || !in || !w)
        return siam_cpu_fail(ctx, "conv2d_fft_backward: NULL buffer");
    size_t plane = (size_t)d.OH * d.OW;

    siam_cpu_conv2d_bias_grad(db, dout, N, Co, plane);

    int has_din = din != NULL;
    int nc = fft_images(&d, has_din, 1, images_max);
    size_t per_v = bwd_per_v(&d, nc, has_din);
    int vb = fft_block(&d, per_v, vb_max);
    size_t tmpf = siam_cpu_fft_cprod_tmp_floats(&d, nc);
    size_t need = siam_cpu_fft_plans_floats(&d) + per_v * vb + siam_cpu_fft_max_threads() * tmpf;
    float *mem = siam_cpu_scratch(ctx, need);
    if (mem == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_fft_backward");
    siam_cpu_advise_huge_pages(mem, need * sizeof(float));
    siam_cpu_fft_plans pl;
    siam_cpu_fft_plans_fill(&pl, mem, &d);
    int Tw = Co * Ci;
    size_t h2 = 2 * (size_t)d.PH, Tim = siam_cpu_fft_pad8((size_t)nc * Ci),
           Tom = siam_cpu_fft_pad8((size_t)nc * Co);
    float *Si = mem + siam_cpu_fft_plans_floats(&d);
    int fused = siam_cpu_fft_rank1_fused(&d) && !has_din;
    float *Sd = Si + h2 * vb * Tim, *Sdw = Sd + (fused ? 0 : h2 * vb * Tom);
    float *Sw = Sdw + h2 * vb * siam_cpu_fft_pad8(Tw);
    float *Sx = Sw + (has_din ? h2 * vb * siam_cpu_fft_pad8(Tw) : 0);
    float *tmp = Sx + (has_din ? h2 * vb * Tim : 0);

    if (din)
        memset(din, 0, (size_t)N * Ci * H * W * sizeof(float));
    siam_cpu_blas_threads(ctx, 1); /* as in the forward */
    for (int v0 = 0; v0 < d.V; v0 += vb) {
        int nb = d.V - v0 < vb ? d.V - v0 : vb;
        if (din)
            siam_cpu_fft_forward(&pl, &d, v0, nb, Sw, w, Tw, KH, KW, KH * KW, KW);
        for (int n0 = 0; n0 < N; n0 += nc) {
            int n = N - n0 < nc ? N - n0 : nc, Ti = n * Ci, To = n * Co;
            /* The filter gradient sums over images: its spectrum adds up
             * over the chunks and is inverted once per block. */
            siam_cpu_fft_cprod pw = {2, Co, Ci, n, n0 > 0}, pd = {1, n, Ci, Co, 0};
            if (fused) {
                siam_cpu_fft_rank1 r1 = {Si, NULL, siam_cpu_fft_pad8((size_t)n),
                                         siam_cpu_fft_pad8((size_t)Tw), Co};
                if (n0 == 0)
                    memset(Sdw, 0, sizeof(float) * h2 * nb * siam_cpu_fft_pad8((size_t)Tw));
                siam_cpu_fft_forward(&pl, &d, v0, nb, Si, in + (size_t)n0 * H * W, n, H, W, H * W,
                                     W);
                siam_cpu_fft_forward_rank1_acc(&pl, &d, v0, nb, Sdw, &r1,
                                               dout + (size_t)n0 * Co * plane, n, d.OH, d.OW,
                                               (int)plane, d.OW);
                continue;
            }
            siam_cpu_fft_forward(&pl, &d, v0, nb, Sd, dout + (size_t)n0 * Co * plane, To, d.OH,
                                 d.OW, (int)plane, d.OW);
            siam_cpu_fft_forward(&pl, &d, v0, nb, Si, in + (size_t)n0 * Ci * H * W, Ti, H, W, H * W,
                                 W);
            siam_cpu_fft_cprod_run(&pw, d.PH * nb, Sdw, Sd, Si, tmp, tmpf);
            if (din) {
                siam_cpu_fft_cprod_run(&pd, d.PH * nb, Sx, Sd, Sw, tmp, tmpf);
                siam_cpu_fft_inverse_add(&pl, &d, v0, nb, din + (size_t)n0 * Ci * H * W, H * W, W,
                                         Sx, NULL, Ti, H, W);
            }
        }
        siam_cpu_fft_inverse_add(&pl, &d, v0, nb, dw, KH * KW, KW, Sdw, NULL, Tw, KH, KW);
    }
    siam_cpu_blas_threads(ctx, 0);
    return 0;
}

int siam_cpu_conv2d_fft_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                                const float *b, int N, int Ci, int H, int W, int Co, int KH, int KW)
{
    return siam_cpu_conv2d_fft_forward_blocks(ctx, out, in, w, b, N, Ci, H, W, Co, KH, KW, 0, 0);
}

int siam_cpu_conv2d_fft_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                                 const float *in, const float *w, int N, int Ci, int H, int W,
                                 int Co, int KH, int KW)
{
    return siam_cpu_conv2d_fft_backward_blocks(ctx, din, dw, db, dout, in, w, N, Ci, H, W, Co, KH,
                                               KW, 0, 0);
}
