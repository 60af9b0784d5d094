/* Shard parsing and ownership; see shard.h. */
#include "host/shard.h"

#include <string.h>

/* A whole decimal number in [0, INT_MAX]; no sign, no blanks. */
static int parse_int(const char *s, size_t n, int *out)
{
    if (n == 0 || n > 9)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int siam_shard_parse(const char *text, siam_shard *out, siam_error *err)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    int i, n;
    if (!slash || parse_int(text, (size_t)(slash - text), &i) != 0 ||
        parse_int(slash + 1, strlen(slash + 1), &n) != 0)
        return siam_fail(err, "--shard '%s': expected i/n, e.g. 1/4", text ? text : "(null)");
    if (n < 1 || i < 1 || i > n)
        return siam_fail(err, "--shard '%s': need 1 <= i <= n", text);
    out->index = i;
    out->count = n;
    return 0;
}

static int env_int(const char *name, const char *value, int *out, siam_error *err)
{
    if (parse_int(value, strlen(value), out) != 0)
        return siam_fail(err, "%s='%s' is not a non-negative integer", name, value);
    return 0;
}

int siam_shard_from_slurm(const char *task_id, const char *task_min, const char *task_step,
                          const char *task_count, siam_shard *out, int *found,
                          siam_error *err)
{
    *found = 0;
    if (!task_id)
        return 0;
    if (!task_count)
        return siam_fail(err, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    int id, min = 0, step = 1, count;
    if (env_int("SLURM_ARRAY_TASK_ID", task_id, &id, err) != 0 ||
        env_int("SLURM_ARRAY_TASK_COUNT", task_count, &count, err) != 0 ||
        (task_min && env_int("SLURM_ARRAY_TASK_MIN", task_min, &min, err) != 0) ||
        (task_step && env_int("SLURM_ARRAY_TASK_STEP", task_step, &step, err) != 0))
        return -1;
    if (step < 1)
        return siam_fail(err, "SLURM_ARRAY_TASK_STEP=%d must be at least 1", step);
    if (id < min || (id - min) % step != 0)
        return siam_fail(err, "SLURM_ARRAY_TASK_ID=%d is not in the array %d, %d, ... "
                         "(SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_STEP)", id, min, min + step);
    int index = (id - min) / step + 1;
    if (count < 1 || index > count)
        return siam_fail(err, "SLURM_ARRAY_TASK_ID=%d is task %d of SLURM_ARRAY_TASK_COUNT=%d",
                         id, index, count);
    out->index = index;
    out->count = count;
    *found = 1;
    return 0;
}

int siam_shard_owns(const siam_shard *s, size_t k)
{
    return (int)(k % (size_t)s->count) == s->index - 1;
}
