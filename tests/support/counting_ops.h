/* The CPU ops table with its mem_alloc counted: how many allocations went
 * through it, their bytes and the largest, so that a test can say what a
 * model or a load allocated (or that it allocated nothing). The counters
 * are the test program's (one table per process). Test support only. */
#ifndef SIAM_TEST_COUNTING_OPS_H
#define SIAM_TEST_COUNTING_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/ops.h"

typedef struct siam_alloc_count {
    uint64_t calls, bytes, largest;
} siam_alloc_count;

/* The table (siam_ops_cpu with mem_alloc wrapped); `plain` leaves out the
 * fused bn_relu_pool ops, so a model takes the plain way. */
const siam_ops *siam_counting_ops(int plain);
/* The counts since the last reset. */
siam_alloc_count siam_counting_ops_count(void);
void siam_counting_ops_reset(void);

#endif
