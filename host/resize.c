/* Exact-area box filter for shrinking, separable: each output sample is the
 * mean of the source over [j*s, (j+1)*s), s = src/dst, with fractional
 * weights at the two ends. */
#include "host/resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_resize.h>

typedef struct tap_table {
    int *first;  /* per output: first source index */
    int *count;  /* per output: number of taps */
    float *w;    /* per output: `stride` weights */
    int stride;
} tap_table;

static void taps_free(tap_table *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

static int taps_build(tap_table *t, int src, int dst)
{
    double s = (double)src / dst;
    t->stride = (int)ceil(s) + 2;
    t->first = malloc(sizeof *t->first * dst);
    t->count = malloc(sizeof *t->count * dst);
    t->w = calloc((size_t)dst * t->stride, sizeof *t->w);
    if (!t->first || !t->count || !t->w)
        return -1;
    for (int j = 0; j < dst; j++) {
        double lo = j * s, hi = (j + 1) * s;
        int i0 = (int)floor(lo), i1 = (int)ceil(hi);
        if (i1 > src)
            i1 = src;
        t->first[j] = i0;
        t->count[j] = i1 - i0;
        for (int i = i0; i < i1; i++) {
            double a = i > lo ? i : lo, b = i + 1 < hi ? i + 1 : hi;
            t->w[(size_t)j * t->stride + (i - i0)] = (float)((b - a) / s);
        }
    }
    return 0;
}

/* The two passes run over transposed copies so that each inner loop walks
 * contiguous floats and vectorises; every output is still the same
 * products summed in the same order (first tap first, from 0) as the plain
 * loop over taps, so the pixels do not depend on the layout. */
static int resize_area(uint8_t *dst, int dh, int dw, const uint8_t *src, int sh, int sw,
                       siam_error *err)
{
    tap_table tx = {0}, ty = {0};
    size_t n_src = (size_t)sh * sw, n_tmp = (size_t)sh * dw;
    float *buf = malloc(sizeof *buf * (n_src + 2 * n_tmp + (size_t)dw));
    if (buf == NULL || taps_build(&tx, sw, dw) < 0 || taps_build(&ty, sh, dh) < 0) {
        free(buf);
        taps_free(&tx);
        taps_free(&ty);
        return siam_fail(err, "out of memory resizing %dx%d to %dx%d", sw, sh, dw, dh);
    }
    float *src_t = buf;            /* sw x sh: source column x is row x */
    float *tmp_t = src_t + n_src;  /* dw x sh: horizontal pass, column j is row j */
    float *tmp = tmp_t + n_tmp;    /* sh x dw: the same, row-major */
    float *acc = tmp + n_tmp;      /* dw: one output row */
    for (int y = 0; y < sh; y++)
        for (int x = 0; x < sw; x++)
            src_t[(size_t)x * sh + y] = src[(size_t)y * sw + x];
    for (int j = 0; j < dw; j++) {
        float *o = tmp_t + (size_t)j * sh;
        const float *w = tx.w + (size_t)j * tx.stride;
        for (int y = 0; y < sh; y++)
            o[y] = 0;
        for (int k = 0; k < tx.count[j]; k++) {
            const float *col = src_t + (size_t)(tx.first[j] + k) * sh, wk = w[k];
#pragma omp simd
            for (int y = 0; y < sh; y++)
                o[y] += wk * col[y];
        }
    }
    for (int j = 0; j < dw; j++)
        for (int y = 0; y < sh; y++)
            tmp[(size_t)y * dw + j] = tmp_t[(size_t)j * sh + y];
    for (int i = 0; i < dh; i++) {
        const float *w = ty.w + (size_t)i * ty.stride;
        for (int j = 0; j < dw; j++)
            acc[j] = 0;
        for (int k = 0; k < ty.count[i]; k++) {
            const float *row = tmp + (size_t)(ty.first[i] + k) * dw, wk = w[k];
#pragma omp simd
            for (int j = 0; j < dw; j++)
                acc[j] += wk * row[j];
        }
        /* Adding and taking away 1.5 * 2^23 rounds to the nearest integer,
         * ties to even, as lrintf does in the default rounding mode, but in
         * vector registers (the values lie in [0, 256)). */
#pragma omp simd
        for (int j = 0; j < dw; j++) {
            float r = (acc[j] + 12582912.0f) - 12582912.0f;
            dst[(size_t)i * dw + j] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
        }
    }
    free(buf);
    taps_free(&tx);
    taps_free(&ty);
    return 0;
}

int siam_resize_u8(uint8_t *dst, int dh, int dw, const uint8_t *src, int sh, int sw,
                   siam_error *err)
{
    if (dh <= 0 || dw <= 0 || sh <= 0 || sw <= 0)
        return siam_fail(err, "cannot resize %dx%d to %dx%d", sw, sh, dw, dh);
    if (dh == sh && dw == sw) {
        memcpy(dst, src, (size_t)dh * dw);
        return 0;
    }
    if (dh <= sh && dw <= sw)
        return resize_area(dst, dh, dw, src, sh, sw, err);
    if (!stbir_resize_uint8(src, sw, sh, 0, dst, dw, dh, 0, 1))
        return siam_fail(err, "stb_image_resize failed on %dx%d to %dx%d", sw, sh, dw, dh);
    return 0;
}
