/* Augmentation settings shared by the CPU and CUDA batch assemblers. The
 * per-image parameters are a pure function of (settings, seed, image slot),
 * drawn from Philox, so both backends distort a batch identically.
 * (Koch et al. 2015, Section 3.3: rotation, shear, scale, translation, each
 * applied with probability 0.5.) */
#ifndef SIAM_AUGMENT_H
#define SIAM_AUGMENT_H

#include <stdint.h>

#ifndef __CUDACC__
#include <math.h>
#endif

#include "kernels/philox.h"

typedef struct siam_augment {
    int enabled;          /* 0: plain gather_normalize */
    float p_component;    /* probability of each affine component (0.5) */
    float rotate_deg;     /* rotation within +-rotate_deg (10) */
    float shear;          /* shear within +-shear (0.3) */
    float scale_min;      /* scale in [scale_min, scale_max] (0.8, 1.2) */
    float scale_max;
    float translate_px;   /* translation within +-translate_px (2) */
    float p_flip;         /* horizontal flip probability (0.5 or 0) */
    float brightness;     /* additive jitter within +-brightness, in [0,1] units */
    float contrast;       /* multiplicative jitter within 1 +- contrast */
} siam_augment;

/* The parameters drawn for one image: source coordinates of output pixel
 * (x, y) are (m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5]); the sampled
 * value v in [0,1] becomes v*gain + bias. */
typedef struct siam_augment_params {
    float m[6];
    float gain, bias;
} siam_augment_params;

/* Whether enabled settings are out of range: a probability outside [0, 1]
 * or a scale range other than 0 < min <= max. Both backends refuse them
 * with the message SIAM_AUGMENT_BAD_FMT, SIAM_AUGMENT_BAD_ARGS(a). */
SIAM_HD int siam_augment_bad(const siam_augment *a)
{
    return a && a->enabled
           && (!(a->p_component >= 0.0f && a->p_component <= 1.0f)
               || !(a->p_flip >= 0.0f && a->p_flip <= 1.0f)
               || !(a->scale_min > 0.0f && a->scale_min <= a->scale_max));
}
#define SIAM_AUGMENT_BAD_FMT                                                              \
    "augment_batch: bad settings p_component=%g p_flip=%g scale=[%g, %g] (probabilities " \
    "in [0, 1], 0 < min <= max)"
#define SIAM_AUGMENT_BAD_ARGS(a)                                                          \
    (double)(a)->p_component, (double)(a)->p_flip, (double)(a)->scale_min,               \
        (double)(a)->scale_max

/* Paper values (Koch et al. 2015, Section 3.3): each affine component with
 * probability 0.5, rotation +-10 degrees, shear +-0.3, scale 0.8-1.2,
 * translation +-2 px; no flip and no brightness/contrast jitter (not in the
 * paper). Off by default: enabled = 0. */
SIAM_HD void siam_augment_defaults(siam_augment *a)
{
    a->enabled = 0;
    a->p_component = 0.5f;
    a->rotate_deg = 10.0f;
    a->shear = 0.3f;
    a->scale_min = 0.8f;
    a->scale_max = 1.2f;
    a->translate_px = 2.0f;
    a->p_flip = 0.0f;
    a->brightness = 0.0f;
    a->contrast = 0.0f;
}

SIAM_HD void siam_augment_identity(siam_augment_params *p)
{
    p->m[0] = 1.0f;
    p->m[1] = 0.0f;
    p->m[2] = 0.0f;
    p->m[3] = 0.0f;
    p->m[4] = 1.0f;
    p->m[5] = 0.0f;
    p->gain = 1.0f;
    p->bias = 0.0f;
}

/* Word k (0..15) of image slot `slot`: Philox (seed, SIAM_STREAM_AUGMENT,
 * 16 * slot + k), so slots never share words and the draw for one image does
 * not depend on the batch it sits in. */
SIAM_HD float siam_augment_unit(uint64_t seed, uint64_t slot, int k)
{
    return siam_philox_uniform(seed, SIAM_STREAM_AUGMENT, slot * 16u + (uint64_t)k);
}

/* Uniform in [-r, r] from word k. */
SIAM_HD float siam_augment_sym(uint64_t seed, uint64_t slot, int k, float r)
{
    return (2.0f * siam_augment_unit(seed, slot, k) - 1.0f) * r;
}

/* The parameters of image slot `slot`. The forward map about the image centre
 * c is q = c + R(theta) Sh(shx, shy) S(sx, sy) (p - c) + t (Koch et al.'s
 * T = (theta, rho_x, rho_y, s_x, s_y, t_x, t_y)); out receives its inverse,
 * composed with the horizontal flip of the output, so that output pixel
 * (x, y) reads the source at (m0 x + m1 y + m2, m3 x + m4 y + m5).
 * Words: 0-1 rotation, 2-4 shear, 5-7 scale, 8-10 translation, 11 flip,
 * 12 brightness, 13 contrast. Disabled settings give the exact identity. */
SIAM_HD void siam_augment_draw(const siam_augment *a, uint64_t seed, uint64_t slot, int H, int W,
                               siam_augment_params *out)
{
    siam_augment_identity(out);
    if (!a->enabled)
        return;
    float p = a->p_component;
    float th = 0.0f, shx = 0.0f, shy = 0.0f, sx = 1.0f, sy = 1.0f, tx = 0.0f, ty = 0.0f;
    if (siam_augment_unit(seed, slot, 0) < p)
        th = siam_augment_sym(seed, slot, 1, a->rotate_deg) * (3.14159265358979f / 180.0f);
    if (siam_augment_unit(seed, slot, 2) < p) {
        shx = siam_augment_sym(seed, slot, 3, a->shear);
        shy = siam_augment_sym(seed, slot, 4, a->shear);
    }
    if (siam_augment_unit(seed, slot, 5) < p) {
        float span = a->scale_max - a->scale_min;
        sx = a->scale_min + span * siam_augment_unit(seed, slot, 6);
        sy = a->scale_min + span * siam_augment_unit(seed, slot, 7);
    }
    if (siam_augment_unit(seed, slot, 8) < p) {
        tx = siam_augment_sym(seed, slot, 9, a->translate_px);
        ty = siam_augment_sym(seed, slot, 10, a->translate_px);
    }
    int flip = siam_augment_unit(seed, slot, 11) < a->p_flip;
    float b = siam_augment_sym(seed, slot, 12, a->brightness);
    float c = 1.0f + siam_augment_sym(seed, slot, 13, a->contrast);

    /* A = R * Sh * S, with Sh = [1 shx; shy 1], S = diag(sx, sy). */
    float cs = cosf(th), sn = sinf(th);
    float m00 = sx, m01 = shx * sy, m10 = shy * sx, m11 = sy;
    float a00 = cs * m00 - sn * m10, a01 = cs * m01 - sn * m11;
    float a10 = sn * m00 + cs * m10, a11 = sn * m01 + cs * m11;
    float det = a00 * a11 - a01 * a10;
    if (det > -1e-6f && det < 1e-6f)
        return; /* degenerate settings (|shear| near 1): leave the image as is */
    float i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det;
    float cx = 0.5f * (float)(W - 1), cy = 0.5f * (float)(H - 1);
    /* The flipped output column x reads column W-1-x of the unflipped one. */
    float fx = flip ? -1.0f : 1.0f, fo = flip ? (float)(W - 1) : 0.0f;
    out->m[0] = i00 * fx;
    out->m[1] = i01;
    out->m[2] = i00 * (fo - cx - tx) - i01 * (cy + ty) + cx;
    out->m[3] = i10 * fx;
    out->m[4] = i11;
    out->m[5] = i10 * (fo - cx - tx) - i11 * (cy + ty) + cy;
    /* Contrast about mid-grey, then brightness: v' = (v - 0.5) c + 0.5 + b. */
    out->gain = c;
    out->bias = 0.5f * (1.0f - c) + b;
}

/* The parameters of image slots first .. first+count-1 of a batch whose
 * slot 0 is `offset` (out[k] is slot first+k): what the CPU draws image by
 * image and the CUDA backend draws on the host for one launch. */
SIAM_HD void siam_augment_draw_chunk(const siam_augment *a, uint64_t seed, uint64_t offset,
                                     int first, int count, int H, int W,
                                     siam_augment_params *out)
{
    for (int k = 0; k < count; k++)
        siam_augment_draw(a, seed, offset + (uint64_t)(first + k), H, W, &out[k]);
}

/* Output pixel (x, y) of img (H x W uint8) under p: bilinear sampling with
 * the source coordinates clamped to the image (edge replication), scaled to
 * [0, 1], then gain and bias, clamped to [0, 1]. Identity parameters give
 * exactly img[y*W + x] / 255.0f, the value gather_normalize uses. */
SIAM_HD float siam_augment_pixel(const uint8_t *img, int H, int W, const siam_augment_params *p,
                                 int x, int y)
{
    float fx = (float)x, fy = (float)y;
    float sx = p->m[0] * fx + p->m[1] * fy + p->m[2];
    float sy = p->m[3] * fx + p->m[4] * fy + p->m[5];
    float maxx = (float)(W - 1), maxy = (float)(H - 1);
    sx = sx < 0.0f ? 0.0f : sx > maxx ? maxx : sx;
    sy = sy < 0.0f ? 0.0f : sy > maxy ? maxy : sy;
    int x0 = (int)floorf(sx), y0 = (int)floorf(sy);
    int x1 = x0 + 1 < W ? x0 + 1 : x0, y1 = y0 + 1 < H ? y0 + 1 : y0;
    float ax = sx - (float)x0, ay = sy - (float)y0;
    float top = (1.0f - ax) * (float)img[y0 * W + x0] + ax * (float)img[y0 * W + x1];
    float bot = (1.0f - ax) * (float)img[y1 * W + x0] + ax * (float)img[y1 * W + x1];
    float v = ((1.0f - ay) * top + ay * bot) / 255.0f;
    v = v * p->gain + p->bias;
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

#endif
