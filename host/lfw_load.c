/* The LFW loaders (host/lfw_load.h): a pairs file or a whole image
 * directory into an image bank, through the cache (host/lfw_cache.h) and
 * the parallel decoder (host/lfw_images.h). */
#include "host/lfw_load.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "host/escape.h"
#include "host/hash.h"
#include "host/lfw_cache.h"
#include "host/lfw_images.h"
#include "host/lfw_pairs.h"
#include "host/regular_file.h"

void siam_load_options_init(siam_load_options *opt)
{
    opt->height = SIAM_IMAGE_SIZE;
    opt->width = SIAM_IMAGE_SIZE;
    opt->crop = 0;
    opt->threads = 0;
    opt->use_cache = 1;
    opt->cache_dir = NULL;
    opt->all_of_people = 0;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* One image to load: person directory, file name, where it is, and what the
 * cache key records about it. */
typedef struct image_ref {
    char *person;
    char *file;
    char *path;
    long long size, mtime_s, mtime_ns;
    int line; /* first pairs-file line naming it (0 for a directory scan) */
    int num;
} image_ref;

static void refs_free(image_ref *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        free(r[i].file);
        free(r[i].path);
        free(r[i].person);
    }
    free(r);
}

static int ref_set_path(image_ref *r, const char *root, siam_error *err)
{
    size_t n = strlen(root) + strlen(r->person) + strlen(r->file) + 3;
    free(r->path);
    r->path = malloc(n);
    if (r->path == NULL)
        return siam_fail(err, "out of memory");
    snprintf(r->path, n, "%s/%s/%s", root, r->person, r->file);
    return 0;
}

static void ref_set_stat(image_ref *r, const struct stat *st)
{
    r->size = st->st_size;
    r->mtime_s = st->st_mtim.tv_sec;
    r->mtime_ns = st->st_mtim.tv_nsec;
}

/* Decodes refs (or reads them from the cache) into a new bank. */
static siam_images *load_bank(const char *root, image_ref *refs, int count, const char *set,
                              uint64_t pairs_hash, const siam_load_options *opt,
                              siam_load_report *rep, siam_error *err)
{
    const char **people = malloc(sizeof *people * ((size_t)count + 1));
    const char **files = malloc(sizeof *files * ((size_t)count + 1));
    const char **paths = malloc(sizeof *paths * ((size_t)count + 1));
    uint64_t *contents = NULL; /* the decoded files' hashes, for the cache key */
    siam_images *im = siam_images_new(count, opt->height, opt->width, root, err);
    if (!people || !files || !paths || !im) {
        if (im)
            siam_fail(err, "out of memory listing %d images", count);
        goto fail;
    }
    uint64_t list_hash = SIAM_HASH64_INIT;
    for (int i = 0; i < count; i++) {
        people[i] = refs[i].person;
        files[i] = refs[i].file;
        paths[i] = refs[i].path;
        uint64_t stamp[3] = {(uint64_t)refs[i].size, (uint64_t)refs[i].mtime_s,
                             (uint64_t)refs[i].mtime_ns};
        list_hash = siam_hash64(list_hash, stamp, sizeof stamp);
    }
    if (siam_images_set_names(im, people, files, err) < 0)
        goto fail;
    im->crop = opt->crop;
    for (int i = 0; i < count; i++)
        list_hash = siam_hash64(list_hash, im->names[i], strlen(im->names[i]));
    siam_cache_key key = {.set = set,
                          .source = root,
                          .pairs_hash = pairs_hash,
                          .list_hash = list_hash,
                          .height = opt->height,
                          .width = opt->width,
                          .count = count,
                          .crop = opt->crop,
                          .names = (const char *const *)im->names,
                          .paths = paths,
                          .threads = opt->threads};
    char dir[PATH_MAX];
    siam_error cerr;
    int have_path = 0;
    if (opt->use_cache) {
        if (siam_cache_dir(dir, sizeof dir, opt->cache_dir, &cerr) == 0 &&
            siam_cache_path(rep->cache_path, sizeof rep->cache_path, dir, &key, &cerr) == 0)
            have_path = 1;
        else
            snprintf(rep->note, sizeof rep->note, "cache not used: %.200s", cerr.msg);
    }
    if (have_path) {
        char why[200];
        if (siam_cache_read(rep->cache_path, &key, im->pixels, why, sizeof why)) {
            rep->from_cache = 1;
            goto done;
        }
        snprintf(rep->note, sizeof rep->note, "cache rebuilt (%s)", why);
    }
    contents = have_path ? malloc(sizeof *contents * ((size_t)count + 1)) : NULL;
    if (have_path && contents == NULL) {
        siam_fail(err, "out of memory listing %d images", count);
        goto fail;
    }
    if (siam_image_decode_all(im->pixels, opt->height, opt->width, opt->crop, paths, count,
                              opt->threads, contents, err) < 0)
        goto fail;
    rep->decoded = count;
    if (have_path) {
        key.content_hash = siam_cache_contents(contents, count);
        if (siam_cache_write(rep->cache_path, &key, im->pixels, &cerr) == 0)
            rep->cache_written = 1;
        else
            snprintf(rep->note, sizeof rep->note, "cache not written: %.200s", cerr.msg);
    }
done:
    free(contents);
    free(people);
    free(files);
    free(paths);
    return im;
fail:
    free(contents);
    free(people);
    free(files);
    free(paths);
    siam_images_release(im);
    return NULL;
}

static int cmp_ref(const void *pa, const void *pb)
{
    const image_ref *a = pa, *b = pb;
    int c = strcmp(a->person, b->person);
    if (c)
        return c;
    if (a->num != b->num)
        return a->num < b->num ? -1 : 1;
    return strcmp(a->file ? a->file : "", b->file ? b->file : "");
}

static int find_ref(const image_ref *refs, int n, const char *person, int num)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(refs[mid].person, person);
        if (c == 0)
            c = refs[mid].num < num ? -1 : refs[mid].num > num;
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* "pairs.txt:5: missing image <root>/Name/Name_0001.jpg", saying when the
 * person has no folder at all (a misspelt name rather than a lost file).
 * The name comes from the file: shown escaped. */
static int missing_image(siam_error *err, const siam_pair_list *pl, const image_ref *r,
                         const char *root)
{
    char want[PATH_MAX + 64], shown[SIAM_ESCAPE_CAP(600)], who[SIAM_ESCAPE_CAP(80)];
    snprintf(want, sizeof want, "%s/%s", root, r->person);
    struct stat st;
    int no_folder = stat(want, &st) != 0;
    snprintf(want, sizeof want, "%s/%s/%s_%04d.jpg", root, r->person, r->person, r->num);
    siam_escape(shown, sizeof shown, want, strlen(want));
    siam_escape(who, sizeof who, r->person, strlen(r->person));
    if (no_folder)
        return siam_fail(err, "%s:%d: missing image %s (the image directory has no folder "
                              "\"%s\")", pl->path, r->line, shown, who);
    return siam_fail(err, "%s:%d: missing image %s", pl->path, r->line, shown);
}

/* The distinct images a pair list names, sorted, each with its file found
 * (.jpg, else .png) and stat'ed. */
static image_ref *pair_refs(const siam_pair_list *pl, const char *root, int *count,
                            siam_error *err)
{
    size_t n = 2 * pl->count;
    image_ref *refs = calloc(n + 1, sizeof *refs);
    if (refs == NULL) {
        siam_fail(err, "out of memory for %zu image references", n);
        return NULL;
    }
    for (size_t i = 0; i < pl->count; i++) {
        const siam_pair_entry *e = &pl->entries[i];
        refs[2 * i] = (image_ref){.person = (char *)e->name_a, .num = e->num_a, .line = e->line};
        refs[2 * i + 1] =
            (image_ref){.person = (char *)e->name_b, .num = e->num_b, .line = e->line};
    }
    qsort(refs, n, sizeof *refs, cmp_ref);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && strcmp(refs[m - 1].person, refs[i].person) == 0 &&
            refs[m - 1].num == refs[i].num) {
            if (refs[i].line < refs[m - 1].line)
                refs[m - 1].line = refs[i].line;
            continue;
        }
        refs[m++] = refs[i];
    }
    /* From here each ref owns its strings (refs_free frees them). */
    for (size_t i = 0; i < m; i++)
        refs[i].person = strdup(refs[i].person);
    for (size_t i = m; i < n; i++)
        refs[i].person = NULL;
    for (size_t i = 0; i < m; i++) {
        image_ref *r = &refs[i];
        size_t fl = strlen(r->person) + 16;
        r->file = malloc(fl);
        if (r->person == NULL || r->file == NULL) {
            siam_fail(err, "out of memory");
            goto fail;
        }
        struct stat st;
        snprintf(r->file, fl, "%s_%04d.jpg", r->person, r->num);
        if (ref_set_path(r, root, err) < 0)
            goto fail;
        if (stat(r->path, &st) < 0) {
            snprintf(r->file, fl, "%s_%04d.png", r->person, r->num);
            if (ref_set_path(r, root, err) < 0)
                goto fail;
            if (stat(r->path, &st) < 0) {
                missing_image(err, pl, r, root);
                goto fail;
            }
        }
        if (!S_ISREG(st.st_mode)) {
            char shown[SIAM_ESCAPE_CAP(600)];
            siam_escape(shown, sizeof shown, r->path, strlen(r->path));
            siam_fail(err, "%s:%d: %s is not a regular file (%s)", pl->path, r->line, shown,
                      siam_file_kind(st.st_mode));
            goto fail;
        }
        ref_set_stat(r, &st);
    }
    *count = (int)m;
    return refs;
fail:
    refs_free(refs, n);
    return NULL;
}

static char **list_dir(const char *path, int (*keep)(const char *dir, const char *name),
                       size_t *n, siam_error *err);
static int keep_image_file(const char *dir, const char *name);
static void strv_free(char **v, size_t n);

/* The image number of "Person_0042.jpg" (or .png) for `person`, or -1 for
 * any other name: only files named as LFW names them join the bank. */
static int person_image_number(const char *person, const char *file)
{
    size_t np = strlen(person);
    if (strncmp(file, person, np) != 0 || file[np] != '_')
        return -1;
    const char *d = file + np + 1;
    int num = 0, digits = 0;
    while (*d >= '0' && *d <= '9' && digits < 9) {
        num = num * 10 + (*d++ - '0');
        digits++;
    }
    if (digits == 0 || num <= 0 || (strcmp(d, ".jpg") != 0 && strcmp(d, ".png") != 0))
        return -1;
    return num;
}

/* all_of_people: adds to the m sorted, distinct refs every other image of
 * their people found in root/Person/; returns the new array (sorted again)
 * and count, or NULL (refs then freed). */
static image_ref *add_people_refs(image_ref *refs, int *count, const char *root, siam_error *err)
{
    int m = *count, cap = m + 64;
    image_ref *all = realloc(refs, (size_t)cap * sizeof *all);
    if (!all) {
        siam_fail(err, "out of memory");
        refs_free(refs, (size_t)m);
        return NULL;
    }
    refs = all;
    int n = m;
    for (int i = 0; i < m; i++) {
        if (i > 0 && strcmp(refs[i].person, refs[i - 1].person) == 0)
            continue;
        const char *person = refs[i].person;
        char dir[PATH_MAX];
        size_t nf = 0;
        if (snprintf(dir, sizeof dir, "%s/%s", root, person) >= (int)sizeof dir) {
            siam_fail(err, "path too long: %s/%s", root, person);
            goto fail;
        }
        char **files = list_dir(dir, keep_image_file, &nf, err);
        if (!files)
            goto fail;
        for (size_t f = 0; f < nf; f++) {
            int num = person_image_number(person, files[f]);
            if (num < 0 || find_ref(refs, m, person, num) >= 0)
                continue;
            /* .jpg wins when both exist, as for the pairs' own images */
            int dup = 0;
            for (int j = m; j < n && !dup; j++)
                dup = refs[j].num == num && strcmp(refs[j].person, person) == 0;
            if (dup)
                continue;
            if (n == cap) {
                image_ref *w = realloc(refs, 2 * (size_t)cap * sizeof *w);
                if (!w) {
                    strv_free(files, nf);
                    siam_fail(err, "out of memory");
                    goto fail;
                }
                refs = w;
                cap *= 2;
            }
            image_ref *r = &refs[n];
            memset(r, 0, sizeof *r);
            r->num = num;
            r->person = strdup(person);
            r->file = strdup(files[f]);
            n++;
            struct stat st;
            if (!r->person || !r->file || ref_set_path(r, root, err) < 0) {
                strv_free(files, nf);
                siam_fail(err, "out of memory");
                goto fail;
            }
            if (stat(r->path, &st) < 0 || !S_ISREG(st.st_mode)) {
                strv_free(files, nf);
                siam_fail(err, "%s is not a regular file", r->path);
                goto fail;
            }
            ref_set_stat(r, &st);
        }
        strv_free(files, nf);
    }
    qsort(refs, (size_t)n, sizeof *refs, cmp_ref);
    *count = n;
    return refs;
fail:
    refs_free(refs, (size_t)n);
    return NULL;
}

static int resolve_root(char *out, const char *image_root, siam_error *err)
{
    if (realpath(image_root, out) == NULL)
        return siam_fail(err, "image directory %s: %s", image_root, strerror(errno));
    struct stat st;
    if (stat(out, &st) < 0 || !S_ISDIR(st.st_mode))
        return siam_fail(err, "image directory %s: not a directory", image_root);
    return 0;
}

static void start_load(siam_load_options *o, const siam_load_options *opt, siam_load_report *rep)
{
    if (opt)
        *o = *opt;
    else
        siam_load_options_init(o);
    memset(rep, 0, sizeof *rep);
}

siam_pairset *siam_pairset_load(const char *pairs_path, const char *image_root,
                                const siam_load_options *opt, siam_load_report *rep,
                                siam_error *err)
{
    double t0 = now_seconds();
    siam_load_options o;
    siam_load_report local;
    if (rep == NULL)
        rep = &local;
    start_load(&o, opt, rep);
    char root[PATH_MAX];
    if (resolve_root(root, image_root, err) < 0)
        return NULL;
    siam_pair_list *pl = siam_pair_list_read(pairs_path, err);
    if (pl == NULL)
        return NULL;
    int count = 0;
    siam_pairset *ps = NULL;
    image_ref *refs = pair_refs(pl, root, &count, err);
    size_t nrefs = 2 * pl->count; /* entries refs_free must visit */
    if (refs && o.all_of_people) {
        refs = add_people_refs(refs, &count, root, err);
        nrefs = (size_t)count;
    }
    char set[PATH_MAX + 16];
    if (realpath(pairs_path, set) == NULL)
        snprintf(set, sizeof set, "%s", pairs_path);
    if (o.all_of_people) /* another bank for the same pairs file: its own cache file */
        strcat(set, "#all-of-people");
    siam_images *im = refs ? load_bank(root, refs, count, set, pl->hash, &o, rep, err) : NULL;
    if (im)
        ps = siam_pairset_new(im, pl->count, pairs_path, err);
    if (ps) {
        ps->folds = pl->folds;
        for (size_t i = 0; i < pl->count; i++) {
            const siam_pair_entry *e = &pl->entries[i];
            ps->pairs[i].a = find_ref(refs, count, e->name_a, e->num_a);
            ps->pairs[i].b = find_ref(refs, count, e->name_b, e->num_b);
            ps->pairs[i].label = (float)e->label;
            ps->pairs[i].fold = e->fold;
        }
    }
    siam_images_release(im);
    refs_free(refs, nrefs);
    siam_pair_list_free(pl);
    rep->seconds = now_seconds() - t0;
    return ps;
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot &&
           (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
            strcasecmp(dot, ".png") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a directory accepted by keep(). */
static char **list_dir(const char *path, int (*keep)(const char *dir, const char *name),
                       size_t *n, siam_error *err)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        siam_fail(err, "cannot read directory %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 16, len = 0;
    char **v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d)) != NULL) {
        if (!keep(path, de->d_name))
            continue;
        if (len == cap) {
            char **w = realloc(v, 2 * cap * sizeof *v);
            if (w == NULL) {
                for (size_t i = 0; i < len; i++)
                    free(v[i]);
                free(v);
                v = NULL;
                break;
            }
            v = w;
            cap *= 2;
        }
        if ((v[len] = strdup(de->d_name)) != NULL)
            len++;
    }
    closedir(d);
    if (v == NULL) {
        siam_fail(err, "out of memory listing %s", path);
        return NULL;
    }
    qsort(v, len, sizeof *v, cmp_str);
    *n = len;
    return v;
}

static int keep_person_dir(const char *dir, const char *name)
{
    if (name[0] == '.')
        return 0;
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return 0;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int keep_image_file(const char *dir, const char *name)
{
    (void)dir;
    return is_image_name(name);
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

siam_images *siam_images_load_dir(const char *image_root, const siam_load_options *opt,
                                  siam_load_report *rep, siam_error *err)
{
    double t0 = now_seconds();
    siam_load_options o;
    siam_load_report local;
    if (rep == NULL)
        rep = &local;
    start_load(&o, opt, rep);
    char root[PATH_MAX];
    if (resolve_root(root, image_root, err) < 0)
        return NULL;
    size_t np = 0, count = 0, cap = 1024;
    char **people = list_dir(root, keep_person_dir, &np, err);
    image_ref *refs = calloc(cap, sizeof *refs);
    siam_images *im = NULL;
    if (people == NULL || refs == NULL) {
        if (people)
            siam_fail(err, "out of memory listing %s", root);
        goto done;
    }
    for (size_t p = 0; p < np; p++) {
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s/%s", root, people[p]) >= (int)sizeof dir) {
            siam_fail(err, "path too long: %s/%s", root, people[p]);
            goto done;
        }
        size_t nf = 0;
        char **files = list_dir(dir, keep_image_file, &nf, err);
        if (files == NULL)
            goto done;
        for (size_t f = 0; f < nf; f++) {
            if (count == cap) {
                image_ref *w = realloc(refs, 2 * cap * sizeof *refs);
                if (w == NULL) {
                    strv_free(files, nf);
                    siam_fail(err, "out of memory listing %s", root);
                    goto done;
                }
                memset(w + cap, 0, cap * sizeof *w);
                refs = w;
                cap *= 2;
            }
            image_ref *r = &refs[count++];
            r->person = strdup(people[p]);
            r->file = files[f];
            files[f] = NULL;
            struct stat st;
            if (r->person == NULL || ref_set_path(r, root, err) < 0) {
                strv_free(files, nf);
                siam_fail(err, "out of memory listing %s", root);
                goto done;
            }
            if (stat(r->path, &st) < 0) {
                strv_free(files, nf);
                siam_fail(err, "%s: %s", r->path, strerror(errno));
                goto done;
            }
            ref_set_stat(r, &st);
        }
        strv_free(files, nf);
    }
    if (count == 0) {
        siam_fail(err, "no images (Name/*.jpg, *.png) under %s", root);
        goto done;
    }
    if (count > INT_MAX / 2) {
        siam_fail(err, "too many images under %s", root);
        goto done;
    }
    im = load_bank(root, refs, (int)count, "", 0, &o, rep, err);
done:
    strv_free(people, np);
    refs_free(refs, count);
    rep->seconds = now_seconds() - t0;
    return im;
}
