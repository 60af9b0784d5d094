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

#endif
