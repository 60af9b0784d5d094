/* Mixed-radix complex FFT (radices 2, 3, 4, 5, 7) that transforms 8
 * independent sequences at once, one per SIMD lane, plus the split and
 * merge steps that turn it into two real-input transforms with half
 * spectra. The conv path (conv2d_fft*.c) batches thousands of same-size
 * transforms, so vectorising across transforms keeps every butterfly a
 * plain 8-wide vector operation whatever the length; it does not handle
 * lengths with a prime factor above 7 (pad to siam_fft_size_fast).
 *
 * Layout: element j of lane l is re[8*j + l], im[8*j + l] (split real and
 * imaginary planes, lanes innermost). Forward is X[k] = sum_j x[j]
 * e^{-2 pi i jk/n}; inverse uses e^{+2 pi i jk/n} and is not scaled.
 * Algorithm: Stockham autosort, decimation in frequency (Van Loan,
 * Computational Frameworks for the FFT, 1992, section 1.7), so no bit
 * reversal pass is needed for mixed radices. */
#ifndef SIAM_CPU_FFT_H
#define SIAM_CPU_FFT_H

#include <stddef.h>

#define SIAM_FFT_LANES 8
#define SIAM_FFT_MAX_STAGES 24

/* A plan holds the factorisation and, in caller memory, the twiddles; it
 * owns nothing (no _free). */
typedef struct siam_fft_plan {
    int n, stages;
    int radix[SIAM_FFT_MAX_STAGES];
    const float *tw[SIAM_FFT_MAX_STAGES]; /* per stage: (radix-1)*m (cos, sin) pairs */
} siam_fft_plan;

/* 1 when n >= 1 has no prime factor above 7. */
int siam_fft_size_ok(int n);
/* The smallest n' >= n with no prime factor above 7. */
int siam_fft_size_fast(int n);

/* Floats of twiddle memory that siam_fft_plan_init needs for length n. */
size_t siam_fft_plan_floats(int n);
/* Fills *p for length n with twiddles in mem (siam_fft_plan_floats(n)
 * floats, kept alive by the caller while p is used). -1 if n < 1 or n has a
 * prime factor above 7. */
int siam_fft_plan_init(siam_fft_plan *p, int n, float *mem);

/* In-place transform of the 8 lanes of (re, im), each n*8 floats; wre, wim
 * are scratch of the same size. inverse = 0: forward, 1: unscaled inverse. */
void siam_fft_lanes(const siam_fft_plan *p, int inverse, float *re, float *im, float *wre,
                    float *wim);

/* dst[8j .. 8j+7] = src + j * stride, 8 floats each, for j < count, and
 * zero for count <= j < n: one column of lane vectors in or out of a
 * strided layout. */
void siam_fft_lanes_gather(float *dst, const float *src, size_t stride, int count, int n);
/* dst + j * stride = src[8j .. 8j+7] for j < count. */
void siam_fft_lanes_scatter(float *dst, size_t stride, const float *src, int count);

/* dst[8j + l] = src[l][j] for j < count and lanes l < 8, zero for
 * count <= j < n; src[l] = NULL gives a zero lane. This is the transpose
 * from rows in memory to lane vectors. */
void siam_fft_lanes_load_rows(float *dst, const float *const src[SIAM_FFT_LANES], int count,
                              int n);
/* The converse, adding: dst[l][j] += scale * src[8j + l] for j < count;
 * lanes with dst[l] = NULL are skipped. */
void siam_fft_lanes_add_rows(float *const dst[SIAM_FFT_LANES], const float *src, int count,
                             float scale);

/* Two real sequences a, b of length n at once: with z = a + i b already
 * transformed forward (zre, zim), writes A[v], B[v] for v = v0 .. v0+vb-1
 * (v <= n/2) to are/aim/bre/bim + (v - v0) * stride, 8 lanes each.
 * A[v] = (Z[v] + conj Z[n-v]) / 2, B[v] = (Z[v] - conj Z[n-v]) / 2i.
 * bre = bim = NULL: B is not stored (an odd row count's last row). */
void siam_fft_lanes_split(int n, const float *zre, const float *zim, int v0, int vb, float *are,
                          float *aim, float *bre, float *bim, size_t stride);

/* The converse: from half spectra A, B given for v = v0 .. v0+vb-1 (others
 * taken as zero) at are/aim/bre/bim + (v - v0) * stride, writes the full
 * spectrum Z[k] = A[k] + i B[k], k < n, with A[n-k] = conj A[k] (Hermitian
 * extension; the imaginary parts of A[0], B[0] and, for even n, A[n/2],
 * B[n/2] are dropped as a real signal has none). The unscaled inverse of Z
 * then holds n*a in its real part and n*b in its imaginary part.
 * bre = bim = NULL: B = 0. */
void siam_fft_lanes_merge(int n, float *zre, float *zim, int v0, int vb, const float *are,
                          const float *aim, const float *bre, const float *bim, size_t stride);

#endif
