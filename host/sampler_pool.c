/* The samplers' pool (host/sampler_pool.h). */
#include "host/sampler_pool.h"

#include <stdlib.h>
#include <string.h>

void siam_sampler_pool_clear(siam_sampler_pool *pool)
{
    free(pool->first);
    free(pool->count);
    free(pool->images);
    memset(pool, 0, sizeof *pool);
}

int siam_sampler_pool_build(siam_sampler_pool *pool, const siam_pairset *base,
                            const siam_pairset *exclude, siam_sampler_exclude mode,
                            const char *what, siam_error *err)
{
    memset(pool, 0, sizeof *pool);
    const siam_images *im = base->images;
    if (exclude && exclude->images != im)
        return siam_fail(err, "%s: the excluded set has another image bank", what);
    if (mode != SIAM_EXCLUDE_PEOPLE && mode != SIAM_EXCLUDE_IMAGES)
        return siam_fail(err, "%s: exclude %d is not people (0) or images (1)", what,
                         (int)mode);
    size_t n = (size_t)im->count;
    int32_t *pid = malloc((n + 1) * sizeof *pid);
    /* person state: 1 in the base set, 2 excluded; image state: 1 excluded */
    unsigned char *person = calloc(n + 1, 1), *image_out = calloc(n + 1, 1);
    pool->first = malloc((n + 1) * sizeof *pool->first);
    pool->count = calloc(n + 1, sizeof *pool->count);
    pool->images = malloc((n + 1) * sizeof *pool->images);
    int rc = -1;
    if (!pid || !person || !image_out || !pool->first || !pool->count || !pool->images) {
        siam_fail(err, "%s: out of host memory for %zu images", what, n);
        goto done;
    }
    if (siam_images_person_ids(im, pid, err) < 0)
        goto done;
    for (size_t i = 0; i < base->count; i++) {
        person[pid[base->pairs[i].a]] |= 1;
        person[pid[base->pairs[i].b]] |= 1;
    }
    for (size_t i = 0; exclude && i < exclude->count; i++) {
        const siam_pair *p = &exclude->pairs[i];
        if (mode == SIAM_EXCLUDE_PEOPLE) {
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
            pool->first[pool->npeople] = pool->nimages;
            pool->count[pool->npeople++] = 0;
            last = pid[i];
        }
        pool->images[pool->nimages++] = (int32_t)i;
        pool->count[pool->npeople - 1]++;
    }
    rc = 0;
done:
    free(pid);
    free(person);
    free(image_out);
    if (rc)
        siam_sampler_pool_clear(pool);
    return rc;
}
