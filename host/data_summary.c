/* Data summaries (host/data_summary.h). Counts use the images the pairs
 * name, not the whole bank, so a split's summary describes the split. */
#include "host/data_summary.h"

#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct people (sorted names) of the images a set uses; *n gets the
 * count, *images the distinct images, per_person (optional, n entries) the
 * images of each. Returns a new array of borrowed names. */
static const char **people_of(const siam_pairset *ps, int *n, int *images, int **per_person,
                              siam_error *err)
{
    const siam_images *im = ps->images;
    unsigned char *used = calloc((size_t)im->count + 1, 1);
    const char **names = malloc(sizeof *names * ((size_t)im->count + 1));
    if (used == NULL || names == NULL) {
        free(used);
        free(names);
        siam_fail(err, "out of memory summarising %s", ps->source);
        return NULL;
    }
    for (size_t i = 0; i < ps->count; i++) {
        used[ps->pairs[i].a] = 1;
        used[ps->pairs[i].b] = 1;
    }
    int m = 0;
    for (int i = 0; i < im->count; i++)
        if (used[i])
            names[m++] = im->people[i];
    free(used);
    *images = m;
    qsort(names, (size_t)m, sizeof *names, cmp_str);
    int *counts = per_person ? malloc(sizeof *counts * ((size_t)m + 1)) : NULL;
    if (per_person && counts == NULL) {
        free(names);
        siam_fail(err, "out of memory summarising %s", ps->source);
        return NULL;
    }
    int k = 0;
    for (int i = 0; i < m; i++) {
        if (k > 0 && strcmp(names[k - 1], names[i]) == 0) {
            if (counts)
                counts[k - 1]++;
            continue;
        }
        if (counts)
            counts[k] = 1;
        names[k++] = names[i];
    }
    *n = k;
    if (per_person)
        *per_person = counts;
    return names;
}

int siam_data_summary_compute(siam_data_summary *s, const siam_pairset *ps, siam_error *err)
{
    memset(s, 0, sizeof *s);
    s->pairs = ps->count;
    for (size_t i = 0; i < ps->count; i++) {
        if (ps->pairs[i].label > 0.5f)
            s->matched++;
        else
            s->mismatched++;
    }
    int *counts = NULL;
    const char **names = people_of(ps, &s->people, &s->images, &counts, err);
    if (names == NULL)
        return -1;
    free(names);
    if (s->people > 0) {
        qsort(counts, (size_t)s->people, sizeof *counts, cmp_int);
        s->per_person_min = counts[0];
        s->per_person_max = counts[s->people - 1];
        s->per_person_median = counts[s->people / 2];
        s->per_person_mean = (double)s->images / s->people;
        for (int i = 0; i < s->people && counts[i] == 1; i++)
            s->people_one_image++;
    }
    free(counts);
    return 0;
}

int siam_data_people_overlap(const siam_pairset *a, const siam_pairset *b, siam_error *err)
{
    int na, nb, ia, ib;
    const char **pa = people_of(a, &na, &ia, NULL, err);
    const char **pb = pa ? people_of(b, &nb, &ib, NULL, err) : NULL;
    if (pb == NULL) {
        free(pa);
        return -1;
    }
    int both = 0;
    for (int i = 0, j = 0; i < na && j < nb;) {
        int c = strcmp(pa[i], pb[j]);
        both += c == 0;
        i += c <= 0;
        j += c >= 0;
    }
    free(pa);
    free(pb);
    return both;
}

static int print_one(FILE *f, const siam_pairset *ps, siam_error *err)
{
    siam_data_summary s;
    if (siam_data_summary_compute(&s, ps, err) < 0)
        return -1;
    fprintf(f, "%s: %zu pairs (%zu matched, %zu mismatched)\n", ps->source, s.pairs, s.matched,
            s.mismatched);
    fprintf(f,
            "  %d distinct images of %d people; images per person: min %d, median %d, "
            "mean %.2f, max %d; %d with a single image\n",
            s.images, s.people, s.per_person_min, s.per_person_median, s.per_person_mean,
            s.per_person_max, s.people_one_image);
    return 0;
}

int siam_data_summary_print(FILE *f, const siam_pairset *a, const siam_pairset *b,
                            siam_error *err)
{
    if (print_one(f, a, err) < 0 || (b && print_one(f, b, err) < 0))
        return -1;
    if (b) {
        int both = siam_data_people_overlap(a, b, err);
        if (both < 0)
            return -1;
        fprintf(f, "people in both sets: %d\n", both);
    }
    return 0;
}
