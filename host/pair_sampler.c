/* Per-epoch extra training pairs from the training set's people
 * (host/pair_sampler.h). Matched pairs: a person uniformly among those with
 * two or more eligible images, then two distinct images of them uniformly.
 * Mismatched pairs: two distinct people uniformly among all eligible, then
 * one image of each uniformly. Drawing people first keeps the few people
 * with hundreds of images (LFW's George_W_Bush) from dominating. */
#include "host/pair_sampler.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/philox.h"
#include "kernels/rng.h"

struct siam_pair_sampler {
    const siam_pairset *base;
    siam_pair_sampler_config cfg;
    siam_sampler_pool pool;
    int *two;               /* eligible people with >= 2 images (indices into the pool) */
    int ntwo;
};

void siam_pair_sampler_config_default(siam_pair_sampler_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->keep_base = 1;
    cfg->exclude = SIAM_EXCLUDE_PEOPLE;
}

void siam_pair_sampler_free(siam_pair_sampler *s)
{
    if (!s)
        return;
    siam_sampler_pool_clear(&s->pool);
    free(s->two);
    free(s);
}

siam_pair_sampler *siam_pair_sampler_new(const siam_pairset *base, const siam_pairset *exclude,
                                         const siam_pair_sampler_config *cfg, siam_error *err)
{
    siam_pair_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        siam_fail(err, "pair sampler: out of host memory");
        return NULL;
    }
    s->base = base;
    s->cfg = *cfg;
    if (siam_sampler_pool_build(&s->pool, base, exclude, cfg->exclude, "pair sampler", err))
        goto fail;
    if (!(s->two = malloc(((size_t)s->pool.npeople + 1) * sizeof *s->two))) {
        siam_fail(err, "pair sampler: out of host memory for %d people", s->pool.npeople);
        goto fail;
    }
    for (int p = 0; p < s->pool.npeople; p++)
        if (s->pool.count[p] >= 2)
            s->two[s->ntwo++] = p;
    if (cfg->extra_pairs > 0 && (s->ntwo == 0 || s->pool.npeople < 2)) {
        siam_fail(err, "pair sampler: %d eligible people, %d with two images or more: "
                       "cannot draw both matched and mismatched pairs", s->pool.npeople,
                  s->ntwo);
        goto fail;
    }
    return s;
fail:
    siam_pair_sampler_free(s);
    return NULL;
}

size_t siam_pair_sampler_count(const siam_pair_sampler *s)
{
    return (s->cfg.keep_base ? s->base->count : 0) + s->cfg.extra_pairs;
}

const siam_pairset *siam_pair_sampler_base(const siam_pair_sampler *s) { return s->base; }

void siam_pair_sampler_pool(const siam_pair_sampler *s, int *people, int *people_2, int *images)
{
    if (people)
        *people = s->pool.npeople;
    if (people_2)
        *people_2 = s->ntwo;
    if (images)
        *images = s->pool.nimages;
}

int siam_pair_sampler_epoch(const siam_pair_sampler *s, int epoch, siam_pair *out,
                            siam_error *err)
{
    if (epoch < 0)
        return siam_fail(err, "pair sampler: epoch %d is negative", epoch);
    size_t k = 0;
    if (s->cfg.keep_base) {
        memcpy(out, s->base->pairs, s->base->count * sizeof *out);
        k = s->base->count;
    }
    siam_rng r;
    siam_rng_init(&r, s->cfg.seed, SIAM_STREAM_PAIRS);
    r.offset = (uint64_t)epoch << 32;
    size_t matched = (s->cfg.extra_pairs + 1) / 2;
    for (size_t i = 0; i < s->cfg.extra_pairs; i++) {
        siam_pair *p = &out[k++];
        p->fold = 0;
        if (i < matched) {
            int who = s->two[siam_rng_below(&r, (uint32_t)s->ntwo)];
            uint32_t c = (uint32_t)s->pool.count[who];
            uint32_t x = siam_rng_below(&r, c), y = siam_rng_below(&r, c - 1);
            if (y >= x)
                y++; /* two distinct images, uniformly among ordered pairs */
            p->a = s->pool.images[s->pool.first[who] + x];
            p->b = s->pool.images[s->pool.first[who] + y];
            p->label = 1.0f;
        } else {
            uint32_t np = (uint32_t)s->pool.npeople;
            uint32_t u = siam_rng_below(&r, np), v = siam_rng_below(&r, np - 1);
            if (v >= u)
                v++;
            const siam_sampler_pool *q = &s->pool;
            p->a = q->images[q->first[u] + siam_rng_below(&r, (uint32_t)q->count[u])];
            p->b = q->images[q->first[v] + siam_rng_below(&r, (uint32_t)q->count[v])];
            p->label = 0.0f;
        }
    }
    return 0;
}
