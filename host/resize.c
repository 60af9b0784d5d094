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

static int resize_area(uint8_t *dst, int dh, int dw, const uint8_t *src, int sh, int sw,
                       siam_error *err)
{
    tap_table tx = {0}, ty = {0};
    float *tmp = malloc(sizeof *tmp * (size_t)sh * dw);
    if (tmp == NULL || taps_build(&tx, sw, dw) < 0 || taps_build(&ty, sh, dh) < 0) {
        free(tmp);
        taps_free(&tx);
        taps_free(&ty);
        return siam_fail(err, "out of memory resizing %dx%d to %dx%d", sw, sh, dw, dh);
    }
    for (int y = 0; y < sh; y++) {
        const uint8_t *row = src + (size_t)y * sw;
        for (int j = 0; j < dw; j++) {
            const float *w = tx.w + (size_t)j * tx.stride;
            const uint8_t *p = row + tx.first[j];
            float acc = 0;
            for (int k = 0; k < tx.count[j]; k++)
                acc += w[k] * p[k];
            tmp[(size_t)y * dw + j] = acc;
        }
    }
    for (int i = 0; i < dh; i++) {
        const float *w = ty.w + (size_t)i * ty.stride;
        for (int j = 0; j < dw; j++) {
            float acc = 0;
            for (int k = 0; k < ty.count[i]; k++)
                acc += w[k] * tmp[(size_t)(ty.first[i] + k) * dw + j];
            long v = lrintf(acc);
            dst[(size_t)i * dw + j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(tmp);
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
