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
    int npeople;            /* eligible people */
    int *first, *count;     /* per eligible person: start in `images`, how many */
    int32_t *images;        /* eligible image indices grouped by person */
    int nimages;
    int *two;               /* eligible people with >= 2 images (indices into first/count) */
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
    free(s->first);
    free(s->count);
    free(s->images);
    free(s->two);
    free(s);
}

siam_pair_sampler *siam_pair_sampler_new(const siam_pairset *base, const siam_pairset *exclude,
                                         const siam_pair_sampler_config *cfg, siam_error *err)
{
    const siam_images *im = base->images;
    if (exclude && exclude->images != im) {
        siam_fail(err, "pair sampler: the excluded set has another image bank");
        return NULL;
    }
    if (cfg->exclude != SIAM_EXCLUDE_PEOPLE && cfg->exclude != SIAM_EXCLUDE_IMAGES) {
        siam_fail(err, "pair sampler: exclude %d is not people (0) or images (1)",
                  (int)cfg->exclude);
        return NULL;
    }
    size_t n = (size_t)im->count;
    siam_pair_sampler *s = calloc(1, sizeof *s);
    int32_t *pid = malloc((n + 1) * sizeof *pid);
    /* person state: 1 in the base set, 2 excluded; image state: 1 excluded */
    unsigned char *person = calloc(n + 1, 1), *image_out = calloc(n + 1, 1);
    if (s) {
        s->first = malloc((n + 1) * sizeof *s->first);
        s->count = calloc(n + 1, sizeof *s->count);
        s->images = malloc((n + 1) * sizeof *s->images);
        s->two = malloc((n + 1) * sizeof *s->two);
    }
    if (!s || !pid || !person || !image_out || !s->first || !s->count || !s->images ||
        !s->two) {
        siam_fail(err, "pair sampler: out of host memory for %zu images", n);
        goto fail;
    }
    s->base = base;
    s->cfg = *cfg;
    if (siam_images_person_ids(im, pid, err) < 0)
        goto fail;
    for (size_t i = 0; i < base->count; i++) {
        person[pid[base->pairs[i].a]] |= 1;
        person[pid[base->pairs[i].b]] |= 1;
    }
    for (size_t i = 0; exclude && i < exclude->count; i++) {
        const siam_pair *p = &exclude->pairs[i];
        if (cfg->exclude == SIAM_EXCLUDE_PEOPLE) {
            person[pid[p->a]] |= 2;
            person[pid[p->b]] |= 2;
        } else {
            image_out[p->a] = image_out[p->b] = 1;
        }
    }
    /* The bank is sorted by person, so each person's images are adjacent;
     * person ids number people in order of first appearance. */
    int last = -1;
    for (size_t i = 0; i < n; i++) {
        if (person[pid[i]] != 1 || image_out[i])
            continue;
        if (pid[i] != last) {
            s->first[s->npeople] = s->nimages;
            s->count[s->npeople++] = 0;
            last = pid[i];
        }
        s->images[s->nimages++] = (int32_t)i;
        s->count[s->npeople - 1]++;
    }
    for (int p = 0; p < s->npeople; p++)
        if (s->count[p] >= 2)
            s->two[s->ntwo++] = p;
    if (cfg->extra_pairs > 0 && (s->ntwo == 0 || s->npeople < 2)) {
        siam_fail(err, "pair sampler: %d eligible people, %d with two images or more: "
                       "cannot draw both matched and mismatched pairs", s->npeople, s->ntwo);
        goto fail;
    }
    free(pid);
    free(person);
    free(image_out);
    return s;
fail:
    free(pid);
    free(person);
    free(image_out);
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
        *people = s->npeople;
    if (people_2)
        *people_2 = s->ntwo;
    if (images)
        *images = s->nimages;
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
            uint32_t c = (uint32_t)s->count[who];
            uint32_t x = siam_rng_below(&r, c), y = siam_rng_below(&r, c - 1);
            if (y >= x)
                y++; /* two distinct images, uniformly among ordered pairs */
            p->a = s->images[s->first[who] + x];
            p->b = s->images[s->first[who] + y];
            p->label = 1.0f;
        } else {
            uint32_t np = (uint32_t)s->npeople;
            uint32_t u = siam_rng_below(&r, np), v = siam_rng_below(&r, np - 1);
            if (v >= u)
                v++;
            p->a = s->images[s->first[u] + siam_rng_below(&r, (uint32_t)s->count[u])];
            p->b = s->images[s->first[v] + siam_rng_below(&r, (uint32_t)s->count[v])];
            p->label = 0.0f;
        }
    }
    return 0;
}
