/* Backend lookup. The CUDA table comes from kernels/cuda/ when the build
 * includes it (CUDA=1 defines SIAM_CUDA); otherwise there is none. */
#include "kernels/ops.h"

#ifndef SIAM_CUDA
const siam_ops *siam_ops_cuda(void)
{
    return NULL;
}
#endif
