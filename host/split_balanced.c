/* The balanced identity-disjoint split (host/split_balanced.h). Both kinds
 * of validation pair are drawn the same way: a list of units (a person for
 * matched pairs, an unordered pair of people for mismatched ones), each
 * able to give `cap` distinct image pairs, gets a quota by water-filling,
 * and each unit draws its quota of distinct image pairs by Floyd's
 * algorithm. Spreading the pairs over as many people as possible keeps
 * them from sharing errors: a few people with hundreds of images (LFW's
 * George_W_Bush) would otherwise decide the accuracy. */
#include "host/split_balanced.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/philox.h"
#include "kernels/rng.h"

/* Offsets into the SIAM_STREAM_SPLIT words, clear of host/split.c's
 * (which stay below 1 << 42), one range per use so that a change in one
 * draw leaves the others as they were. */
#define RANGE_PEOPLE (4ull << 40)
#define RANGE_EXTRA_MATCHED (5ull << 40)
#define RANGE_EXTRA_MISMATCHED (6ull << 40)
#define RANGE_DRAW_MATCHED (7ull << 40)
#define RANGE_DRAW_MISMATCHED (8ull << 40)

static siam_rng rng_at(uint64_t seed, uint64_t offset)
{
    siam_rng r;
    siam_rng_init(&r, seed, SIAM_STREAM_SPLIT);
    r.offset = offset;
    return r;
}

/* An empty set named "<source>#<tag>" with room for n pairs. */
static siam_pairset *new_side(const siam_pairset *ps, const char *tag, size_t n, siam_error *err)
{
    size_t len = strlen(ps->source) + strlen(tag) + 2;
    char *name = malloc(len);
    if (name == NULL) {
        siam_fail(err, "out of memory splitting %s", ps->source);
        return NULL;
    }
    snprintf(name, len, "%s#%s", ps->source, tag);
    siam_pairset *s = siam_pairset_new(ps->images, n, name, err);
    free(name);
    if (s != NULL) {
        s->folds = ps->folds;
        s->count = 0;
    }
    return s;
}

/* sum over units of min(cap, q), stopping once it passes `limit` */
static uint64_t filled(const uint32_t *cap, size_t n, uint64_t q, uint64_t limit)
{
    uint64_t s = 0;
    for (size_t u = 0; u < n && s <= limit; u++)
        s += cap[u] < q ? cap[u] : q;
    return s;
}

/* quota[u] <= cap[u], summing to want (<= the caps' sum): every unit gets
 * the largest common level q the caps allow, and the `want - filled` left
 * over go one each to a seeded choice of the units that have more than q. */
static int fill_quotas(const uint32_t *cap, size_t n, size_t want, siam_rng *r,
                       uint32_t *quota, siam_error *err)
{
    uint64_t lo = 0, hi = want; /* filled(lo) <= want; find the largest such level */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (filled(cap, n, mid, want) <= want)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t left = want - (size_t)filled(cap, n, lo, want), more = 0;
    for (size_t u = 0; u < n; u++) {
        quota[u] = cap[u] < lo ? cap[u] : (uint32_t)lo;
        more += cap[u] > lo;
    }
    if (left == 0)
        return 0;
    uint32_t *pick = malloc(sizeof *pick * (more + 1));
    if (pick == NULL)
        return siam_fail(err, "out of memory drawing %zu validation pairs", want);
    more = 0;
    for (size_t u = 0; u < n; u++)
        if (cap[u] > lo)
            pick[more++] = (uint32_t)u;
    /* left < more: the level lo + 1 would have overfilled. A partial
     * Fisher-Yates shuffle picks `left` of them uniformly. */
    for (size_t i = 0; i < left; i++) {
        size_t j = i + siam_rng_below(r, (uint32_t)(more - i));
        uint32_t t = pick[i];
        pick[i] = pick[j];
        pick[j] = t;
        quota[pick[i]]++;
    }
    free(pick);
    return 0;
}

/* c distinct values uniformly from [0, m), c <= m (Floyd's algorithm:
 * Bentley and Floyd, "A sample of brilliance", CACM 30(9), 1987). */
static void draw_distinct(uint32_t c, uint32_t m, siam_rng *r, uint32_t *out)
{
    uint32_t k = 0;
    for (uint32_t j = m - c; j < m; j++) {
        uint32_t t = siam_rng_below(r, j + 1), seen = 0;
        for (uint32_t i = 0; i < k && !seen; i++)
            seen = out[i] == t;
        out[k++] = seen ? j : t;
    }
}

static uint32_t cap32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

int siam_split_balanced(const siam_pairset *ps, double people, size_t pairs, int at_most,
                        uint64_t seed, siam_pairset **train, siam_pairset **val,
                        size_t *dropped, siam_error *err)
{
    if (!(people > 0.0 && people < 1.0))
        return siam_fail(err, "%s: validation share of people %g outside (0, 1)", ps->source,
                         people);
    if (pairs == 0 || pairs % 2 != 0)
        return siam_fail(err, "%s: %zu balanced validation pairs asked for: give an even number "
                              "above 0 (as many matched as mismatched)", ps->source, pairs);
    const siam_images *im = ps->images;
    size_t nim = (size_t)im->count;
    int32_t *pid = malloc(sizeof *pid * (nim + 1));
    int32_t *list = NULL, *vindex = NULL, *vstart = NULL, *vimg = NULL;
    unsigned char *named = NULL;
    uint32_t *capm = NULL, *quotam = NULL, *capx = NULL, *quotax = NULL, *scratch = NULL;
    signed char *side = NULL;
    siam_pairset *tr = NULL, *va = NULL;
    int rc = -1;
    int bank_people = pid ? siam_images_person_ids(im, pid, err) : -1;
    if (pid == NULL)
        siam_fail(err, "out of memory splitting %s", ps->source);
    if (bank_people < 0)
        goto done;
    size_t bp = (size_t)bank_people;
    named = calloc(bp + 1, 1);
    list = malloc(sizeof *list * (bp + 1));
    vindex = malloc(sizeof *vindex * (bp + 1));
    side = malloc(ps->count + 1);
    if (!named || !list || !vindex || !side) {
        siam_fail(err, "out of memory splitting %s", ps->source);
        goto done;
    }
    for (size_t i = 0; i < ps->count; i++)
        named[pid[ps->pairs[i].a]] = named[pid[ps->pairs[i].b]] = 1;
    int np = 0;
    for (int p = 0; p < bank_people; p++)
        if (named[p])
            list[np++] = p;
    int k = (int)llround(people * np);
    if (k < 2) {
        siam_fail(err, "%s: a share %g of its %d people is %d: a balanced validation set needs "
                       "two validation people or more", ps->source, people, np, k);
        goto done;
    }
    if (k >= np) {
        siam_fail(err, "%s: a share %g of its %d people holds out all of them: no training "
                       "person is left", ps->source, people, np);
        goto done;
    }
    siam_rng r = rng_at(seed, RANGE_PEOPLE);
    siam_rng_shuffle_i32(&r, list, (size_t)np);
    /* Validation people numbered in bank order, whatever the shuffle's. */
    for (int p = 0; p < bank_people; p++)
        vindex[p] = -1;
    for (int i = 0; i < k; i++)
        vindex[list[i]] = 0;
    int nv = 0;
    for (int p = 0; p < bank_people; p++)
        if (vindex[p] == 0)
            vindex[p] = nv++;
    /* Every bank image of each validation person (CSR, bank order). */
    vstart = calloc((size_t)nv + 1, sizeof *vstart);
    vimg = malloc(sizeof *vimg * (nim + 1));
    size_t units = (size_t)nv * (size_t)(nv - 1) / 2;
    capm = malloc(sizeof *capm * (size_t)nv);
    quotam = malloc(sizeof *quotam * (size_t)nv);
    capx = malloc(sizeof *capx * units);
    quotax = malloc(sizeof *quotax * units);
    scratch = malloc(sizeof *scratch * (pairs / 2));
    if (!vstart || !vimg || !capm || !quotam || !capx || !quotax || !scratch) {
        siam_fail(err, "out of memory splitting %s (%d validation people)", ps->source, nv);
        goto done;
    }
    for (size_t i = 0; i < nim; i++)
        if (vindex[pid[i]] >= 0)
            vstart[vindex[pid[i]] + 1]++;
    for (int v = 0; v < nv; v++)
        vstart[v + 1] += vstart[v];
    int32_t *fill = list; /* its shuffle is spent: borrowed as write cursors */
    memcpy(fill, vstart, sizeof *fill * (size_t)nv);
    for (size_t i = 0; i < nim; i++)
        if (vindex[pid[i]] >= 0)
            vimg[fill[vindex[pid[i]]]++] = (int32_t)i;
    uint64_t total_m = 0, total_x = 0;
    int with_two = 0;
    for (int v = 0, u = 0; v < nv; v++) {
        uint64_t n = (uint64_t)(vstart[v + 1] - vstart[v]);
        capm[v] = cap32(n * (n - 1) / 2);
        total_m += capm[v];
        with_two += n >= 2;
        for (int w = v + 1; w < nv; w++, u++) {
            capx[u] = cap32(n * (uint64_t)(vstart[w + 1] - vstart[w]));
            total_x += capx[u];
        }
    }
    size_t half = pairs / 2;
    if (total_m < half || total_x < half) {
        uint64_t most = total_m < total_x ? total_m : total_x;
        if (!at_most || most == 0) {
            siam_fail(err, "%s: its %d validation people (%d with two images or more) allow "
                           "%llu matched and %llu mismatched pairs: %s%zu balanced pairs need %zu "
                           "of each%s", ps->source, nv, with_two,
                      (unsigned long long)total_m, (unsigned long long)total_x,
                      most == 0 ? "no balanced set; " : "", pairs, half,
                      most == 0 ? "" : " (ask for fewer, or hold out more people)");
            goto done;
        }
        half = (size_t)most;
    }
    r = rng_at(seed, RANGE_EXTRA_MATCHED);
    if (fill_quotas(capm, (size_t)nv, half, &r, quotam, err) < 0)
        goto done;
    r = rng_at(seed, RANGE_EXTRA_MISMATCHED);
    if (fill_quotas(capx, units, half, &r, quotax, err) < 0)
        goto done;
    va = new_side(ps, "val-bal", 2 * half, err);
    if (va == NULL)
        goto done;
    r = rng_at(seed, RANGE_DRAW_MATCHED);
    for (int v = 0; v < nv; v++) {
        const int32_t *img = vimg + vstart[v];
        uint32_t n = (uint32_t)(vstart[v + 1] - vstart[v]);
        draw_distinct(quotam[v], capm[v], &r, scratch);
        for (uint32_t q = 0; q < quotam[v]; q++) {
            /* index t of the n(n-1)/2 pairs x < y, row by row */
            uint32_t t = scratch[q], x = 0;
            while (t >= n - 1 - x) {
                t -= n - 1 - x;
                x++;
            }
            va->pairs[va->count++] = (siam_pair){ .a = img[x], .b = img[x + 1 + t],
                                                  .label = 1.0f, .fold = 0 };
        }
    }
    r = rng_at(seed, RANGE_DRAW_MISMATCHED);
    for (int v = 0, u = 0; v < nv; v++)
        for (int w = v + 1; w < nv; w++, u++) {
            uint32_t nw = (uint32_t)(vstart[w + 1] - vstart[w]);
            draw_distinct(quotax[u], capx[u], &r, scratch);
            for (uint32_t q = 0; q < quotax[u]; q++)
                va->pairs[va->count++] = (siam_pair){ .a = vimg[vstart[v] + scratch[q] / nw],
                                                      .b = vimg[vstart[w] + scratch[q] % nw],
                                                      .label = 0.0f, .fold = 0 };
        }
    size_t kept = 0;
    for (size_t i = 0; i < ps->count; i++) {
        side[i] = vindex[pid[ps->pairs[i].a]] < 0 && vindex[pid[ps->pairs[i].b]] < 0;
        kept += (size_t)side[i];
    }
    tr = new_side(ps, "train-bal", kept, err);
    if (tr == NULL)
        goto done;
    for (size_t i = 0; i < ps->count; i++)
        if (side[i])
            tr->pairs[tr->count++] = ps->pairs[i];
    if (dropped)
        *dropped = ps->count - kept;
    *train = tr;
    *val = va;
    tr = va = NULL;
    rc = 0;
done:
    siam_pairset_free(tr);
    siam_pairset_free(va);
    free(pid);
    free(named);
    free(list);
    free(vindex);
    free(vstart);
    free(vimg);
    free(capm);
    free(quotam);
    free(capx);
    free(quotax);
    free(scratch);
    free(side);
    return rc;
}
