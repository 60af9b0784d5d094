/* Pair-set splits (host/split.h). A split is a side assignment per pair
 * (0 train, 1 other, -1 dropped) turned into two new sets by one helper. */
#include "host/split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/philox.h"

/* Uniform integer in [0, n) from consecutive Philox words, unbiased
 * (Lemire's multiply-and-reject). */
static uint32_t below(uint64_t seed, uint64_t *counter, uint32_t n)
{
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint64_t m = (uint64_t)siam_philox_u32(seed, SIAM_STREAM_SPLIT, (*counter)++) * n;
        if ((uint32_t)m >= threshold)
            return (uint32_t)(m >> 32);
    }
}

static void shuffle(int32_t *v, size_t n, uint64_t seed, uint64_t counter)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = below(seed, &counter, (uint32_t)i);
        int32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static int build_sides(const siam_pairset *ps, const signed char *side, const char *tag0,
                       const char *tag1, siam_pairset **out0, siam_pairset **out1,
                       siam_error *err)
{
    size_t n[2] = {0, 0};
    for (size_t i = 0; i < ps->count; i++)
        if (side[i] >= 0)
            n[side[i]]++;
    siam_pairset *s[2] = {NULL, NULL};
    const char *tags[2] = {tag0, tag1};
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(ps->source) + strlen(tags[k]) + 2;
        char *name = malloc(len);
        if (name == NULL) {
            siam_pairset_free(s[0]);
            return siam_fail(err, "out of memory splitting %s", ps->source);
        }
        snprintf(name, len, "%s#%s", ps->source, tags[k]);
        s[k] = siam_pairset_new(ps->images, n[k], name, err);
        free(name);
        if (s[k] == NULL) {
            siam_pairset_free(s[0]);
            return -1;
        }
        s[k]->folds = ps->folds;
        s[k]->count = 0;
    }
    for (size_t i = 0; i < ps->count; i++)
        if (side[i] >= 0)
            s[side[i]]->pairs[s[side[i]]->count++] = ps->pairs[i];
    *out0 = s[0];
    *out1 = s[1];
    return 0;
}

static int check_fraction(const siam_pairset *ps, double f, siam_error *err)
{
    if (!(f >= 0.0 && f < 1.0))
        return siam_fail(err, "%s: validation fraction %g outside [0, 1)", ps->source, f);
    return 0;
}

/* Moves want[label] pairs of each label class, chosen by the class's own
 * shuffle, to the second side. */
static int split_counts(const siam_pairset *ps, const size_t want[2], uint64_t seed,
                        siam_pairset **train, siam_pairset **val, siam_error *err)
{
    signed char *side = calloc(ps->count + 1, 1);
    int32_t *idx = malloc(sizeof *idx * (ps->count + 1));
    if (side == NULL || idx == NULL) {
        free(side);
        free(idx);
        return siam_fail(err, "out of memory splitting %s", ps->source);
    }
    for (int label = 0; label <= 1; label++) {
        size_t n = 0;
        for (size_t i = 0; i < ps->count; i++)
            if ((ps->pairs[i].label > 0.5f) == label)
                idx[n++] = (int32_t)i;
        /* Each class draws from its own counter range so that the other
         * class's size does not change its shuffle. */
        shuffle(idx, n, seed, (uint64_t)label << 40);
        for (size_t k = 0; k < want[label] && k < n; k++)
            side[idx[k]] = 1;
    }
    int rc = build_sides(ps, side, "train", "val", train, val, err);
    free(side);
    free(idx);
    return rc;
}

static void class_sizes(const siam_pairset *ps, size_t n[2])
{
    n[0] = n[1] = 0;
    for (size_t i = 0; i < ps->count; i++)
        n[ps->pairs[i].label > 0.5f]++;
}

int siam_split_stratified(const siam_pairset *ps, double val_fraction, uint64_t seed,
                          siam_pairset **train, siam_pairset **val, siam_error *err)
{
    if (check_fraction(ps, val_fraction, err) < 0)
        return -1;
    size_t n[2], want[2];
    class_sizes(ps, n);
    for (int label = 0; label <= 1; label++)
        want[label] = (size_t)llround(val_fraction * (double)n[label]);
    return split_counts(ps, want, seed, train, val, err);
}

int siam_split_take(const siam_pairset *ps, size_t count, uint64_t seed, siam_pairset **rest,
                    siam_pairset **part, siam_error *err)
{
    if (count > ps->count)
        return siam_fail(err, "%s: %zu pairs asked for, the set has %zu", ps->source, count,
                         ps->count);
    size_t n[2], want[2];
    class_sizes(ps, n);
    /* Mismatched pairs by rounding, matched pairs the remainder: the same
     * choice as a stratified split of fraction count / size whenever that
     * split's two roundings add up to count. */
    want[0] = ps->count ? (size_t)llround((double)count * (double)n[0] / (double)ps->count) : 0;
    if (want[0] > n[0])
        want[0] = n[0];
    want[1] = count - want[0];
    if (want[1] > n[1]) {
        want[1] = n[1];
        want[0] = count - n[1];
    }
    return split_counts(ps, want, seed, rest, part, err);
}

int siam_split_by_identity(const siam_pairset *ps, double val_fraction, uint64_t seed,
                           siam_pairset **train, siam_pairset **val, size_t *dropped,
                           siam_error *err)
{
    if (check_fraction(ps, val_fraction, err) < 0)
        return -1;
    const siam_images *im = ps->images;
    size_t np = ps->count;
    int32_t *person = malloc(sizeof *person * ((size_t)im->count + 1));
    int32_t *order = NULL, *start = NULL, *list = NULL;
    signed char *in_val = NULL, *side = NULL;
    int rc = -1;
    int people = person ? siam_images_person_ids(im, person, err) : -1;
    if (people < 0)
        goto done;
    order = malloc(sizeof *order * ((size_t)people + 1));
    start = calloc((size_t)people + 2, sizeof *start);
    list = malloc(sizeof *list * (2 * np + 1));
    in_val = calloc((size_t)people + 1, 1);
    side = malloc(np + 1);
    if (!order || !start || !list || !in_val || !side) {
        siam_fail(err, "out of memory splitting %s", ps->source);
        goto done;
    }
    /* Pairs of each person (CSR), to update the validation count as people
     * move over. */
    for (size_t i = 0; i < np; i++) {
        int pa = person[ps->pairs[i].a], pb = person[ps->pairs[i].b];
        start[pa + 1]++;
        if (pb != pa)
            start[pb + 1]++;
    }
    for (int p = 0; p < people; p++)
        start[p + 1] += start[p];
    int32_t *fill = order; /* borrowed as the per-person write cursor */
    memcpy(fill, start, sizeof *fill * (size_t)people);
    for (size_t i = 0; i < np; i++) {
        int pa = person[ps->pairs[i].a], pb = person[ps->pairs[i].b];
        list[fill[pa]++] = (int32_t)i;
        if (pb != pa)
            list[fill[pb]++] = (int32_t)i;
    }
    for (int p = 0; p < people; p++)
        order[p] = p;
    shuffle(order, (size_t)people, seed, 1ull << 41);
    size_t target = (size_t)llround(val_fraction * (double)np), have = 0;
    for (int k = 0; k < people && have < target; k++) {
        int q = order[k];
        in_val[q] = 1;
        for (int32_t j = start[q]; j < start[q + 1]; j++) {
            const siam_pair *pr = &ps->pairs[list[j]];
            int pa = person[pr->a], pb = person[pr->b];
            /* q was not in before, so the pair is complete only now. */
            have += in_val[pa] && in_val[pb];
        }
    }
    size_t lost = 0;
    for (size_t i = 0; i < np; i++) {
        int va = in_val[person[ps->pairs[i].a]], vb = in_val[person[ps->pairs[i].b]];
        side[i] = va == vb ? (signed char)va : -1;
        lost += va != vb;
    }
    if (dropped)
        *dropped = lost;
    rc = build_sides(ps, side, "train-id", "val-id", train, val, err);
done:
    free(person);
    free(order);
    free(start);
    free(list);
    free(in_val);
    free(side);
    return rc;
}

int siam_split_fold(const siam_pairset *ps, int fold, siam_pairset **train, siam_pairset **test,
                    siam_error *err)
{
    if (fold < 0 || fold >= ps->folds)
        return siam_fail(err, "%s: fold %d outside 0..%d", ps->source, fold, ps->folds - 1);
    signed char *side = malloc(ps->count + 1);
    if (side == NULL)
        return siam_fail(err, "out of memory splitting %s", ps->source);
    for (size_t i = 0; i < ps->count; i++)
        side[i] = ps->pairs[i].fold == fold;
    char t0[32], t1[32];
    snprintf(t0, sizeof t0, "folds-but-%d", fold);
    snprintf(t1, sizeof t1, "fold-%d", fold);
    int rc = build_sides(ps, side, t0, t1, train, test, err);
    free(side);
    return rc;
}
