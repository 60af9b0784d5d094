/* A loop over independent items on several threads (pthreads taking the
 * next index from a shared atomic counter, so that one slow item does not
 * stall the others), with the failure reported as one message: the one of
 * the lowest failing index, so that it does not depend on thread timing.
 * Used by the image decoder and the image cache's content hashes. */
#ifndef SIAM_PARALLEL_H
#define SIAM_PARALLEL_H

#include "kernels/error.h"

/* Item i's work: 0, or -1 with its message in err. Runs on any thread;
 * items must not share anything they write. */
typedef int (*siam_parallel_fn)(void *ctx, int i, siam_error *err);

/* Calls fn(ctx, i, .) for i in [0, count) on `threads` threads (0: one per
 * online core, at most 64, never more than count). Items past a known
 * failure may be skipped. Returns 0, or -1 with the message of the lowest
 * failing index. */
int siam_parallel_for(int count, int threads, siam_parallel_fn fn, void *ctx, siam_error *err);

#endif
