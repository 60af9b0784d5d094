/* Checkpoint writing and checked loading (host/checkpoint.h). The head is
 * encoded and decoded by host/checkpoint_format.c; this file gathers it
 * from the objects, writes and reads the float arrays, and checks a file
 * against the objects it is loaded into. Float arrays are written as they
 * lie in memory, which is little-endian on every host siamlua builds for
 * (a big-endian host is refused). */
#include "host/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/atomic_file.h"
#include "host/checkpoint_format.h"
#include "host/set_identity.h"

static int host_is_little_endian(void)
{
    uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- writing ---- */

/* The head of the objects' checkpoint (history borrowed from the run). */
static void head_of(siam_ckpt_head *h, siam_model *m, const siam_model_meta *meta,
                    siam_optim *opt, const siam_train_parts *t)
{
    memset(h, 0, sizeof *h);
    siam_wavg *wa = t ? t->wavg : NULL;
    h->version = SIAM_CHECKPOINT_VERSION;
    h->flags = (opt ? SIAM_CKPT_FLAG_OPTIM : 0) | (t ? SIAM_CKPT_FLAG_TRAINER : 0) |
               (wa ? SIAM_CKPT_FLAG_WAVG : 0);
    h->config = *siam_model_config_of(m);
    h->params = siam_model_numel(m);
    h->buffers = siam_model_buffer_numel(m);
    h->has_meta = 1;
    h->meta = *meta;
    siam_model_dropout_state(m, &h->dropout_seed, &h->dropout_offset);
    if (opt) {
        h->opt_kind = (uint32_t)siam_optim_config_of(opt)->kind;
        h->lr = siam_optim_lr(opt);
        h->steps = (uint64_t)siam_optim_steps(opt);
        h->nmoments = (uint32_t)siam_optim_moment_count(opt);
    }
    if (t) {
        h->ts = t->state;
        if (h->ts.has_plateau)
            h->flags |= SIAM_CKPT_FLAG_PLATEAU;
        h->has_identity = 1;
        const siam_history *hist = t->history;
        h->cols = siam_history_count(hist);
        h->rows = h->ts.epochs_done;
        for (int k = 0; k < h->cols; k++) {
            h->names[k] = hist->cols[k].name;
            h->values[k] = hist->cols[k].v;
        }
    }
    if (wa) {
        h->wavg_kind = (uint32_t)siam_wavg_config_of(wa)->kind;
        h->wavg_count = siam_wavg_count(wa);
    }
}

/* The arrays, in file order, through `host` (parameters + BN statistics). */
static int put_arrays(siam_ckpt_writer *w, siam_model *m, siam_optim *opt,
                      const siam_train_parts *t, float *host, siam_error *err)
{
    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
    const siam_ops *o = siam_model_ops(m);
    if (siam_model_download_params(m, host, err))
        return -1;
    if (o->download(siam_model_ctx(m), host + n, siam_model_buffers(m), nb * 4))
        return siam_fail(err, "BN statistics download: %s", o->ctx_error(siam_model_ctx(m)));
    siam_ckpt_put(w, host, (n + nb) * 4);
    for (int k = 0; opt && k < siam_optim_moment_count(opt); k++) {
        if (siam_optim_moment_download(opt, k, host, err))
            return -1;
        siam_ckpt_put(w, host, n * 4);
    }
    if (!t)
        return 0;
    if (t->state.has_best) {
        if (o->download(siam_model_ctx(m), host, t->best, (n + nb) * 4))
            return siam_fail(err, "trainer: best-weights download: %s",
                             o->ctx_error(siam_model_ctx(m)));
        siam_ckpt_put(w, host, (n + nb) * 4);
    }
    if (t->wavg) {
        if (siam_wavg_download(t->wavg, host, err))
            return -1;
        siam_ckpt_put(w, host, (n + nb) * 4);
    }
    return 0;
}

/* The format 1-2 sidecar would contradict a format 3 file written over its
 * checkpoint (it is not read beside one, but people read it). */
static int remove_sidecar(const char *path, siam_error *err)
{
    char side[4096];
    if (snprintf(side, sizeof side, "%s.meta", path) >= (int)sizeof side)
        return siam_fail(err, "path too long");
    if (unlink(side) != 0 && errno != ENOENT)
        return siam_fail(err, "written, but the stale %s of an older format could not be "
                              "removed: %s", side, strerror(errno));
    return 0;
}

int siam_checkpoint_save(const char *path, siam_model *m, const siam_model_meta *meta,
                         siam_optim *opt, const siam_train_parts *t, siam_error *err)
{
    if (!host_is_little_endian())
        return siam_fail(err, "checkpoint %s: big-endian hosts are not supported", path);
    siam_model_meta defaults;
    siam_model_meta_default(&defaults);
    if (!meta)
        meta = &defaults;
    if (siam_model_meta_check(meta, err))
        return siam_fail_wrap(err, "checkpoint %s: model metadata", path);
    siam_ckpt_head h;
    head_of(&h, m, meta, opt, t);
    /* Dry run to a null sink for the head's size. */
    siam_ckpt_writer w;
    siam_ckpt_writer_init(&w, NULL);
    siam_ckpt_put_head(&w, &h);
    uint64_t arrays;
    if (siam_ckpt_arrays_bytes(&h, &arrays))
        return siam_fail(err, "checkpoint %s: array sizes overflow", path);
    h.total = w.bytes + arrays + 8;

    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
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
    siam_ckpt_writer_init(&w, af->fp);
    siam_ckpt_put_head(&w, &h);
    int rc = put_arrays(&w, m, opt, t, host, err);
    if (!rc) {
        siam_ckpt_put_u64(&w, w.hash);
        int e = siam_atomic_file_errno(af);
        if (w.failed || w.bytes != h.total)
            rc = siam_fail(err, "write failed after %llu of %llu bytes: %s",
                           (unsigned long long)w.bytes, (unsigned long long)h.total,
                           strerror(e ? e : EIO));
    }
    free(host);
    if (rc) {
        siam_atomic_file_abort(af);
        return siam_fail_wrap(err, "checkpoint %s", path);
    }
    if (siam_atomic_file_commit(af, err) || remove_sidecar(path, err))
        return siam_fail_wrap(err, "checkpoint %s", path);
    return 0;
}

/* ---- reading ---- */

/* The file's sections against the objects the caller loads into. */
static int check_sections(const siam_ckpt_head *h, siam_model *m, siam_optim *opt,
                          const siam_train_parts *t, siam_error *err)
{
    if (siam_ckpt_same_arch(&h->config, siam_model_config_of(m), err))
        return -1;
    if (opt && !(h->flags & SIAM_CKPT_FLAG_OPTIM))
        return siam_fail(err, "the file has no optimizer state");
    if (opt && h->opt_kind != (uint32_t)siam_optim_config_of(opt)->kind)
        return siam_fail(err, "optimizer mismatch: %s in the file, %s given",
                         siam_optim_kind_name((siam_optim_kind)h->opt_kind),
                         siam_optim_kind_name(siam_optim_config_of(opt)->kind));
    if (opt && h->nmoments != (uint32_t)siam_optim_moment_count(opt))
        return siam_fail(err, "optimizer mismatch: %u moment buffers in the file, %d given "
                              "(momentum on in one, off in the other?)", h->nmoments,
                         siam_optim_moment_count(opt));
    if (!t)
        return 0;
    if (!(h->flags & SIAM_CKPT_FLAG_TRAINER))
        return siam_fail(err, "the file has no training state");
    siam_wavg *wa = t->wavg;
    if (wa && !(h->flags & SIAM_CKPT_FLAG_WAVG))
        return siam_fail(err, "the file has no weight average (the trainer keeps one)");
    if (wa && h->wavg_kind != (uint32_t)siam_wavg_config_of(wa)->kind)
        return siam_fail(err, "weight averaging mismatch: kind %u in the file, %d in the trainer",
                         h->wavg_kind, (int)siam_wavg_config_of(wa)->kind);
    if (h->ts.has_best && !t->best)
        return siam_fail(err, "the file holds best weights but the trainer does not keep them "
                              "(restore_best is off)");
    if (!h->has_identity) /* format 1-2 files did not record it */
        return 0;
    /* A resumed run must go on with what it trained on: another batch size
     * or data set would continue a different run under the same name. */
    const siam_trainer_state cur = t->state;
    const siam_trainer_state *was = &h->ts;
    if (was->batch_size != cur.batch_size)
        return siam_fail(err, "resume: the checkpoint was trained with batch size %d, this run "
                              "asks for %d", was->batch_size, cur.batch_size);
    char a[17], b[17];
    if (was->train_fingerprint != cur.train_fingerprint || was->train_pairs != cur.train_pairs) {
        siam_fingerprint_hex(was->train_fingerprint, a);
        siam_fingerprint_hex(cur.train_fingerprint, b);
        return siam_fail(err, "resume: the checkpoint's training set (%llu pairs, fingerprint "
                              "%s) is not this run's (%llu pairs, fingerprint %s)",
                         (unsigned long long)was->train_pairs, a,
                         (unsigned long long)cur.train_pairs, b);
    }
    if (was->val_fingerprint != cur.val_fingerprint || was->val_pairs != cur.val_pairs) {
        char wd[64] = "none", cd[64] = "none";
        siam_fingerprint_hex(was->val_fingerprint, a);
        siam_fingerprint_hex(cur.val_fingerprint, b);
        if (was->val_pairs)
            snprintf(wd, sizeof wd, "%llu pairs, fingerprint %s",
                     (unsigned long long)was->val_pairs, a);
        if (cur.val_pairs)
            snprintf(cd, sizeof cd, "%llu pairs, fingerprint %s",
                     (unsigned long long)cur.val_pairs, b);
        return siam_fail(err, "resume: the checkpoint's validation set (%s) is not this run's "
                              "(%s)", wd, cd);
    }
    return 0;
}

/* Streams `count` floats, counting the non-finite ones. */
static int count_nonfinite(FILE *f, uint64_t count, float *buf, size_t cap, uint64_t *bad)
{
    *bad = 0;
    while (count > 0) {
        size_t k = count < cap ? (size_t)count : cap;
        if (siam_ckpt_read(f, buf, k * sizeof(float)))
            return -1;
        for (size_t i = 0; i < k; i++)
            *bad += !isfinite(buf[i]);
        count -= k;
    }
    return 0;
}

/* One array of the file as the scan sees it: weights (parameters and BN
 * statistics, checked tensor by tensor) or an optimizer moment. */
typedef struct region {
    const char *what; /* "" for the model's own weights */
    int moment;       /* 0: weights; k: optimizer moment k (1-based) */
    int wanted;       /* loaded by this call, so checked; else skipped */
} region;

#define SCAN_FLOATS 16384

/* Checks every region that will be loaded for NaN/Inf without holding more
 * than a 64 KiB buffer, then returns to the arrays' start. */
static int scan_arrays(FILE *f, const siam_ckpt_head *h, siam_model *m, const region *regs,
                       int nregs, siam_error *err)
{
    float *buf = malloc(SCAN_FLOATS * sizeof *buf);
    if (!buf)
        return siam_fail(err, "out of host memory");
    int rc = 0;
    for (int g = 0; g < nregs && !rc; g++) {
        const region *rg = &regs[g];
        uint64_t len = rg->moment ? h->params : h->params + h->buffers;
        if (!rg->wanted) {
            if (fseeko(f, (off_t)(len * sizeof(float)), SEEK_CUR) != 0)
                rc = siam_fail(err, "seek error in the arrays");
            continue;
        }
        const char *first = NULL, *kind = NULL;
        uint64_t first_bad = 0, all_bad = 0;
        int tensors = SIAM_MODEL_NPARAMS + (rg->moment ? 0 : SIAM_MODEL_NBUFFERS);
        for (int j = 0; j < tensors && !rc; j++) {
            const siam_param_info *p = j < SIAM_MODEL_NPARAMS
                ? siam_model_param(m, j) : siam_model_buffer(m, j - SIAM_MODEL_NPARAMS);
            uint64_t bad;
            if (count_nonfinite(f, p->numel, buf, SCAN_FLOATS, &bad)) {
                rc = siam_fail(err, "unexpected end of file in the arrays");
                break;
            }
            if (bad && !first) {
                first = p->name;
                first_bad = bad;
                kind = j < SIAM_MODEL_NPARAMS ? "parameter" : "BN statistic";
            }
            all_bad += bad;
        }
        if (rc || !first)
            continue;
        char where[96] = "";
        if (all_bad != first_bad)
            snprintf(where, sizeof where, "; %llu in all", (unsigned long long)all_bad);
        const char *values = first_bad == 1 ? "value" : "values";
        if (rg->moment)
            rc = siam_fail(err, "optimizer moment %d of %s holds %llu non-finite %s "
                                "(NaN/Inf%s): the run that wrote it diverged", rg->moment,
                           first, (unsigned long long)first_bad, values, where);
        else
            rc = siam_fail(err, "%s%s %s holds %llu non-finite %s (NaN/Inf%s): the run "
                                "that wrote it diverged", rg->what, kind, first,
                           (unsigned long long)first_bad, values, where);
    }
    free(buf);
    if (!rc && fseeko(f, (off_t)h->arrays_offset, SEEK_SET) != 0)
        rc = siam_fail(err, "seek error in the arrays");
    return rc;
}

/* Reads one array of `floats` into host, or skips it. */
static int next_array(FILE *f, float *host, size_t floats, int wanted, const char *what,
                      siam_error *err)
{
    int bad = wanted ? siam_ckpt_read(f, host, floats * sizeof(float))
                     : fseeko(f, (off_t)(floats * sizeof(float)), SEEK_CUR) != 0;
    return bad ? siam_fail(err, "unexpected end of file in %s", what) : 0;
}

/* Everything checked: the arrays go to the objects. */
static int apply_arrays(FILE *f, const siam_ckpt_head *h, siam_model *m, siam_optim *opt,
                        siam_train_parts *t, float *host, siam_error *err)
{
    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m);
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    if (next_array(f, host, n + nb, 1, "the parameters", err) ||
        siam_model_upload_params(m, host, err))
        return -1;
    if (o->upload(c, siam_model_buffers(m), host + n, nb * 4))
        return siam_fail(err, "BN statistics upload: %s", o->ctx_error(c));
    siam_model_set_dropout_state(m, h->dropout_seed, h->dropout_offset);
    uint32_t moments = (h->flags & SIAM_CKPT_FLAG_OPTIM) ? h->nmoments : 0;
    for (uint32_t k = 0; k < moments; k++) {
        if (next_array(f, host, n, opt != NULL, "an optimizer moment", err) ||
            (opt && siam_optim_moment_upload(opt, (int)k, host, err)))
            return -1;
    }
    if (opt) {
        siam_optim_set_lr(opt, h->lr);
        siam_optim_set_steps(opt, (long)h->steps);
    }
    if (!t)
        return 0;
    if (siam_history_replace(t->history, h->cols, h->names, h->values, h->rows, err))
        return -1;
    if (h->ts.has_best) {
        if (next_array(f, host, n + nb, 1, "the best weights", err))
            return -1;
        if (o->upload(c, t->best, host, (n + nb) * 4))
            return siam_fail(err, "trainer: best-weights upload: %s", o->ctx_error(c));
    }
    if (t->wavg && (next_array(f, host, n + nb, 1, "the weight average", err) ||
                    siam_wavg_upload(t->wavg, host, h->wavg_count, err)))
        return -1;
    t->state = h->ts;
    return 0;
}

/* The checks, then the load, of an open file whose head is read. */
static int load_open(FILE *f, const siam_ckpt_head *h, siam_model *m, siam_optim *opt,
                     siam_train_parts *t, siam_error *err)
{
    if (check_sections(h, m, opt, t, err))
        return -1;
    int has_best = (h->flags & SIAM_CKPT_FLAG_TRAINER) && h->ts.has_best;
    region regs[5];
    int nregs = 0;
    regs[nregs++] = (region){ "", 0, 1 };
    for (uint32_t k = 0; (h->flags & SIAM_CKPT_FLAG_OPTIM) && k < h->nmoments; k++)
        regs[nregs++] = (region){ "", (int)k + 1, opt != NULL };
    if (has_best)
        regs[nregs++] = (region){ "best weights: ", 0, t != NULL };
    if (h->flags & SIAM_CKPT_FLAG_WAVG)
        regs[nregs++] = (region){ "weight average: ", 0, t && t->wavg };
    if (scan_arrays(f, h, m, regs, nregs, err))
        return -1;
    float *host = malloc((siam_model_numel(m) + siam_model_buffer_numel(m)) * sizeof(float));
    if (!host)
        return siam_fail(err, "out of host memory");
    int rc = apply_arrays(f, h, m, opt, t, host, err);
    free(host);
    return rc;
}

int siam_checkpoint_load(const char *path, siam_model *m, siam_model_meta *meta,
                         siam_optim *opt, siam_train_parts *t, siam_error *err)
{
    if (!host_is_little_endian())
        return siam_fail(err, "checkpoint %s: big-endian hosts are not supported", path);
    FILE *f;
    siam_ckpt_head h;
    if (siam_ckpt_open(path, &f, &h, err))
        return siam_fail_wrap(err, "checkpoint %s", path);
    siam_model_meta md;
    int rc = meta ? siam_ckpt_meta_of(path, &h, &md, err) : 0;
    if (!rc)
        rc = load_open(f, &h, m, opt, t, err);
    siam_ckpt_head_free(&h);
    fclose(f);
    if (rc)
        return siam_fail_wrap(err, "checkpoint %s", path);
    if (meta)
        *meta = md;
    return 0;
}

siam_model *siam_checkpoint_load_model(const char *path, const siam_ops *ops, siam_ctx *ctx,
                                       int max_batch, uint64_t mem_limit,
                                       siam_model_meta *meta, siam_error *err)
{
    if (!host_is_little_endian()) {
        siam_fail(err, "checkpoint %s: big-endian hosts are not supported", path);
        return NULL;
    }
    FILE *f;
    siam_ckpt_head h;
    if (siam_ckpt_open(path, &f, &h, err)) {
        siam_fail_wrap(err, "checkpoint %s", path);
        return NULL;
    }
    /* The file is whole and every size in it agrees with its length: only
     * now is a model of its architecture built. */
    siam_model_meta md;
    siam_model *m = NULL;
    int rc = siam_ckpt_meta_of(path, &h, &md, err);
    if (!rc && !(m = siam_model_new_within(ops, ctx, &h.config, max_batch, mem_limit, err)))
        rc = -1;
    if (!rc)
        rc = load_open(f, &h, m, NULL, NULL, err);
    siam_ckpt_head_free(&h);
    fclose(f);
    if (rc) {
        siam_model_free(m);
        siam_fail_wrap(err, "checkpoint %s", path);
        return NULL;
    }
    siam_model_set_training(m, 0);
    if (meta)
        *meta = md;
    return m;
}
