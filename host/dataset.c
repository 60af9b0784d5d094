/* Image banks and pair sets (host/dataset.h); the loaders that fill them
 * are host/lfw_load.c. */
#include "host/dataset.h"

#include <stdlib.h>
#include <string.h>

siam_images *siam_images_new(int count, int height, int width, const char *root,
                             siam_error *err)
{
    if (count < 0 || height <= 0 || width <= 0) {
        siam_fail(err, "bad image bank shape: %d images of %dx%d", count, width, height);
        return NULL;
    }
    siam_images *im = calloc(1, sizeof *im);
    if (im == NULL)
        goto oom;
    im->refcount = 1;
    im->count = count;
    im->height = height;
    im->width = width;
    im->pixels = calloc((size_t)count * height * width + 1, 1);
    im->names = calloc((size_t)count + 1, sizeof *im->names);
    im->people = calloc((size_t)count + 1, sizeof *im->people);
    im->root = strdup(root ? root : "");
    if (!im->pixels || !im->names || !im->people || !im->root)
        goto oom;
    return im;
oom:
    siam_fail(err, "out of memory for %d images of %dx%d", count, width, height);
    siam_images_release(im);
    return NULL;
}

void siam_images_retain(siam_images *im)
{
    if (im)
        im->refcount++;
}

void siam_images_release(siam_images *im)
{
    if (im == NULL || --im->refcount > 0)
        return;
    /* people[0] starts the one block that holds every name string. */
    if (im->people)
        free(im->people[0]);
    free(im->people);
    free(im->names);
    free(im->pixels);
    free(im->root);
    free(im);
}

int siam_images_set_names(siam_images *im, const char *const *people, const char *const *files,
                          siam_error *err)
{
    size_t total = 0;
    for (int i = 0; i < im->count; i++)
        total += 2 * strlen(people[i]) + strlen(files[i]) + 3;
    char *block = malloc(total + 1);
    if (block == NULL)
        return siam_fail(err, "out of memory for the names of %d images", im->count);
    if (im->people)
        free(im->people[0]);
    char *q = block;
    for (int i = 0; i < im->count; i++) {
        size_t np = strlen(people[i]), nf = strlen(files[i]);
        im->people[i] = q;
        memcpy(q, people[i], np + 1);
        q += np + 1;
        im->names[i] = q;
        memcpy(q, people[i], np);
        q[np] = '/';
        memcpy(q + np + 1, files[i], nf + 1);
        q += np + nf + 2;
    }
    if (im->count == 0)
        im->people[0] = block;
    return 0;
}

int siam_images_person_ids(const siam_images *im, int32_t *out, siam_error *err)
{
    int32_t *order = malloc(sizeof *order * ((size_t)im->count + 1));
    if (order == NULL)
        return siam_fail(err, "out of memory numbering %d images", im->count);
    /* Banks are sorted by name, so one person's images are adjacent; fall
     * back to a search for banks built in another order. */
    int people = 0;
    for (int i = 0; i < im->count; i++) {
        int found = -1;
        if (i > 0 && strcmp(im->people[i], im->people[i - 1]) == 0)
            found = out[i - 1];
        for (int p = 0; found < 0 && p < people; p++)
            if (strcmp(im->people[order[p]], im->people[i]) == 0)
                found = p;
        if (found < 0) {
            order[people] = i;
            found = people++;
        }
        out[i] = found;
    }
    free(order);
    return people;
}

siam_pairset *siam_pairset_new(siam_images *images, size_t count, const char *source,
                               siam_error *err)
{
    siam_pairset *ps = calloc(1, sizeof *ps);
    if (ps == NULL || (ps->pairs = calloc(count + 1, sizeof *ps->pairs)) == NULL ||
        (ps->source = strdup(source ? source : "")) == NULL) {
        siam_fail(err, "out of memory for a set of %zu pairs", count);
        siam_pairset_free(ps);
        return NULL;
    }
    ps->count = count;
    ps->folds = 1;
    ps->images = images;
    siam_images_retain(images);
    return ps;
}

void siam_pairset_free(siam_pairset *ps)
{
    if (ps == NULL)
        return;
    siam_images_release(ps->images);
    free(ps->pairs);
    free(ps->source);
    free(ps);
}
