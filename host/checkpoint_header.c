/* A checkpoint's header, architecture and model metadata, read through the
 * one decoder (host/checkpoint_header.h, host/checkpoint_format.c). */
#include "host/checkpoint_header.h"

#include <stdio.h>

#include "host/checkpoint_format.h"

int siam_checkpoint_read_header(const char *path, siam_checkpoint_header *h, siam_error *err)
{
    FILE *f;
    siam_ckpt_head head;
    if (siam_ckpt_open(path, &f, &head, err))
        return siam_fail_wrap(err, "checkpoint %s", path);
    fclose(f);
    int rc = siam_ckpt_meta_of(path, &head, &h->meta, err);
    h->version = head.version;
    h->sections = head.flags;
    h->size = head.total;
    h->config = head.config;
    siam_ckpt_head_free(&head);
    return rc ? siam_fail_wrap(err, "checkpoint %s", path) : 0;
}
