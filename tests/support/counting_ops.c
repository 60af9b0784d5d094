/* CPU ops with counted allocations (counting_ops.h). */
#include "tests/support/counting_ops.h"

static siam_alloc_count counts;
static siam_ops fused_table, plain_table;

static void *counted_alloc(siam_ctx *ctx, size_t bytes)
{
    counts.calls++;
    counts.bytes += bytes;
    if (bytes > counts.largest)
        counts.largest = bytes;
    return siam_ops_cpu.mem_alloc(ctx, bytes);
}

const siam_ops *siam_counting_ops(int plain)
{
    fused_table = siam_ops_cpu;
    fused_table.mem_alloc = counted_alloc;
    plain_table = fused_table;
    plain_table.bn_relu_pool_forward_train = NULL;
    plain_table.bn_relu_pool_forward_eval = NULL;
    plain_table.bn_relu_pool_backward = NULL;
    return plain ? &plain_table : &fused_table;
}

siam_alloc_count siam_counting_ops_count(void)
{
    return counts;
}

void siam_counting_ops_reset(void)
{
    counts = (siam_alloc_count){ 0, 0, 0 };
}
