/* Augmentation settings shared by the CPU and CUDA batch assemblers. The
 * per-image parameters are a pure function of (settings, seed, image slot),
 * drawn from Philox, so both backends distort a batch identically.
 * (Koch et al. 2015, Section 3.3: rotation, shear, scale, translation, each
 * applied with probability 0.5.) */
#ifndef SIAM_AUGMENT_H
#define SIAM_AUGMENT_H

#include <stdint.h>

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

/* To be provided here as SIAM_HD (kernels/philox.h) inline functions, so the
 * CPU and CUDA assemblers share them:
 *   siam_augment_draw(const siam_augment *a, uint64_t seed, uint64_t slot,
 *                     int H, int W, siam_augment_params *out);
 *   siam_augment_pixel(const uint8_t *img, int H, int W,
 *                      const siam_augment_params *p, int x, int y) -> float
 * (bilinear, edge-clamped, before normalisation). */

#endif
