/* Synthetic images and pairs for the training tests (toy_pairs.h). */
#include "tests/support/toy_pairs.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/philox.h"

void siam_toy_model_config(siam_model_config *cfg, int side)
{
    siam_model_config_default(cfg);
    cfg->in_h = cfg->in_w = side;
    const int ch[4] = { 4, 8, 8, 16 }, k[4] = { 5, 3, 3, 2 };
    memcpy(cfg->channels, ch, sizeof ch);
    memcpy(cfg->kernels, k, sizeof k);
    cfg->fc_units = 32;
}

int siam_toy_images(siam_toy *t, int people, int per_person, int H, int W, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->people = people;
    t->per_person = per_person;
    siam_images *im = &t->images;
    im->refcount = 1;
    im->count = people * per_person;
    im->height = H;
    im->width = W;
    size_t px = (size_t)H * W;
    im->pixels = malloc((size_t)im->count * px);
    /* Unnamed images, as a real bank may hold (siam_images_new's NULLs). */
    im->names = calloc((size_t)im->count + 1, sizeof *im->names);
    if (!im->pixels || !im->names)
        return -1;
    /* Prototype: 4x4-pixel blocks of noise (coarse enough to survive the
     * convolutions); variant: prototype plus +-24 of pixel noise. */
    for (int p = 0; p < people; p++)
        for (int v = 0; v < per_person; v++) {
            uint8_t *img = im->pixels + (size_t)(p * per_person + v) * px;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    uint64_t cell = (uint64_t)p * 10000 + (uint64_t)(y / 4) * 100 + x / 4;
                    int base = (int)(siam_philox_uniform(seed, 1, cell) * 200.0f) + 28;
                    int noise = (int)(siam_philox_uniform(seed, 2 + (uint64_t)p * per_person + v,
                                                          (uint64_t)y * W + x) * 49.0f) - 24;
                    int val = base + noise;
                    img[y * W + x] = (uint8_t)(val < 0 ? 0 : val > 255 ? 255 : val);
                }
        }
    return 0;
}

siam_pairset *siam_toy_pairs(siam_toy *t, size_t n, uint64_t seed)
{
    siam_pairset *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->pairs = calloc(n ? n : 1, sizeof *ps->pairs);
    if (!ps->pairs) {
        free(ps);
        return NULL;
    }
    ps->images = &t->images;
    ps->count = n;
    ps->folds = 1;
    int P = t->people, V = t->per_person;
    for (size_t i = 0; i < n; i++) {
        uint32_t r0 = siam_philox_u32(seed, 50, 4 * i), r1 = siam_philox_u32(seed, 50, 4 * i + 1);
        uint32_t r2 = siam_philox_u32(seed, 50, 4 * i + 2), r3 = siam_philox_u32(seed, 50, 4 * i + 3);
        int pa = (int)(r0 % (uint32_t)P), va = (int)(r1 % (uint32_t)V);
        int same = (i % 2) == 0;
        int pb = same ? pa : (pa + 1 + (int)(r2 % (uint32_t)(P - 1))) % P;
        int vb = (int)(r3 % (uint32_t)V);
        if (same && vb == va)
            vb = (vb + 1) % V;
        ps->pairs[i].a = pa * V + va;
        ps->pairs[i].b = pb * V + vb;
        ps->pairs[i].label = same ? 1.0f : 0.0f;
    }
    return ps;
}

void siam_toy_pairs_free(siam_pairset *ps)
{
    if (!ps)
        return;
    free(ps->pairs);
    free(ps);
}

void siam_toy_free(siam_toy *t)
{
    free(t->images.pixels);
    free(t->images.names);
    t->images.pixels = NULL;
    t->images.names = NULL;
}
