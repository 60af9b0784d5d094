/* Pair-set fingerprints (host/set_identity.h). */
#include "host/set_identity.h"

#include <stdio.h>
#include <string.h>

#include "host/hash.h"

uint64_t siam_images_fingerprint(const siam_images *im)
{
    uint64_t h = siam_hash64_u64(SIAM_HASH64_INIT, (uint64_t)im->count);
    h = siam_hash64_u64(h, ((uint64_t)(uint32_t)im->height << 32) | (uint32_t)im->width);
    h = siam_hash64_u64(h, (uint64_t)(uint32_t)im->crop);
    for (int i = 0; i < im->count; i++) {
        const char *name = im->names[i] ? im->names[i] : "";
        h = siam_hash64(h, name, strlen(name));
    }
    return siam_hash64(h, im->pixels, (size_t)im->count * (size_t)im->height * (size_t)im->width);
}

uint64_t siam_pairset_fingerprint(const siam_pairset *ps)
{
    uint64_t h = siam_hash64_u64(siam_images_fingerprint(ps->images), (uint64_t)ps->count);
    h = siam_hash64_u64(h, (uint64_t)(uint32_t)ps->folds);
    for (size_t i = 0; i < ps->count; i++) {
        const siam_pair *p = &ps->pairs[i];
        uint32_t w[4] = { (uint32_t)p->a, (uint32_t)p->b, p->label >= 0.5f, (uint32_t)p->fold };
        h = siam_hash64(h, w, sizeof w);
    }
    return h;
}

void siam_fingerprint_hex(uint64_t fp, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)fp);
}
