/* P x K identity batches (host/identity_sampler.h). People are drawn
 * first, as the pair sampler does, so that the few people with hundreds of
 * images (LFW's George_W_Bush) are no likelier to appear than anyone else. */
#include "host/identity_sampler.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/philox.h"
#include "kernels/rng.h"

struct siam_identity_sampler {
    const siam_pairset *base;
    siam_identity_sampler_config cfg;
    siam_sampler_pool pool;
    int *cls;               /* qualifying people (pool indices), by class */
    int ncls;
    int maxcount;           /* most images of a qualifying person */
    int32_t *class_of;      /* per bank image: its class or -1 */
    int nbank;
};

void siam_identity_sampler_config_default(siam_identity_sampler_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->p = 8;
    cfg->k = 4;
    cfg->batches = 100;
    cfg->exclude = SIAM_EXCLUDE_PEOPLE;
}

void siam_identity_sampler_free(siam_identity_sampler *s)
{
    if (!s)
        return;
    siam_sampler_pool_clear(&s->pool);
    free(s->cls);
    free(s->class_of);
    free(s);
}

siam_identity_sampler *siam_identity_sampler_new(const siam_pairset *base,
                                                 const siam_pairset *exclude,
                                                 const siam_identity_sampler_config *cfg,
                                                 siam_error *err)
{
    if (cfg->p < 2) {
        siam_fail(err, "identity sampler: p %d must be at least 2 (people per batch: every "
                       "anchor needs another person)", cfg->p);
        return NULL;
    }
    if (cfg->k < 2) {
        siam_fail(err, "identity sampler: k %d must be at least 2 (images per person: every "
                       "anchor needs a positive)", cfg->k);
        return NULL;
    }
    if ((long long)cfg->p * cfg->k > (1 << 24)) {
        siam_fail(err, "identity sampler: p %d x k %d is more than 2^24 images per batch",
                  cfg->p, cfg->k);
        return NULL;
    }
    if (cfg->batches < 1) {
        siam_fail(err, "identity sampler: batches %d must be at least 1", cfg->batches);
        return NULL;
    }
    siam_identity_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        siam_fail(err, "identity sampler: out of host memory");
        return NULL;
    }
    s->base = base;
    s->cfg = *cfg;
    if (siam_sampler_pool_build(&s->pool, base, exclude, cfg->exclude, "identity sampler",
                                err))
        goto fail;
    s->nbank = base->images->count;
    s->cls = malloc(((size_t)s->pool.npeople + 1) * sizeof *s->cls);
    s->class_of = malloc(((size_t)s->nbank + 1) * sizeof *s->class_of);
    if (!s->cls || !s->class_of) {
        siam_fail(err, "identity sampler: out of host memory for %d images", s->nbank);
        goto fail;
    }
    for (int i = 0; i < s->nbank; i++)
        s->class_of[i] = -1;
    for (int p = 0; p < s->pool.npeople; p++) {
        int c = s->pool.count[p];
        if (c < 2)
            continue;
        for (int i = 0; i < c; i++)
            s->class_of[s->pool.images[s->pool.first[p] + i]] = s->ncls;
        s->cls[s->ncls++] = p;
        s->maxcount = c > s->maxcount ? c : s->maxcount;
    }
    if (cfg->p > s->ncls) {
        siam_fail(err, "identity sampler: p %d is more than the %d people with two images or "
                       "more (of %d eligible people, %d images)", cfg->p, s->ncls,
                  s->pool.npeople, s->pool.nimages);
        goto fail;
    }
    return s;
fail:
    siam_identity_sampler_free(s);
    return NULL;
}

const siam_identity_sampler_config *siam_identity_sampler_config_of(
    const siam_identity_sampler *s)
{
    return &s->cfg;
}

const siam_pairset *siam_identity_sampler_base(const siam_identity_sampler *s)
{
    return s->base;
}

int siam_identity_sampler_batch_size(const siam_identity_sampler *s)
{
    return s->cfg.p * s->cfg.k;
}

int siam_identity_sampler_classes(const siam_identity_sampler *s) { return s->ncls; }

int siam_identity_sampler_images(const siam_identity_sampler *s)
{
    int n = 0;
    for (int c = 0; c < s->ncls; c++)
        n += s->pool.count[s->cls[c]];
    return n;
}

int siam_identity_sampler_class_of(const siam_identity_sampler *s, int32_t image)
{
    return image >= 0 && image < s->nbank ? s->class_of[image] : -1;
}

/* Swaps a uniform pick of v[i..n) into v[i]: step i of a Fisher-Yates
 * shuffle, so that the first m steps draw m distinct values uniformly. */
static void pick(siam_rng *r, int32_t *v, int i, int n)
{
    int j = i + (int)siam_rng_below(r, (uint32_t)(n - i));
    int32_t t = v[i];
    v[i] = v[j];
    v[j] = t;
}

int siam_identity_sampler_epoch(const siam_identity_sampler *s, int epoch, int32_t *images,
                                int32_t *labels, siam_error *err)
{
    if (epoch < 0)
        return siam_fail(err, "identity sampler: epoch %d is negative", epoch);
    int P = s->cfg.p, K = s->cfg.k;
    int32_t *people = malloc((size_t)s->ncls * sizeof *people);
    int32_t *mine = malloc((size_t)s->maxcount * sizeof *mine);
    if (!people || !mine) {
        free(people);
        free(mine);
        return siam_fail(err, "identity sampler: out of host memory for %d people", s->ncls);
    }
    siam_rng r;
    siam_rng_init(&r, s->cfg.seed, SIAM_STREAM_IDENTITY);
    r.offset = (uint64_t)epoch << 32;
    for (int c = 0; c < s->ncls; c++)
        people[c] = c;
    size_t slot = 0;
    for (int b = 0; b < s->cfg.batches; b++) {
        for (int j = 0; j < P; j++) {
            pick(&r, people, j, s->ncls);
            int32_t c = people[j];
            int who = s->cls[c], n = s->pool.count[who];
            const int32_t *own = s->pool.images + s->pool.first[who];
            memcpy(mine, own, (size_t)n * sizeof *mine);
            for (int i = 0; i < K; i++, slot++) {
                if (i < n)
                    pick(&r, mine, i, n);
                images[slot] = i < n ? mine[i] : mine[siam_rng_below(&r, (uint32_t)n)];
                labels[slot] = c;
            }
        }
    }
    free(people);
    free(mine);
    return 0;
}
