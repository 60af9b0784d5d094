/* Model metadata: defaults, ranges, and the format 1-2 sidecar reader
 * (host/model_meta.h). The sidecar was written by siamlua itself, one "key
 * value" line per field; anything else in it, a misspelt key included, is
 * refused: read as the defaults, a "treshold 0.73" would silently have
 * given threshold 0.5. */
#include "host/model_meta.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Crops beyond this are no image siamlua loads. */
#define MAX_CROP (1 << 20)
/* A sidecar is five short lines; a bigger file is not one. */
#define MAX_SIDECAR_BYTES 4096

void siam_model_meta_default(siam_model_meta *meta)
{
    memset(meta, 0, sizeof *meta);
    meta->threshold = 0.5;
    meta->crop = -1;
    meta->tta = SIAM_TTA_NONE;
    meta->init = SIAM_INIT_PAPER;
}

int siam_model_meta_check(const siam_model_meta *meta, siam_error *err)
{
    if (!(meta->threshold >= 0.0 && meta->threshold <= 1.0))
        return siam_fail(err, "threshold %g is outside [0, 1]", meta->threshold);
    if (meta->crop < -1 || meta->crop > MAX_CROP)
        return siam_fail(err, "crop %d is outside -1..%d (-1: not known)", meta->crop, MAX_CROP);
    if (meta->tta != SIAM_TTA_NONE && meta->tta != SIAM_TTA_FLIP)
        return siam_fail(err, "tta %d is neither 0 (none) nor 1 (flip)", (int)meta->tta);
    if (meta->init != SIAM_INIT_PAPER && meta->init != SIAM_INIT_PYTORCH &&
        meta->init != SIAM_INIT_CROSSCHECK)
        return siam_fail(err, "init %d is not 0 (paper), 1 (pytorch) or 2 (crosscheck)",
                         (int)meta->init);
    return 0;
}

enum { K_THRESHOLD, K_INIT, K_SEED, K_CROP, K_TTA, NKEYS };
static const char *const key_names[NKEYS] = { "threshold", "init", "seed", "crop", "tta" };

/* Parses one value into meta; -1 with what is wrong in err. */
static int parse_value(int key, const char *value, siam_model_meta *meta, siam_error *err)
{
    char *end;
    errno = 0;
    switch (key) {
    case K_THRESHOLD: {
        double t = strtod(value, &end);
        if (*end || end == value || !(t >= 0.0 && t <= 1.0))
            return siam_fail(err, "bad threshold '%.40s' (a number in [0, 1])", value);
        meta->threshold = t;
        return 0;
    }
    case K_INIT:
        return siam_init_kind_parse(value, &meta->init, err);
    case K_SEED: {
        unsigned long long s = strtoull(value, &end, 10);
        if (*end || end == value || value[0] == '-' || value[0] == '+' || errno == ERANGE)
            return siam_fail(err, "bad seed '%.40s' (an integer in [0, 2^64))", value);
        meta->seed = s;
        return 0;
    }
    case K_CROP: {
        long c = strtol(value, &end, 10);
        if (*end || end == value || c < 0 || c > MAX_CROP)
            return siam_fail(err, "bad crop '%.40s' (an integer in 0..%d)", value, MAX_CROP);
        meta->crop = (int)c;
        return 0;
    }
    default:
        if (siam_tta_parse(value, &meta->tta) < 0)
            return siam_fail(err, "bad tta '%.40s' (expected none or flip)", value);
        return 0;
    }
}

/* Parses the sidecar's text (NUL-terminated, modified in place) into
 * `meta`; -1 with "<name>:<line>: ..." in err. */
static int parse_sidecar(const char *name, char *text, siam_model_meta *meta, siam_error *err)
{
    int seen[NKEYS] = { 0 };
    int line = 0;
    for (char *p = text, *next; *p; p = next) {
        line++;
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        else
            next = p + strlen(p);
        size_t n = strlen(p);
        if (n > 0 && p[n - 1] == '\r')
            p[--n] = '\0';
        char *save, *key = strtok_r(p, " \t", &save);
        if (!key)
            continue; /* a blank line */
        char *value = strtok_r(NULL, " \t", &save), *extra = strtok_r(NULL, " \t", &save);
        int k = 0;
        while (k < NKEYS && strcmp(key, key_names[k]) != 0)
            k++;
        if (k == NKEYS)
            return siam_fail(err, "%s:%d: unknown key '%.40s' (a .meta file holds threshold, "
                                  "init, seed, crop and tta)", name, line, key);
        if (!value || extra)
            return siam_fail(err, "%s:%d: '%s' needs exactly one value, as in \"%s <value>\"",
                             name, line, key, key);
        if (seen[k])
            return siam_fail(err, "%s:%d: '%s' is given twice (first on line %d)", name, line,
                             key, seen[k]);
        seen[k] = line;
        if (parse_value(k, value, meta, err))
            return siam_fail_wrap(err, "%s:%d", name, line);
    }
    return 0;
}

int siam_model_meta_read_sidecar(const char *ckpt_path, siam_model_meta *meta, int *found,
                                 siam_error *err)
{
    char name[4096];
    *found = 0;
    if (snprintf(name, sizeof name, "%s.meta", ckpt_path) >= (int)sizeof name)
        return siam_fail(err, "%s.meta: path too long", ckpt_path);
    FILE *f = fopen(name, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return siam_fail(err, "%s: cannot open: %s", name, strerror(errno));
    }
    char text[MAX_SIDECAR_BYTES + 1];
    size_t n = fread(text, 1, sizeof text, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return siam_fail(err, "%s: read error", name);
    if (n > MAX_SIDECAR_BYTES)
        return siam_fail(err, "%s: more than %d bytes: not a .meta file", name,
                         MAX_SIDECAR_BYTES);
    if (memchr(text, '\0', n))
        return siam_fail(err, "%s: holds a NUL byte: not a .meta file", name);
    text[n] = '\0';
    siam_model_meta parsed = *meta;
    if (parse_sidecar(name, text, &parsed, err))
        return -1;
    *meta = parsed;
    *found = 1;
    return 0;
}
