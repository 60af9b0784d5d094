/* Checkpoint writing and checked loading (host/checkpoint.h). Integers are
 * written little-endian byte by byte; float arrays are written as they lie
 * in memory, which is little-endian on every host siamlua builds for (a
 * big-endian host is refused). */
#include "host/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/atomic_file.h"

#define FLAG_OPTIM 1u
#define FLAG_TRAINER 2u
#define FLAG_WAVG 4u /* a weight average (host/weight_avg.h) after the best weights */
#define HEADER_BYTES 24 /* magic, version, flags, total size */

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

static int host_is_little_endian(void)
{
    uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- writing ---- */

typedef struct writer {
    FILE *f;
    uint64_t hash, bytes;
    int failed;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (!w->f) { /* dry run: only count */
        w->bytes += n;
        return;
    }
    if (w->failed || n == 0)
        return;
    if (fwrite(p, 1, n, w->f) != n)
        w->failed = 1;
    w->hash = fnv1a(w->hash, p, n);
    w->bytes += n;
}

static void put_u32(writer *w, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, 8);
}

static void put_f64(writer *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_u64(w, u);
}

static void put_f32(writer *w, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(w, u);
}

/* The architecture block: every size that fixes the parameter layout. */
static void put_arch(writer *w, siam_model *m)
{
    const siam_model_config *c = siam_model_config_of(m);
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
    put_u32(w, (uint32_t)c->embed_act); /* version 2 */
    put_u32(w, c->head);
    put_u64(w, siam_model_numel(m));
    put_u64(w, siam_model_buffer_numel(m));
}

/* Everything before the arrays (its size comes from a dry run). */
static void put_meta(writer *w, siam_model *m, siam_optim *opt, siam_trainer *t,
                     uint64_t total)
{
    siam_wavg *wa = t ? siam_trainer_wavg(t) : NULL;
    uint32_t flags = (opt ? FLAG_OPTIM : 0) | (t ? FLAG_TRAINER : 0) | (wa ? FLAG_WAVG : 0);
    put(w, SIAM_CHECKPOINT_MAGIC, 8);
    put_u32(w, SIAM_CHECKPOINT_VERSION);
    put_u32(w, flags);
    put_u64(w, total);
    put_arch(w, m);
    uint64_t dseed, doff;
    siam_model_dropout_state(m, &dseed, &doff);
    put_u64(w, dseed);
    put_u64(w, doff);
    if (opt) {
        const siam_optim_config *c = siam_optim_config_of(opt);
        put_u32(w, (uint32_t)c->kind);
        put_f64(w, c->lr);
        put_u64(w, (uint64_t)siam_optim_steps(opt));
        put_u32(w, (uint32_t)siam_optim_moment_count(opt));
    }
    if (t) {
        siam_trainer_state s;
        siam_trainer_get_state(t, &s);
        put_u32(w, (uint32_t)s.epochs_done);
        put_u64(w, s.seed);
        put_u64(w, s.augment_offset);
        put_u32(w, (uint32_t)s.stop_reason);
        put_u32(w, (uint32_t)s.early_stop.seen);
        put_f64(w, s.early_stop.best);
        put_u32(w, (uint32_t)s.early_stop.best_epoch);
        put_u32(w, (uint32_t)s.early_stop.wait);
        put_u32(w, (uint32_t)s.early_stop.stopped);
        put_u32(w, (uint32_t)s.has_best);
        int cols = siam_trainer_history_count(t);
        put_u32(w, (uint32_t)cols);
        put_u32(w, (uint32_t)s.epochs_done);
        for (int k = 0; k < cols; k++) {
            const char *name = siam_trainer_history_name(t, k);
            const double *v = siam_trainer_history(t, name);
            put_u32(w, (uint32_t)strlen(name));
            put(w, name, strlen(name));
            for (int e = 0; e < s.epochs_done; e++)
                put_f64(w, v[e]);
        }
    }
    if (wa) {
        put_u32(w, (uint32_t)siam_wavg_config_of(wa)->kind);
        put_u64(w, siam_wavg_count(wa));
    }
}

static uint64_t arrays_bytes(siam_model *m, siam_optim *opt, siam_trainer *t)
{
    uint64_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
    uint64_t floats = n + nb;
    if (opt)
        floats += (uint64_t)siam_optim_moment_count(opt) * n;
    if (t) {
        siam_trainer_state s;
        siam_trainer_get_state(t, &s);
        if (s.has_best)
            floats += n + nb;
        if (siam_trainer_wavg(t))
            floats += n + nb;
    }
    return floats * 4;
}

int siam_checkpoint_save(const char *path, siam_model *m, siam_optim *opt, siam_trainer *t,
                         siam_error *err)
{
    if (!host_is_little_endian())
        return siam_fail(err, "checkpoint %s: big-endian hosts are not supported", path);
    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
    /* Dry run to a null sink for the metadata size. */
    writer dry = { NULL, FNV_BASIS, 0, 0 };
    put_meta(&dry, m, opt, t, 0);
    uint64_t total = dry.bytes + arrays_bytes(m, opt, t) + 8;

    float *host = malloc((n + nb) * sizeof(float));
    if (!host)
        return siam_fail(err, "checkpoint %s: out of host memory", path);
    /* Temporary file, fsync, rename, fsync of the directory
     * (host/atomic_file.h): a crash leaves the old file or the new one. */
    siam_atomic_file *af = siam_atomic_file_begin(path, err);
    if (!af) {
        free(host);
        return siam_fail_wrap(err, "checkpoint %s", path);
    }
    writer w = { af->fp, FNV_BASIS, 0, 0 };
    put_meta(&w, m, opt, t, total);
    int rc = siam_model_download_params(m, host, err);
    const siam_ops *o = siam_model_ops(m);
    if (!rc && o->download(siam_model_ctx(m), host + n, siam_model_buffers(m), nb * 4))
        rc = siam_fail(err, "BN statistics download: %s", o->ctx_error(siam_model_ctx(m)));
    if (!rc)
        put(&w, host, (n + nb) * 4);
    for (int k = 0; !rc && opt && k < siam_optim_moment_count(opt); k++) {
        rc = siam_optim_moment_download(opt, k, host, err);
        if (!rc)
            put(&w, host, n * 4);
    }
    if (!rc && t) {
        siam_trainer_state s;
        siam_trainer_get_state(t, &s);
        if (s.has_best) {
            rc = siam_trainer_best_download(t, host, err);
            if (!rc)
                put(&w, host, (n + nb) * 4);
        }
        if (!rc && siam_trainer_wavg(t)) {
            rc = siam_wavg_download(siam_trainer_wavg(t), host, err);
            if (!rc)
                put(&w, host, (n + nb) * 4);
        }
    }
    if (!rc) {
        uint64_t h = w.hash;
        put_u64(&w, h);
        if (w.failed || w.bytes != total)
            rc = siam_fail(err, "write failed after %llu of %llu bytes: %m",
                           (unsigned long long)w.bytes, (unsigned long long)total);
    }
    free(host);
    if (rc) {
        siam_atomic_file_abort(af);
        return siam_fail_wrap(err, "checkpoint %s", path);
    }
    if (siam_atomic_file_commit(af, err))
        return siam_fail_wrap(err, "checkpoint %s", path);
    return 0;
}

/* ---- reading ---- */

typedef struct reader {
    FILE *f;
    int failed;
} reader;

static void get(reader *r, void *p, size_t n)
{
    if (r->failed) {
        memset(p, 0, n);
        return;
    }
    if (fread(p, 1, n, r->f) != n) {
        r->failed = 1;
        memset(p, 0, n);
    }
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

/* Compares the file's architecture block with the model's. */
static int check_arch(reader *r, uint32_t version, siam_model *m, siam_error *err)
{
    const siam_model_config *c = siam_model_config_of(m);
    static const char *names[4] = { "conv1", "conv2", "conv3", "conv4" };
    uint32_t h = get_u32(r), w = get_u32(r);
    if (h != (uint32_t)c->in_h || w != (uint32_t)c->in_w)
        return siam_fail(err, "architecture mismatch: input %ux%u in the file, %dx%d in the model",
                         h, w, c->in_h, c->in_w);
    for (int k = 0; k < 4; k++) {
        uint32_t v = get_u32(r);
        if (v != (uint32_t)c->channels[k])
            return siam_fail(err, "architecture mismatch: %s has %u channels in the file, %d "
                                  "in the model", names[k], v, c->channels[k]);
    }
    for (int k = 0; k < 4; k++) {
        uint32_t v = get_u32(r);
        if (v != (uint32_t)c->kernels[k])
            return siam_fail(err, "architecture mismatch: %s kernel %u in the file, %d in the "
                                  "model", names[k], v, c->kernels[k]);
    }
    uint32_t u = get_u32(r);
    if (u != (uint32_t)c->fc_units)
        return siam_fail(err, "architecture mismatch: fc has %u units in the file, %d in the "
                              "model", u, c->fc_units);
    /* Dropout and BN constants do not change the layout; they are recorded
     * for the reader of the file, not enforced. */
    (void)get_f32(r);
    (void)get_f32(r);
    (void)get_f32(r);
    /* Version 1 files predate the options: they hold the paper's head. */
    uint32_t act = version >= 2 ? get_u32(r) : SIAM_EMBED_SIGMOID;
    uint32_t head = version >= 2 ? get_u32(r) : SIAM_HEAD_L1;
    if (act != (uint32_t)c->embed_act)
        return siam_fail(err, "architecture mismatch: embedding activation %s in the file, %s "
                              "in the model", siam_embed_act_name((int)act),
                         siam_embed_act_name(c->embed_act));
    if (head != c->head)
        return siam_fail(err, "architecture mismatch: distance head 0x%x in the file, 0x%x in "
                              "the model (0 is the paper's l1)", head, c->head);
    uint64_t n = get_u64(r), nb = get_u64(r);
    if (n != siam_model_numel(m) || nb != siam_model_buffer_numel(m))
        return siam_fail(err, "architecture mismatch: %llu parameters and %llu BN values in the "
                              "file, %zu and %zu in the model", (unsigned long long)n,
                         (unsigned long long)nb, siam_model_numel(m),
                         siam_model_buffer_numel(m));
    return 0;
}

typedef struct loaded_meta {
    uint32_t version;
    uint32_t flags;
    uint64_t dseed, doff;
    uint32_t opt_kind, nmoments;
    double lr;
    uint64_t steps;
    siam_trainer_state ts;
    uint32_t wavg_kind;
    uint64_t wavg_count;
    int cols, rows;
    char *names[SIAM_HISTORY_MAX_METRICS];
    double *values[SIAM_HISTORY_MAX_METRICS];
} loaded_meta;

static void meta_free(loaded_meta *lm)
{
    for (int k = 0; k < SIAM_HISTORY_MAX_METRICS; k++) {
        free(lm->names[k]);
        free(lm->values[k]);
    }
}

/* Reads everything up to the arrays; checks the sections against what the
 * caller passed. */
static int read_meta(reader *r, loaded_meta *lm, siam_model *m, siam_optim *opt,
                     siam_trainer *t, uint64_t size, siam_error *err)
{
    if (check_arch(r, lm->version, m, err))
        return -1;
    lm->dseed = get_u64(r);
    lm->doff = get_u64(r);
    if (lm->flags & FLAG_OPTIM) {
        lm->opt_kind = get_u32(r);
        lm->lr = get_f64(r);
        lm->steps = get_u64(r);
        lm->nmoments = get_u32(r);
    }
    if (opt && !(lm->flags & FLAG_OPTIM))
        return siam_fail(err, "the file has no optimizer state");
    if (opt && lm->opt_kind != (uint32_t)siam_optim_config_of(opt)->kind)
        return siam_fail(err, "optimizer mismatch: %s in the file, %s given",
                         siam_optim_kind_name((siam_optim_kind)lm->opt_kind),
                         siam_optim_kind_name(siam_optim_config_of(opt)->kind));
    if (opt && lm->nmoments != (uint32_t)siam_optim_moment_count(opt))
        return siam_fail(err, "optimizer mismatch: %u moment buffers in the file, %d given "
                              "(momentum on in one, off in the other?)", lm->nmoments,
                         siam_optim_moment_count(opt));
    if (t && !(lm->flags & FLAG_TRAINER))
        return siam_fail(err, "the file has no training state");
    if (lm->flags & FLAG_TRAINER) {
        siam_trainer_state *s = &lm->ts;
        s->epochs_done = (int)get_u32(r);
        s->seed = get_u64(r);
        s->augment_offset = get_u64(r);
        s->stop_reason = (siam_stop_reason)get_u32(r);
        s->early_stop.seen = (int)get_u32(r);
        s->early_stop.best = get_f64(r);
        s->early_stop.best_epoch = (int32_t)get_u32(r);
        s->early_stop.wait = (int32_t)get_u32(r);
        s->early_stop.stopped = (int)get_u32(r);
        s->has_best = (int)get_u32(r);
        uint32_t cols = get_u32(r), rows = get_u32(r);
        if (cols > SIAM_HISTORY_MAX_METRICS || rows > size / 8)
            return siam_fail(err, "history of %u metrics x %u epochs is out of range", cols, rows);
        lm->cols = (int)cols;
        lm->rows = (int)rows;
        for (uint32_t k = 0; k < cols && !r->failed; k++) {
            uint32_t len = get_u32(r);
            if (len == 0 || len > 31)
                return siam_fail(err, "history metric %u has a name of %u bytes", k, len);
            lm->names[k] = calloc(len + 1, 1);
            lm->values[k] = malloc(((size_t)rows + 1) * sizeof(double));
            if (!lm->names[k] || !lm->values[k])
                return siam_fail(err, "out of host memory for the history");
            get(r, lm->names[k], len);
            for (uint32_t e = 0; e < rows; e++)
                lm->values[k][e] = get_f64(r);
        }
    }
    if (lm->flags & FLAG_WAVG) {
        lm->wavg_kind = get_u32(r);
        lm->wavg_count = get_u64(r);
    }
    siam_wavg *wa = t ? siam_trainer_wavg(t) : NULL;
    if (wa && !(lm->flags & FLAG_WAVG))
        return siam_fail(err, "the file has no weight average (the trainer keeps one)");
    if (wa && lm->wavg_kind != (uint32_t)siam_wavg_config_of(wa)->kind)
        return siam_fail(err, "weight averaging mismatch: kind %u in the file, %d in the trainer",
                         lm->wavg_kind, (int)siam_wavg_config_of(wa)->kind);
    if (r->failed)
        return siam_fail(err, "unexpected end of file in the metadata");
    return 0;
}

/* Header checks that need no model: magic, version, size, checksum. */
static int check_file(FILE *f, uint64_t size, uint32_t *version_out, uint32_t *flags,
                      siam_error *err)
{
    unsigned char head[HEADER_BYTES];
    size_t got = fread(head, 1, sizeof head, f);
    if (got >= 8 && memcmp(head, SIAM_CHECKPOINT_MAGIC, 8) != 0)
        return siam_fail(err, "not a siamlua checkpoint (bad magic)");
    if (got < sizeof head)
        return siam_fail(err, "truncated: %llu bytes, shorter than the %d-byte header",
                         (unsigned long long)size, HEADER_BYTES);
    reader r = { f, 0 };
    fseek(f, 8, SEEK_SET);
    uint32_t version = get_u32(&r);
    *flags = get_u32(&r);
    uint64_t total = get_u64(&r);
    if (version < SIAM_CHECKPOINT_VERSION_MIN || version > SIAM_CHECKPOINT_VERSION)
        return siam_fail(err, "format version %u is not supported (this build reads versions "
                              "%u to %u)", version, SIAM_CHECKPOINT_VERSION_MIN,
                         SIAM_CHECKPOINT_VERSION);
    *version_out = version;
    if (size < total)
        return siam_fail(err, "truncated: %llu bytes, the header says %llu",
                         (unsigned long long)size, (unsigned long long)total);
    if (size > total)
        return siam_fail(err, "%llu unexpected bytes after the declared end (%llu bytes)",
                         (unsigned long long)(size - total), (unsigned long long)total);
    if (*flags & ~(FLAG_OPTIM | FLAG_TRAINER | FLAG_WAVG))
        return siam_fail(err, "unknown section flags 0x%x", *flags);
    uint64_t h = FNV_BASIS, left = total - 8;
    unsigned char buf[1 << 16];
    fseek(f, 0, SEEK_SET);
    while (left > 0) {
        size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
        if (fread(buf, 1, want, f) != want)
            return siam_fail(err, "read error while checking the checksum");
        h = fnv1a(h, buf, want);
        left -= want;
    }
    uint64_t stored = get_u64(&r);
    if (r.failed || stored != h)
        return siam_fail(err, "checksum mismatch (file corrupted): stored %016llx, computed "
                              "%016llx", (unsigned long long)stored, (unsigned long long)h);
    fseek(f, HEADER_BYTES, SEEK_SET);
    return 0;
}

static int load_arrays(reader *r, const loaded_meta *lm, siam_model *m, siam_optim *opt,
                       siam_trainer *t, float *host, siam_error *err)
{
    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    get(r, host, (n + nb) * 4);
    if (r->failed)
        return siam_fail(err, "unexpected end of file in the parameters");
    if (siam_model_upload_params(m, host, err))
        return -1;
    if (o->upload(c, siam_model_buffers(m), host + n, nb * 4))
        return siam_fail(err, "BN statistics upload: %s", o->ctx_error(c));
    siam_model_set_dropout_state(m, lm->dseed, lm->doff);
    for (uint32_t k = 0; k < ((lm->flags & FLAG_OPTIM) ? lm->nmoments : 0); k++) {
        get(r, host, n * 4);
        if (r->failed)
            return siam_fail(err, "unexpected end of file in optimizer moment %u", k);
        if (opt && siam_optim_moment_upload(opt, (int)k, host, err))
            return -1;
    }
    if (opt) {
        siam_optim_set_lr(opt, lm->lr);
        siam_optim_set_steps(opt, (long)lm->steps);
    }
    if (t) {
        if (lm->ts.has_best) {
            get(r, host, (n + nb) * 4);
            if (r->failed)
                return siam_fail(err, "unexpected end of file in the best weights");
            if (siam_trainer_best_upload(t, host, err))
                return -1;
        }
        siam_wavg *wa = siam_trainer_wavg(t);
        if (wa) {
            get(r, host, (n + nb) * 4);
            if (r->failed)
                return siam_fail(err, "unexpected end of file in the weight average");
            if (siam_wavg_upload(wa, host, lm->wavg_count, err))
                return -1;
        }
        siam_trainer_set_state(t, &lm->ts);
    }
    return 0;
}

int siam_checkpoint_load(const char *path, siam_model *m, siam_optim *opt, siam_trainer *t,
                         siam_error *err)
{
    if (!host_is_little_endian())
        return siam_fail(err, "checkpoint %s: big-endian hosts are not supported", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return siam_fail(err, "checkpoint %s: cannot open: %m", path);
    struct stat st;
    loaded_meta lm;
    memset(&lm, 0, sizeof lm);
    float *host = NULL;
    reader r = { f, 0 };
    int rc = fstat(fileno(f), &st) != 0 ? siam_fail(err, "cannot stat: %m") : 0;
    if (!rc)
        rc = check_file(f, (uint64_t)st.st_size, &lm.version, &lm.flags, err);
    if (!rc)
        rc = read_meta(&r, &lm, m, opt, t, (uint64_t)st.st_size, err);
    if (!rc && t) {
        siam_trainer_state cur;
        siam_trainer_get_state(t, &cur);
        if (lm.ts.has_best && !siam_trainer_config(t)->early_stop.restore_best)
            rc = siam_fail(err, "the file holds best weights but the trainer does not keep "
                                "them (restore_best is off)");
        else if (lm.rows != lm.ts.epochs_done)
            rc = siam_fail(err, "history has %d epochs, the state says %d", lm.rows,
                           lm.ts.epochs_done);
        else
            rc = siam_trainer_history_set(t, lm.cols, (const char *const *)lm.names,
                                          (const double *const *)lm.values, lm.rows, err);
    }
    if (!rc) {
        host = malloc((siam_model_numel(m) + siam_model_buffer_numel(m)) * sizeof(float));
        rc = host ? load_arrays(&r, &lm, m, opt, t, host, err)
                  : siam_fail(err, "out of host memory");
    }
    if (rc)
        siam_fail_wrap(err, "checkpoint %s", path);
    free(host);
    meta_free(&lm);
    fclose(f);
    return rc;
}
