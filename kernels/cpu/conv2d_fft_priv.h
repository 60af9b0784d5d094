/* Private to the Fourier-domain conv2d (kernels/cpu/conv2d_fft*.c): the
 * layer sizes, the transform plans, and the two kinds of work the drivers
 * in conv2d_fft.c chain together, the 2-D transforms over blocks of
 * frequencies (conv2d_fft_transform.c) and the per-frequency complex
 * channel products (conv2d_fft_cprod.c). Nothing here allocates: every
 * buffer is a slice of the context's scratch that the driver sizes and
 * hands out (conv2d_fft.c), and is only borrowed for the call.
 *
 * Layouts, for a block of vb frequency columns v0..v0+vb of the half
 * spectrum (V = PW/2 + 1 columns in all), with Tp = T rounded up to a
 * multiple of 8:
 *   spectrum S: [c][u][vv][Tp], c = 0 real / 1 imaginary, u < PH the row
 *     frequency, t the transform index (image*channels + channel, or
 *     co*Ci + ci for filters); so frequency f = u*vb + vv holds, for each
 *     part c, a contiguous T-vector that reads as an (N x C) matrix.
 *   per-thread row-pass buffer: [group][c][h][vv][8 lanes]. */
#ifndef SIAM_CPU_CONV2D_FFT_PRIV_H
#define SIAM_CPU_CONV2D_FFT_PRIV_H

#include <stddef.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/cpu/fft.h"

typedef struct siam_cpu_fft_dims {
    int N, Ci, H, W, Co, KH, KW, OH, OW;
    int PH, PW; /* transform sizes: H and W padded to 7-smooth lengths */
    int V;      /* columns of the half spectrum, PW/2 + 1 */
} siam_cpu_fft_dims;

/* Transforms are batched 8 at a time (one per SIMD lane), so every
 * transform count T is laid out padded to a multiple of 8. */
static inline size_t siam_cpu_fft_pad8(size_t t)
{
    return (t + 7) & ~(size_t)7;
}

/* Per-thread buffers are indexed by OpenMP thread number and sized for
 * the most threads a parallel region may get. */
static inline int siam_cpu_fft_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static inline int siam_cpu_fft_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* --- 2-D transforms (conv2d_fft_transform.c) --- */

/* Row (length PW) and column (length PH) plans, and per-thread work: 4
 * lane rows (re, im and the Stockham ping-pong) of the longer length, then
 * one group's row-pass result (2 x H rows x V columns of lane vectors), so
 * that the two passes of a 2-D transform meet in cache, not in memory.
 * Twiddles and work live in the caller's memory (siam_cpu_fft_plans_fill). */
typedef struct siam_cpu_fft_plans {
    siam_fft_plan row, col;
    float *work;
    size_t work_floats; /* per thread */
} siam_cpu_fft_plans;

/* Floats that siam_cpu_fft_plans_fill takes from mem: both plans'
 * twiddles and every thread's work. */
size_t siam_cpu_fft_plans_floats(const siam_cpu_fft_dims *d);
/* Lays *p out in mem (siam_cpu_fft_plans_floats(d) floats, kept alive by
 * the caller while p is used). */
void siam_cpu_fft_plans_fill(siam_cpu_fft_plans *p, float *mem, const siam_cpu_fft_dims *d);

/* One input channel: the forward product OUT = IN * conj(W) is rank one
 * per frequency, so it is formed inside the inverse, one spectrum column
 * of 8 output channels at a time, and the (images x Co) output spectrum
 * never goes through memory. Si (2, PH, vb, Tip) holds the images' spectra
 * and Sw (2, PH, vb, Twp) the filters'; needs Co % 8 == 0 so that a lane
 * group is one image and 8 consecutive channels (siam_cpu_fft_rank1_fused). */
typedef struct siam_cpu_fft_rank1 {
    const float *Si, *Sw;
    size_t Tip, Twp;
    int Co;
} siam_cpu_fft_rank1;

static inline int siam_cpu_fft_rank1_fused(const siam_cpu_fft_dims *d)
{
    return d->Ci == 1 && d->Co % SIAM_FFT_LANES == 0;
}

/* S (2, PH, vb, Tp) = forward 2-D DFT, frequency columns v0..v0+vb, of T
 * real planes whose top-left Hin x Win corner is x + t*xs (row stride rs)
 * and whose other entries are zero; Tp = pad8(T), lanes t >= T are zero. */
void siam_cpu_fft_forward(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d, int v0, int vb,
                          float *S, const float *x, int T, int Hin, int Win, int xs, int rs);

/* One input channel, filter gradient: Sdw (2, PH, vb, Twp) += sum over the
 * chunk's n images of conj(DOUT[n][co]) * IN[n], frequency by frequency,
 * where DOUT is the transform of the n*Co planes at x (laid out as for
 * siam_cpu_fft_forward) and IN[n] is read from r->Si (r->Sw unused). */
void siam_cpu_fft_forward_rank1_acc(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d,
                                    int v0, int vb, float *Sdw, const siam_cpu_fft_rank1 *r,
                                    const float *x, int n, int Hin, int Win, int xs, int rs);

/* y[t] (top-left Hx x Wx corner, plane stride ys, row stride rs) += the
 * part of the inverse 2-D DFT of S (2, PH, vb, Tp) that comes from
 * frequency columns v0..v0+vb; summing the calls over all blocks gives the
 * inverse. With r1 != NULL, S is not read: the spectrum is the rank-one
 * product that r1 describes. */
void siam_cpu_fft_inverse_add(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d, int v0,
                              int vb, float *y, int ys, int rs, const float *S,
                              const siam_cpu_fft_rank1 *r1, int T, int Hx, int Wx);

/* --- Channel products (conv2d_fft_cprod.c) --- */

/* One complex matrix product per frequency on split planes: for each of the
 * nf frequencies, Z (M x Nn) (+)= op(A) (M x K) * op(B) (K x Nn) with
 *   mode 0 (forward):         Z = A * B^H,  A (M x K), B (Nn x K)
 *   mode 1 (backward data):   Z = A * B,    A (M x K), B (K x Nn)
 *   mode 2 (backward filter): Z = A^H * B,  A (K x M), B (K x Nn)
 * Frequency f of an operand with T = rows*cols entries starts at f*pad8(T);
 * its imaginary plane follows nf*pad8(T) floats after the real one. acc:
 * add into Z instead of overwriting it. */
typedef struct siam_cpu_fft_cprod {
    int mode, M, Nn, K, acc;
} siam_cpu_fft_cprod;

/* Per-thread temporaries of siam_cpu_fft_cprod_run for chunks of nc
 * images, whatever the mode. */
size_t siam_cpu_fft_cprod_tmp_floats(const siam_cpu_fft_dims *d, int nc);

/* Z = the products of p over nf frequencies. tmp holds tmp_floats
 * (siam_cpu_fft_cprod_tmp_floats) floats per thread. */
void siam_cpu_fft_cprod_run(const siam_cpu_fft_cprod *p, int nf, float *Z, const float *A,
                            const float *B, float *tmp, size_t tmp_floats);

#endif
