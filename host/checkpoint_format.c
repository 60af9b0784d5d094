/* The checkpoint head's one encoder and one decoder, byte I/O and the
 * checked opening of a file (host/checkpoint_format.h). Integers are
 * written little-endian byte by byte. Every value read is checked before it
 * is trusted: a file is data from anywhere, and a size in it that is not
 * checked becomes an allocation (one flipped bit asked for 18 EB). */
#include "host/checkpoint_format.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/checkpoint_version.h"
#include "host/optim.h"
#include "host/regular_file.h"

/* FNV-1a 64 (Fowler, Noll, Vo): offset basis and prime from the reference. */
#define FNV_BASIS 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

void siam_ckpt_head_free(siam_ckpt_head *h)
{
    if (!h->owns_history)
        return;
    for (int k = 0; k < SIAM_HISTORY_MAX_METRICS; k++) {
        free((char *)h->names[k]);
        free((double *)h->values[k]);
        h->names[k] = NULL;
        h->values[k] = NULL;
    }
    h->owns_history = 0;
}

int siam_ckpt_arrays_bytes(const siam_ckpt_head *h, uint64_t *bytes)
{
    uint64_t weights, moments, floats;
    if (__builtin_add_overflow(h->params, h->buffers, &weights))
        return -1;
    floats = weights;
    if ((h->flags & SIAM_CKPT_FLAG_OPTIM) &&
        (__builtin_mul_overflow(h->params, (uint64_t)h->nmoments, &moments) ||
         __builtin_add_overflow(floats, moments, &floats)))
        return -1;
    if ((h->flags & SIAM_CKPT_FLAG_TRAINER) && h->ts.has_best &&
        __builtin_add_overflow(floats, weights, &floats))
        return -1;
    if ((h->flags & SIAM_CKPT_FLAG_WAVG) && __builtin_add_overflow(floats, weights, &floats))
        return -1;
    return __builtin_mul_overflow(floats, (uint64_t)sizeof(float), bytes) ? -1 : 0;
}

/* ---- writing ---- */

void siam_ckpt_writer_init(siam_ckpt_writer *w, FILE *f)
{
    w->f = f;
    w->hash = FNV_BASIS;
    w->bytes = 0;
    w->failed = 0;
}

void siam_ckpt_put(siam_ckpt_writer *w, const void *p, size_t n)
{
    w->bytes += n;
    if (!w->f || w->failed || n == 0)
        return;
    if (fwrite(p, 1, n, w->f) != n)
        w->failed = 1;
    w->hash = fnv1a(w->hash, p, n);
}

static void put_u32(siam_ckpt_writer *w, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    siam_ckpt_put(w, b, 4);
}

void siam_ckpt_put_u64(siam_ckpt_writer *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    siam_ckpt_put(w, b, 8);
}

static void put_f64(siam_ckpt_writer *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    siam_ckpt_put_u64(w, u);
}

static void put_f32(siam_ckpt_writer *w, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(w, u);
}

void siam_ckpt_put_head(siam_ckpt_writer *w, const siam_ckpt_head *h)
{
    const siam_model_config *c = &h->config;
    siam_ckpt_put(w, SIAM_CHECKPOINT_MAGIC, 8);
    put_u32(w, SIAM_CHECKPOINT_VERSION);
    put_u32(w, h->flags);
    siam_ckpt_put_u64(w, h->total);
    /* The architecture: every size that fixes the parameter layout. */
    put_u32(w, (uint32_t)c->in_h);
    put_u32(w, (uint32_t)c->in_w);
    for (int k = 0; k < 4; k++)
        put_u32(w, (uint32_t)c->channels[k]);
    for (int k = 0; k < 4; k++)
        put_u32(w, (uint32_t)c->kernels[k]);
    put_u32(w, (uint32_t)c->fc_units);
    put_f32(w, c->dropout);
    put_f32(w, c->bn_momentum);
    put_f32(w, c->bn_eps);
    put_u32(w, (uint32_t)c->embed_act);
    put_u32(w, c->head);
    siam_ckpt_put_u64(w, h->params);
    siam_ckpt_put_u64(w, h->buffers);
    /* The model metadata (version 3). */
    put_f64(w, h->meta.threshold);
    put_u32(w, (uint32_t)h->meta.crop);
    put_u32(w, (uint32_t)h->meta.tta);
    put_u32(w, (uint32_t)h->meta.init);
    siam_ckpt_put_u64(w, h->meta.seed);
    siam_ckpt_put_u64(w, h->dropout_seed);
    siam_ckpt_put_u64(w, h->dropout_offset);
    if (h->flags & SIAM_CKPT_FLAG_OPTIM) {
        put_u32(w, h->opt_kind);
        put_f64(w, h->lr);
        siam_ckpt_put_u64(w, h->steps);
        put_u32(w, h->nmoments);
    }
    if (h->flags & SIAM_CKPT_FLAG_TRAINER) {
        const siam_trainer_state *s = &h->ts;
        put_u32(w, (uint32_t)s->epochs_done);
        siam_ckpt_put_u64(w, s->seed);
        siam_ckpt_put_u64(w, s->augment_offset);
        put_u32(w, (uint32_t)s->stop_reason);
        put_u32(w, (uint32_t)s->early_stop.seen);
        put_f64(w, s->early_stop.best);
        put_u32(w, (uint32_t)s->early_stop.best_epoch);
        put_u32(w, (uint32_t)s->early_stop.wait);
        put_u32(w, (uint32_t)s->early_stop.stopped);
        put_u32(w, (uint32_t)s->has_best);
        /* What the run trained on (version 3). */
        siam_ckpt_put_u64(w, s->train_fingerprint);
        siam_ckpt_put_u64(w, s->train_pairs);
        siam_ckpt_put_u64(w, s->val_fingerprint);
        siam_ckpt_put_u64(w, s->val_pairs);
        put_u32(w, (uint32_t)s->batch_size);
        put_u32(w, (uint32_t)h->cols);
        put_u32(w, (uint32_t)h->rows);
        for (int k = 0; k < h->cols; k++) {
            uint32_t len = (uint32_t)strlen(h->names[k]);
            put_u32(w, len);
            siam_ckpt_put(w, h->names[k], len);
            for (int e = 0; e < h->rows; e++)
                put_f64(w, h->values[k][e]);
        }
    }
    if (h->flags & SIAM_CKPT_FLAG_WAVG) {
        put_u32(w, h->wavg_kind);
        siam_ckpt_put_u64(w, h->wavg_count);
    }
    if (h->flags & SIAM_CKPT_FLAG_PLATEAU) {
        put_f64(w, h->ts.plateau.best);
        put_u32(w, (uint32_t)h->ts.plateau.num_bad_epochs);
        put_u32(w, (uint32_t)h->ts.plateau.cooldown_counter);
    }
}

/* ---- reading ---- */

/* Reads within the head: never past the checksum, so that no value can
 * make a read run off the declared end. */
typedef struct reader {
    FILE *f;
    uint64_t left;  /* bytes before the checksum not yet read */
    int failed;
} reader;

int siam_ckpt_read(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n ? 0 : -1;
}

static void get(reader *r, void *p, size_t n)
{
    if (r->failed || n > r->left || siam_ckpt_read(r->f, p, n)) {
        r->failed = 1;
        memset(p, 0, n);
        return;
    }
    r->left -= n;
}

static uint32_t get_u32(reader *r)
{
    unsigned char b[4];
    get(r, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(reader *r)
{
    uint64_t lo = get_u32(r), hi = get_u32(r);
    return lo | hi << 32;
}

static double get_f64(reader *r)
{
    uint64_t u = get_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static float get_f32(reader *r)
{
    uint32_t u = get_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A u32 field that must lie in lo..hi. */
static int get_ranged(reader *r, int64_t lo, int64_t hi, const char *what, int64_t *out,
                      siam_error *err)
{
    uint32_t v = get_u32(r);
    /* Fields that may be -1 are stored as their 32-bit two's complement. */
    int64_t s = lo < 0 ? (int64_t)(int32_t)v : (int64_t)v;
    *out = s;
    if (!r->failed && (s < lo || s > hi))
        return siam_fail(err, "%s %lld is outside %lld..%lld", what, (long long)s,
                         (long long)lo, (long long)hi);
    return 0;
}

/* The architecture block: decoded into a configuration, checked against the
 * model limits, and its declared counts against the configuration's. */
static int get_arch(reader *r, siam_ckpt_head *h, siam_error *err)
{
    siam_model_config *c = &h->config;
    siam_model_config_default(c);
    /* Read as unsigned and range-checked, so that no cast to int wraps. */
    uint32_t v[11];
    for (int i = 0; i < 11; i++)
        v[i] = get_u32(r);
    for (int i = 0; i < 11; i++)
        if (v[i] > (uint32_t)INT_MAX)
            return siam_fail(err, "architecture: field %d is %u, beyond any model", i, v[i]);
    c->in_h = (int)v[0];
    c->in_w = (int)v[1];
    for (int k = 0; k < 4; k++) {
        c->channels[k] = (int)v[2 + k];
        c->kernels[k] = (int)v[6 + k];
    }
    c->fc_units = (int)v[10];
    c->dropout = get_f32(r);
    c->bn_momentum = get_f32(r);
    c->bn_eps = get_f32(r);
    /* Version 1 files predate the options: they hold the paper's head. */
    if (h->version >= 2) {
        uint32_t act = get_u32(r);
        c->embed_act = act > 2 ? -1 : (int)act;
        c->head = get_u32(r);
    }
    h->params = get_u64(r);
    h->buffers = get_u64(r);
    if (r->failed)
        return siam_fail(err, "unexpected end of file in the architecture");
    if (siam_model_config_check(c, NULL, err))
        return siam_fail_wrap(err, "architecture");
    uint64_t n, nb;
    if (siam_model_config_counts(c, &n, &nb, err))
        return siam_fail_wrap(err, "architecture");
    if (n != h->params || nb != h->buffers)
        return siam_fail(err, "the architecture gives %llu parameters and %llu BN values, the "
                              "header declares %llu and %llu",
                         (unsigned long long)n, (unsigned long long)nb,
                         (unsigned long long)h->params, (unsigned long long)h->buffers);
    return 0;
}

static int get_meta(reader *r, siam_ckpt_head *h, siam_error *err)
{
    siam_model_meta *m = &h->meta;
    m->threshold = get_f64(r);
    m->crop = (int32_t)get_u32(r);
    uint32_t tta = get_u32(r), init = get_u32(r);
    /* Out-of-range codes become -1, which the check refuses by name. */
    m->tta = tta > 1 ? (siam_tta)-1 : (siam_tta)tta;
    m->init = init > 2 ? (siam_init_kind)-1 : (siam_init_kind)init;
    m->seed = get_u64(r);
    if (r->failed)
        return siam_fail(err, "unexpected end of file in the model metadata");
    if (m->tta == (siam_tta)-1)
        return siam_fail(err, "model metadata: tta %u is neither 0 (none) nor 1 (flip)", tta);
    if (m->init == (siam_init_kind)-1)
        return siam_fail(err, "model metadata: init %u is not 0 (paper), 1 (pytorch) or 2 "
                              "(crosscheck)", init);
    if (siam_model_meta_check(m, err))
        return siam_fail_wrap(err, "model metadata");
    h->has_meta = 1;
    return 0;
}

static int get_optim(reader *r, siam_ckpt_head *h, siam_error *err)
{
    int64_t kind, moments;
    if (get_ranged(r, SIAM_OPTIM_ADAM, SIAM_OPTIM_SGD, "optimizer kind", &kind, err))
        return -1;
    h->opt_kind = (uint32_t)kind;
    h->lr = get_f64(r);
    h->steps = get_u64(r);
    if (get_ranged(r, 0, 2, "optimizer moment count", &moments, err))
        return -1;
    h->nmoments = (uint32_t)moments;
    if (!r->failed && !(h->lr >= 0.0 && isfinite(h->lr)))
        return siam_fail(err, "optimizer learning rate %g is not a finite number >= 0", h->lr);
    if (!r->failed && h->steps > (uint64_t)LONG_MAX)
        return siam_fail(err, "optimizer step count %llu is out of range",
                         (unsigned long long)h->steps);
    return 0;
}

static int get_history(reader *r, siam_ckpt_head *h, siam_error *err)
{
    uint32_t cols = get_u32(r), rows = get_u32(r);
    if (r->failed)
        return siam_fail(err, "unexpected end of file in the history");
    /* Every value takes 8 bytes of the file: rows can be no more than that. */
    if (cols > SIAM_HISTORY_MAX_METRICS || (uint64_t)rows * 8 * cols > r->left)
        return siam_fail(err, "history of %u metrics x %u epochs is out of range", cols, rows);
    if ((int64_t)rows != (int64_t)h->ts.epochs_done)
        return siam_fail(err, "history has %u epochs, the state says %d", rows,
                         h->ts.epochs_done);
    h->cols = (int)cols;
    h->rows = (int)rows;
    h->owns_history = 1;
    for (uint32_t k = 0; k < cols; k++) {
        uint32_t len = get_u32(r);
        if (r->failed)
            break;
        if (len == 0 || len > 31)
            return siam_fail(err, "history metric %u has a name of %u bytes", k, len);
        char *name = calloc(len + 1, 1);
        double *values = malloc(((size_t)rows + 1) * sizeof(double));
        h->names[k] = name;
        h->values[k] = values;
        if (!name || !values)
            return siam_fail(err, "out of host memory for the history");
        get(r, name, len);
        if (!r->failed && strlen(name) != len)
            return siam_fail(err, "history metric %u has a NUL byte in its name", k);
        for (uint32_t e = 0; e < rows; e++)
            values[e] = get_f64(r);
    }
    return 0;
}

static int get_trainer(reader *r, siam_ckpt_head *h, siam_error *err)
{
    siam_trainer_state *s = &h->ts;
    int64_t v;
    if (get_ranged(r, 0, INT_MAX, "epochs done", &v, err))
        return -1;
    s->epochs_done = (int)v;
    s->seed = get_u64(r);
    s->augment_offset = get_u64(r);
    if (get_ranged(r, SIAM_STOP_NONE, SIAM_STOP_HOOK, "stop reason", &v, err))
        return -1;
    s->stop_reason = (siam_stop_reason)v;
    if (get_ranged(r, 0, 1, "early stopping 'seen'", &v, err))
        return -1;
    s->early_stop.seen = (int)v;
    s->early_stop.best = get_f64(r);
    if (get_ranged(r, -1, INT_MAX, "early stopping best epoch", &v, err))
        return -1;
    s->early_stop.best_epoch = (int)v;
    if (get_ranged(r, 0, INT_MAX, "early stopping wait", &v, err))
        return -1;
    s->early_stop.wait = (int)v;
    if (get_ranged(r, 0, 1, "early stopping 'stopped'", &v, err))
        return -1;
    s->early_stop.stopped = (int)v;
    if (get_ranged(r, 0, 1, "has-best-weights", &v, err))
        return -1;
    s->has_best = (int)v;
    if (h->version >= 3) {
        s->train_fingerprint = get_u64(r);
        s->train_pairs = get_u64(r);
        s->val_fingerprint = get_u64(r);
        s->val_pairs = get_u64(r);
        if (get_ranged(r, 1, INT_MAX, "batch size", &v, err))
            return -1;
        s->batch_size = (int)v;
        h->has_identity = 1;
    }
    if (r->failed)
        return siam_fail(err, "unexpected end of file in the training state");
    return get_history(r, h, err);
}

/* Reads the head after the 24-byte header; `size` is the file's. */
static int get_head(reader *r, siam_ckpt_head *h, uint64_t size, siam_error *err)
{
    if (get_arch(r, h, err))
        return -1;
    if (h->version >= 3 && get_meta(r, h, err))
        return -1;
    h->dropout_seed = get_u64(r);
    h->dropout_offset = get_u64(r);
    if ((h->flags & SIAM_CKPT_FLAG_OPTIM) && get_optim(r, h, err))
        return -1;
    if ((h->flags & SIAM_CKPT_FLAG_TRAINER) && get_trainer(r, h, err))
        return -1;
    if (h->flags & SIAM_CKPT_FLAG_WAVG) {
        int64_t kind;
        if (get_ranged(r, SIAM_WAVG_EMA, SIAM_WAVG_SWA, "weight average kind", &kind, err))
            return -1;
        h->wavg_kind = (uint32_t)kind;
        h->wavg_count = get_u64(r);
    }
    if (h->flags & SIAM_CKPT_FLAG_PLATEAU) {
        int64_t bad, cool;
        h->ts.plateau.best = get_f64(r);
        if (get_ranged(r, 0, INT_MAX, "plateau bad epochs", &bad, err) ||
            get_ranged(r, 0, INT_MAX, "plateau cooldown", &cool, err))
            return -1;
        h->ts.plateau.num_bad_epochs = (int)bad;
        h->ts.plateau.cooldown_counter = (int)cool;
        h->ts.has_plateau = 1;
    }
    if (r->failed)
        return siam_fail(err, "unexpected end of file in the metadata");
    h->arrays_offset = size - 8 - r->left;
    /* The sizes the sections declare must be exactly what the file holds,
     * so that no model is built bigger than the file justifies. */
    uint64_t arrays;
    if (siam_ckpt_arrays_bytes(h, &arrays))
        return siam_fail(err, "the arrays the sections declare overflow 64-bit sizes");
    if (arrays != r->left)
        return siam_fail(err, "the sections declare %llu bytes of arrays (%llu parameters, "
                              "%llu BN values), the file holds %llu after its metadata",
                         (unsigned long long)arrays, (unsigned long long)h->params,
                         (unsigned long long)h->buffers, (unsigned long long)r->left);
    return 0;
}

/* FNV-1a over the file's first size - 8 bytes, streamed through a 64 KiB
 * buffer, with the header's size field read as `size_field` when it is
 * non-NULL (8 little-endian bytes), and the checksum stored after them. */
static int hash_file(FILE *f, uint64_t size, const unsigned char *size_field, uint64_t *hash,
                     uint64_t *stored)
{
    uint64_t h = FNV_BASIS, left = size - 8, at = 0;
    unsigned char buf[1 << 16];
    if (fseek(f, 0, SEEK_SET) != 0)
        return -1;
    while (left > 0) {
        size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
        if (fread(buf, 1, want, f) != want)
            return -1;
        if (size_field && at < 24)
            memcpy(buf + 16, size_field, 8); /* the first block holds the header */
        h = fnv1a(h, buf, want);
        left -= want;
        at += want;
    }
    unsigned char b[8];
    if (fread(b, 1, 8, f) != 8)
        return -1;
    *stored = 0;
    for (int i = 7; i >= 0; i--)
        *stored = *stored << 8 | b[i];
    *hash = h;
    return 0;
}

/* Magic, version, size, checksum and flags: everything that needs no
 * decoding, checked first so that a damaged file is reported as damaged.
 * Where a header field is wrong the checksum tells a damaged file (it does
 * not match) from one that says what it means (it does). */
static int check_file(FILE *f, uint64_t size, siam_ckpt_head *h, siam_error *err)
{
    unsigned char head[SIAM_CKPT_HEADER_BYTES];
    size_t got = fread(head, 1, sizeof head, f);
    /* A short file that starts as the magic does is a truncated checkpoint. */
    if (memcmp(head, SIAM_CHECKPOINT_MAGIC, got < 8 ? got : 8) != 0)
        return siam_fail(err, "not a siamlua checkpoint (bad magic)");
    if (got < sizeof head)
        return siam_fail(err, "truncated: %llu bytes, shorter than the %d-byte header",
                         (unsigned long long)size, SIAM_CKPT_HEADER_BYTES);
    reader r = { f, SIAM_CKPT_HEADER_BYTES, 0 };
    fseek(f, 8, SEEK_SET);
    h->version = get_u32(&r);
    h->flags = get_u32(&r);
    h->total = get_u64(&r);
    int room = size >= SIAM_CKPT_HEADER_BYTES + 8;
    uint64_t hash = 0, stored = 0;
    if (h->version < SIAM_CHECKPOINT_VERSION_MIN || h->version > SIAM_CHECKPOINT_VERSION) {
        /* The version comes first: another format may lay out the rest
         * differently. Ours, were it a flipped bit, would fail its checksum. */
        const char *why = "";
        if (room && size == h->total && hash_file(f, size, NULL, &hash, &stored) == 0)
            why = hash != stored ? "; its checksum does not match either: the file is damaged"
                  : h->version > SIAM_CHECKPOINT_VERSION ? " (written by a newer siamlua?)" : "";
        return siam_fail(err, "format version %u is not supported (this build reads versions "
                              "%u to %u)%s", h->version, SIAM_CHECKPOINT_VERSION_MIN,
                         SIAM_CHECKPOINT_VERSION, why);
    }
    if (size != h->total) {
        /* A complete file whose size field alone is damaged checksums right
         * once the field holds the file's real size. */
        unsigned char real[8];
        for (int i = 0; i < 8; i++)
            real[i] = (unsigned char)(size >> (8 * i));
        if (room && hash_file(f, size, real, &hash, &stored) == 0 && hash == stored)
            return siam_fail(err, "the header's size field says %llu bytes, but the file's %llu "
                                  "bytes are complete (its checksum matches that size): the size "
                                  "field is damaged", (unsigned long long)h->total,
                             (unsigned long long)size);
        if (size < h->total)
            return siam_fail(err, "truncated: %llu bytes, the header says %llu",
                             (unsigned long long)size, (unsigned long long)h->total);
        return siam_fail(err, "%llu unexpected bytes after the declared end (%llu bytes)",
                         (unsigned long long)(size - h->total), (unsigned long long)h->total);
    }
    if (!room)
        return siam_fail(err, "truncated: %llu bytes, no room for the checksum",
                         (unsigned long long)size);
    if (hash_file(f, size, NULL, &hash, &stored) != 0)
        return siam_fail(err, "read error while checking the checksum");
    if (stored != hash)
        return siam_fail(err, "checksum mismatch (file corrupted): stored %016llx, computed "
                              "%016llx", (unsigned long long)stored, (unsigned long long)hash);
    if (h->flags & ~SIAM_CKPT_FLAGS_KNOWN)
        return siam_fail(err, "unknown section flags 0x%x (written by a newer siamlua?)",
                         h->flags);
    if ((h->flags & SIAM_CKPT_FLAG_PLATEAU) && !(h->flags & SIAM_CKPT_FLAG_TRAINER))
        return siam_fail(err, "section flags 0x%x: a plateau state without a training state",
                         h->flags);
    return 0;
}

int siam_ckpt_open(const char *path, FILE **fp, siam_ckpt_head *h, siam_error *err)
{
    memset(h, 0, sizeof *h);
    siam_model_meta_default(&h->meta);
    *fp = NULL;
    /* A FIFO would block a plain fopen until someone writes to it. */
    int error;
    mode_t mode;
    FILE *f = siam_fopen_regular(path, &error, &mode);
    if (!f && error)
        return siam_fail(err, "cannot open: %s", strerror(error));
    if (!f && S_ISDIR(mode))
        return siam_fail(err, "is a directory");
    if (!f)
        return siam_fail(err, "not a regular file (%s)", siam_file_kind(mode));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        return siam_fail(err, "cannot stat: %s", strerror(e));
    }
    uint64_t size = (uint64_t)st.st_size;
    int rc = check_file(f, size, h, err);
    if (rc == 0) {
        fseek(f, SIAM_CKPT_HEADER_BYTES, SEEK_SET);
        reader r = { f, size - 8 - SIAM_CKPT_HEADER_BYTES, 0 };
        rc = get_head(&r, h, size, err);
    }
    if (rc) {
        siam_ckpt_head_free(h);
        fclose(f);
        return -1;
    }
    *fp = f;
    return 0;
}

int siam_ckpt_meta_of(const char *path, const siam_ckpt_head *h, siam_model_meta *meta,
                      siam_error *err)
{
    if (h->has_meta) {
        *meta = h->meta;
        return 0;
    }
    /* Format 1-2: the sidecar those builds wrote beside the file. */
    siam_model_meta_default(meta);
    int found;
    return siam_model_meta_read_sidecar(path, meta, &found, err);
}

int siam_ckpt_same_arch(const siam_model_config *file, const siam_model_config *model,
                        siam_error *err)
{
    static const char *names[4] = { "conv1", "conv2", "conv3", "conv4" };
    if (file->in_h != model->in_h || file->in_w != model->in_w)
        return siam_fail(err, "architecture mismatch: input %dx%d in the file, %dx%d in the model",
                         file->in_h, file->in_w, model->in_h, model->in_w);
    for (int k = 0; k < 4; k++)
        if (file->channels[k] != model->channels[k])
            return siam_fail(err, "architecture mismatch: %s has %d channels in the file, %d "
                                  "in the model", names[k], file->channels[k],
                             model->channels[k]);
    for (int k = 0; k < 4; k++)
        if (file->kernels[k] != model->kernels[k])
            return siam_fail(err, "architecture mismatch: %s kernel %d in the file, %d in the "
                                  "model", names[k], file->kernels[k], model->kernels[k]);
    if (file->fc_units != model->fc_units)
        return siam_fail(err, "architecture mismatch: fc has %d units in the file, %d in the "
                              "model", file->fc_units, model->fc_units);
    if (file->embed_act != model->embed_act)
        return siam_fail(err, "architecture mismatch: embedding activation %s in the file, %s "
                              "in the model", siam_embed_act_name(file->embed_act),
                         siam_embed_act_name(model->embed_act));
    if (file->head != model->head)
        return siam_fail(err, "architecture mismatch: distance head 0x%x in the file, 0x%x in "
                              "the model (0 is the paper's l1)", file->head, model->head);
    return 0;
}
