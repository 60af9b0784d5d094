/* The trainer rig of the training tests (train_rig.h). */
#include "tests/support/train_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "host/checkpoint.h"
#include "host/model_meta.h"
#include "tests/support/toy_pairs.h"

void siam_test_rig_model(siam_test_rig *r, float dropout)
{
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    r->ctx = siam_ops_cpu.ctx_new(&o, &err);
    if (!r->ctx)
        fail_msg("%s", err.msg);
    siam_model_config cfg;
    siam_toy_model_config(&cfg, SIAM_RIG_SIDE);
    cfg.dropout = dropout;
    r->m = siam_model_new(&siam_ops_cpu, r->ctx, &cfg, SIAM_RIG_MAXB, &err);
    if (!r->m)
        fail_msg("%s", err.msg);
    if (siam_model_init(r->m, SIAM_INIT_PYTORCH, 21, &err))
        fail_msg("%s", err.msg);
    siam_model_set_dropout_state(r->m, 77, 0);
}

void siam_test_rig_adam(siam_optim_config *oc, double lr)
{
    siam_optim_config_default(oc, SIAM_OPTIM_ADAM);
    oc->lr = lr;
}

siam_trainer *siam_test_rig_open(siam_test_rig *r, float dropout, const siam_optim_config *oc,
                                 const siam_pairset *train, const siam_pairset *val,
                                 const siam_train_config *tc, siam_error *err)
{
    siam_test_rig_model(r, dropout);
    r->opt = siam_optim_new(&siam_ops_cpu, r->ctx, oc, siam_model_numel(r->m), err);
    if (!r->opt)
        fail_msg("%s", err->msg);
    r->train = train;
    r->t = siam_trainer_new(r->m, r->opt, train, val, tc, err);
    return r->t;
}

void siam_test_rig_close(siam_test_rig *r)
{
    siam_trainer_free(r->t);
    siam_optim_free(r->opt);
    siam_model_free(r->m);
    if (r->ctx)
        siam_ops_cpu.ctx_free(r->ctx);
    r->t = NULL;
    r->opt = NULL;
    r->m = NULL;
    r->ctx = NULL;
}

int siam_test_run(siam_trainer *t, siam_error *err)
{
    return siam_test_fit(&(siam_test_rig){ .t = t }, NULL, err);
}

int siam_test_fit(siam_test_rig *r, const char *ckpt, siam_error *err)
{
    siam_model_meta meta;
    siam_model_meta_default(&meta);
    int rc;
    while ((rc = siam_trainer_epoch(r->t, err)) > 0) {
        if (!ckpt)
            continue;
        siam_train_parts parts;
        siam_trainer_parts(r->t, &parts);
        meta.threshold = siam_trainer_threshold(r->t);
        meta.crop = r->train->images->crop;
        if (siam_checkpoint_save(ckpt, r->m, &meta, r->opt, &parts, err))
            return siam_fail_wrap(err, "after epoch %d", siam_trainer_epochs_done(r->t));
    }
    return rc < 0 ? -1 : siam_trainer_finish(r->t, err);
}

int siam_test_resume(siam_trainer *t, const char *ckpt, siam_error *err)
{
    siam_train_parts parts;
    siam_trainer_parts(t, &parts);
    if (siam_checkpoint_load(ckpt, siam_trainer_model(t), NULL, siam_trainer_optim(t), &parts,
                             err))
        return -1;
    siam_trainer_set_state(t, &parts.state);
    return 0;
}
