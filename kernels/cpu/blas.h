/* OpenBLAS's cblas.h pulls in <complex.h>, whose macro `I` would rewrite
 * every parameter named I (the linear layer's input size). Include this
 * instead of <cblas.h>. */
#ifndef SIAM_CPU_BLAS_H
#define SIAM_CPU_BLAS_H

#include <cblas.h>
#undef I

#endif
