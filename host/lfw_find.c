/* LFW discovery (host/lfw_find.h). */
#include "host/lfw_find.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/lfw_cache.h"

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int join(char *out, const char *dir, const char *name)
{
    return snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX ? 0 : -1;
}

int siam_lfw_probe(siam_data_location *loc, const char *dir, siam_error *err)
{
    static const char *const roots[] = {"lfw-deepfunneled", "lfw_funneled", "lfw-funneled",
                                        "lfw", "lfw-synthetic", "images"};
    if (!is_dir(dir))
        return siam_fail(err, "%s: no such directory", dir);
    if (snprintf(loc->dir, sizeof loc->dir, "%s", dir) >= (int)sizeof loc->dir ||
        join(loc->train, dir, "pairsDevTrain.txt") < 0 ||
        join(loc->test, dir, "pairsDevTest.txt") < 0 || join(loc->view2, dir, "pairs.txt") < 0)
        return siam_fail(err, "%s: path too long", dir);
    if (!is_file(loc->train))
        return siam_fail(err, "%s: no pairsDevTrain.txt there", dir);
    if (!is_file(loc->test))
        return siam_fail(err, "%s: no pairsDevTest.txt there", dir);
    if (!is_file(loc->view2))
        loc->view2[0] = '\0';
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (join(loc->image_root, dir, roots[i]) == 0 && is_dir(loc->image_root))
            return 0;
    }
    loc->image_root[0] = '\0';
    return siam_fail(err, "%s: no image directory there (lfw-deepfunneled, lfw_funneled, "
                          "lfw-funneled, lfw, lfw-synthetic or images)", dir);
}

static int found(siam_data_location *loc, siam_data_origin origin, const char *why)
{
    loc->origin = origin;
    snprintf(loc->message, sizeof loc->message, "data: LFW at %s (%s), images in %s", loc->dir,
             why, loc->image_root);
    return 0;
}

int siam_lfw_find(siam_data_location *loc, const char *explicit_path,
                  const siam_synth_options *synth, siam_error *err)
{
    memset(loc, 0, sizeof *loc);
    if (explicit_path && *explicit_path) {
        if (siam_lfw_probe(loc, explicit_path, err) < 0)
            return siam_fail_wrap(err, "LFW path given");
        return found(loc, SIAM_DATA_EXPLICIT, "the path given");
    }
    const char *env = getenv("LFW_DIR");
    if (env && *env) {
        if (siam_lfw_probe(loc, env, err) < 0)
            return siam_fail_wrap(err, "$LFW_DIR");
        return found(loc, SIAM_DATA_ENV, "from $LFW_DIR");
    }
    siam_error ignored;
    if (siam_lfw_probe(loc, "data/lfw", &ignored) == 0)
        return found(loc, SIAM_DATA_LOCAL, "the default ./data/lfw");

    siam_synth_options o;
    if (synth)
        o = *synth;
    else
        siam_synth_options_init(&o);
    char cache[PATH_MAX - 64], dir[PATH_MAX];
    if (siam_cache_dir(cache, sizeof cache, NULL, err) < 0)
        return siam_fail_wrap(err, "no LFW found, and no place for the synthetic set");
    snprintf(dir, sizeof dir, "%s/synthetic-%llu-%dx%d-%d", cache, (unsigned long long)o.seed,
             o.identities, o.images_per_identity, o.size);
    int reused = siam_synth_present(dir, &o);
    if (!reused && siam_synth_write(dir, &o, err) < 0)
        return siam_fail_wrap(err, "no LFW found; writing the synthetic set");
    if (siam_lfw_probe(loc, dir, err) < 0)
        return -1;
    loc->origin = SIAM_DATA_SYNTHETIC;
    snprintf(loc->message, sizeof loc->message,
             "data: no LFW found (no path given, $LFW_DIR unset, no ./data/lfw): using the "
             "SYNTHETIC face set (%d people x %d images, seed %llu) %s %s",
             o.identities, o.images_per_identity, (unsigned long long)o.seed,
             reused ? "already at" : "generated at", dir);
    return 0;
}
