/* The fixed-size start of a checkpoint (host/checkpoint_header.h):
 * magic, version, sections, size, architecture. Little-endian. */
#include "host/checkpoint_header.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/checkpoint.h"

/* 8 magic + 4 version + 4 sections + 8 size + 11 u32 + 3 f32; version 2
 * adds u32 embed_act and head */
#define HEADER_BYTES (8 + 4 + 4 + 8 + 11 * 4 + 3 * 4)
#define HEADER_BYTES_V2 (HEADER_BYTES + 2 * 4)

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float get_f32(const unsigned char *p)
{
    uint32_t u = get_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int siam_checkpoint_read_header(const char *path, siam_checkpoint_header *h, siam_error *err)
{
    unsigned char buf[HEADER_BYTES_V2];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return siam_fail(err, "checkpoint %s: cannot open: %s", path, strerror(errno));
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (got < 8 || memcmp(buf, SIAM_CHECKPOINT_MAGIC, 8) != 0)
        return siam_fail(err, "checkpoint %s: not a siamlua checkpoint (bad magic)", path);
    const unsigned char *p = buf + 8;
    h->version = got >= 12 ? get_u32(p) : 0;
    if (got >= 12 &&
        (h->version < SIAM_CHECKPOINT_VERSION_MIN || h->version > SIAM_CHECKPOINT_VERSION))
        return siam_fail(err,
                         "checkpoint %s: format version %u is not supported (this build reads "
                         "versions %u to %u)",
                         path, h->version, SIAM_CHECKPOINT_VERSION_MIN, SIAM_CHECKPOINT_VERSION);
    if (got < (h->version >= 2 ? HEADER_BYTES_V2 : HEADER_BYTES))
        return siam_fail(err, "checkpoint %s: truncated: %zu bytes, shorter than the header",
                         path, got);
    h->sections = get_u32(p + 4);
    h->size = (uint64_t)get_u32(p + 8) | (uint64_t)get_u32(p + 12) << 32;
    p += 16;
    siam_model_config *c = &h->config;
    siam_model_config_default(c);
    c->in_h = (int)get_u32(p);
    c->in_w = (int)get_u32(p + 4);
    for (int k = 0; k < 4; k++) {
        c->channels[k] = (int)get_u32(p + 8 + 4 * k);
        c->kernels[k] = (int)get_u32(p + 24 + 4 * k);
    }
    c->fc_units = (int)get_u32(p + 40);
    c->dropout = get_f32(p + 44);
    c->bn_momentum = get_f32(p + 48);
    c->bn_eps = get_f32(p + 52);
    if (h->version >= 2) { /* version 1 files hold the paper's head */
        c->embed_act = (int)get_u32(p + 56);
        c->head = get_u32(p + 60);
    }
    if (siam_model_config_check(c, NULL, err) < 0)
        return siam_fail_wrap(err, "checkpoint %s: architecture", path);
    return 0;
}
