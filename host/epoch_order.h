/* The order in which training visits the pairs of an epoch, shared by the
 * trainer (host/train.c) and set:batches (bindings/pairset_batches.c), so a
 * batch shown from Lua is the one fit trains on. Not the batches themselves
 * (the backend's gather_normalize and augment_batch assemble them). */
#ifndef SIAM_EPOCH_ORDER_H
#define SIAM_EPOCH_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* Writes a permutation of 0..n-1 into out (n entries): the shuffle of
 * Philox (seed, SIAM_STREAM_SHUFFLE), epoch (0-based) drawing from its own
 * counter range, offset epoch << 32. A pure function of (seed, epoch, n),
 * so a resumed run shuffles as the uninterrupted one did. */
void siam_epoch_order(uint64_t seed, int epoch, size_t n, int32_t *out);

#endif
