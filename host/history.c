/* The metric history (host/history.h). */
#include "host/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void siam_history_init(siam_history *h, int capacity)
{
    memset(h, 0, sizeof *h);
    h->capacity = capacity > 0 ? capacity : 1;
}

void siam_history_clear(siam_history *h)
{
    for (int k = 0; k < h->ncols; k++) {
        free(h->cols[k].v);
        h->cols[k].v = NULL;
    }
    h->ncols = 0;
}

static siam_history_col *find_col(const siam_history *h, const char *name)
{
    for (int k = 0; k < h->ncols; k++)
        if (strcmp(h->cols[k].name, name) == 0)
            return (siam_history_col *)&h->cols[k];
    return NULL;
}

static siam_history_col *add_col(siam_history *h, const char *name, siam_error *err)
{
    if (h->ncols == SIAM_HISTORY_MAX_METRICS) {
        siam_fail(err, "history: more than %d metrics (adding '%s')", SIAM_HISTORY_MAX_METRICS,
                  name);
        return NULL;
    }
    if (strlen(name) >= SIAM_HISTORY_NAME_MAX) {
        siam_fail(err, "history: metric name '%s' longer than %d bytes", name,
                  SIAM_HISTORY_NAME_MAX - 1);
        return NULL;
    }
    siam_history_col *c = &h->cols[h->ncols];
    c->v = malloc((size_t)h->capacity * sizeof(double));
    if (!c->v) {
        siam_fail(err, "history: out of memory");
        return NULL;
    }
    for (int i = 0; i < h->capacity; i++)
        c->v[i] = NAN;
    strcpy(c->name, name);
    h->ncols++;
    return c;
}

int siam_history_add(siam_history *h, const char *name, siam_error *err)
{
    return add_col(h, name, err) ? 0 : -1;
}

int siam_history_set(siam_history *h, const char *name, int row, double value, siam_error *err)
{
    siam_history_col *c = find_col(h, name);
    if (!c && !(c = add_col(h, name, err)))
        return -1;
    if (row >= 0 && row < h->capacity)
        c->v[row] = value;
    return 0;
}

const double *siam_history_get(const siam_history *h, const char *name)
{
    siam_history_col *c = find_col(h, name);
    return c ? c->v : NULL;
}

int siam_history_count(const siam_history *h) { return h->ncols; }

const char *siam_history_name(const siam_history *h, int k)
{
    return k >= 0 && k < h->ncols ? h->cols[k].name : NULL;
}

int siam_history_replace(siam_history *h, int count, const char *const *names,
                         const double *const *values, int rows, siam_error *err)
{
    if (rows > h->capacity)
        return siam_fail(err, "history: %d epochs recorded, the run has %d", rows, h->capacity);
    siam_history_clear(h);
    for (int k = 0; k < count; k++) {
        siam_history_col *c = add_col(h, names[k], err);
        if (!c)
            return -1;
        memcpy(c->v, values[k], (size_t)rows * sizeof(double));
    }
    return 0;
}
