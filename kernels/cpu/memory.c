/* CPU "device" memory: ordinary host memory, aligned as cudaMalloc's
 * (SIAM_DEVICE_ALIGN, more than SIMD and BLAS need) so that layouts carved
 * out of one allocation are checked the same way on both backends,
 * zero-filled on allocation as the interface promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernels/cpu/cpu.h"

/* Buffers of this size and more start on a huge-page boundary and ask for
 * transparent huge pages (Linux in "madvise" mode): the optimizer and the
 * memory-bound passes walk hundreds of MiB, and with 4 KiB pages the TLB
 * misses made a training step slower and its speed vary from one process
 * to the next (docs/perf.md, "Huge pages"). */
#define HUGE_BYTES ((size_t)2 << 20)

void *siam_cpu_mem_alloc(siam_ctx *ctx, size_t bytes)
{
    const size_t a = SIAM_DEVICE_ALIGN;
    size_t rounded = (bytes + a - 1) & ~(a - 1);
    if (rounded == 0)
        rounded = a;
    if (rounded < bytes) {
        siam_cpu_fail(ctx, "cpu mem_alloc: size %zu overflows", bytes);
        return NULL;
    }
    /* Whole huge pages only: a partly used one would add up to 2 MiB of
     * resident memory per buffer. */
    size_t huge = rounded & ~(HUGE_BYTES - 1);
    void *p = NULL;
    if (posix_memalign(&p, huge ? HUGE_BYTES : a, rounded) != 0)
        p = NULL;
    if (p == NULL) {
        siam_cpu_fail(ctx, "cpu mem_alloc: cannot allocate %zu bytes", bytes);
        return NULL;
    }
    if (huge)
        siam_cpu_advise_huge_pages(p, huge);
    memset(p, 0, rounded);
    return p;
}

void siam_cpu_advise_huge_pages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p, (void)bytes;
#endif
}

void siam_cpu_mem_free(siam_ctx *ctx, void *p)
{
    (void)ctx;
    free(p);
}

int siam_cpu_upload(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes && (dst == NULL || src == NULL))
        return siam_cpu_fail(ctx, "cpu upload: NULL pointer for %zu bytes", bytes);
    if (bytes)
        memcpy(dst, src, bytes);
    return 0;
}

int siam_cpu_download(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes && (dst == NULL || src == NULL))
        return siam_cpu_fail(ctx, "cpu download: NULL pointer for %zu bytes", bytes);
    if (bytes)
        memcpy(dst, src, bytes);
    return 0;
}

int siam_cpu_copy(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes && (dst == NULL || src == NULL))
        return siam_cpu_fail(ctx, "cpu copy: NULL pointer for %zu bytes", bytes);
    if (bytes)
        memmove(dst, src, bytes);
    return 0;
}

int siam_cpu_fill(siam_ctx *ctx, float *x, float value, size_t n)
{
    if (n && x == NULL)
        return siam_cpu_fail(ctx, "cpu fill: NULL pointer for %zu values", n);
    for (size_t i = 0; i < n; i++)
        x[i] = value;
    return 0;
}

int siam_cpu_synchronize(siam_ctx *ctx)
{
    (void)ctx;
    return 0;
}
