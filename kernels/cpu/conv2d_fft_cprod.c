/* The per-frequency complex channel products of the Fourier-domain conv2d
 * (the channel sums of the correlation and convolution theorems), as real
 * SGEMMs on split real/imaginary planes. Operand layout and the product
 * modes: conv2d_fft_priv.h. */
#include <string.h>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv2d_fft_priv.h"

/* Per thread: the sums of operand planes that Gauss's trick multiplies
 * (at most one A-sized and two B-sized) and one Z-sized product. */
size_t siam_cpu_fft_cprod_tmp_floats(const siam_cpu_fft_dims *d, int nc)
{
    size_t a = (size_t)nc * d->Ci, b = (size_t)d->Co * d->Ci, c = (size_t)nc * d->Co;
    return siam_cpu_fft_pad8(2 * (a + b + c));
}

/* Gauss's three-multiplication complex product (Knuth, TAOCP vol. 2,
 * 4.6.4): with X = Ar + i Xi and Y = Br + i Yi,
 *   k1 = (Ar + Xi) Br, k2 = Ar (Yi - Br), k3 = Xi (Br + Yi),
 *   Re XY = k1 - k3, Im XY = k1 + k2,
 * which holds for matrices as well (only products of X parts with Y parts
 * appear, never reordered): 3 real GEMMs instead of 4, for some elementwise
 * sums. */
void siam_cpu_fft_cprod_run(const siam_cpu_fft_cprod *p, int nf, float *Z, const float *A,
                            const float *B, float *tmp, size_t tmp_floats)
{
    size_t nz = (size_t)p->M * p->Nn, na = (size_t)p->M * p->K, nb = (size_t)p->K * p->Nn;
    size_t tz = siam_cpu_fft_pad8(nz), ta = siam_cpu_fft_pad8(na), tb = siam_cpu_fft_pad8(nb);
    size_t oz = nf * tz, oa = nf * ta, ob = nf * tb;
    CBLAS_TRANSPOSE opa = p->mode == 2 ? CblasTrans : CblasNoTrans;
    CBLAS_TRANSPOSE opb = p->mode == 0 ? CblasTrans : CblasNoTrans;
    int lda = p->mode == 2 ? p->M : p->K;
    int ldb = p->mode == 0 ? p->K : p->Nn;
    /* Xi = sa Ai and Yi = sb Bi: sa = -1 conjugates A, sb = -1 conjugates
     * B. */
    float sa = p->mode == 2 ? -1.0f : 1.0f, sb = p->mode == 0 ? -1.0f : 1.0f;
#pragma omp parallel for schedule(dynamic)
    for (int f = 0; f < nf; f++) {
        const float *ar = A + f * ta, *ai = ar + oa, *br = B + f * tb, *bi = br + ob;
        float *zr = Z + f * tz, *zi = zr + oz;
        if (p->K == 1) {
            /* Rank-one products (one input channel) are cheaper as loops. */
            for (int i = 0; i < p->M; i++) {
                float xr = ar[i], xi = sa * ai[i];
                float *zri = zr + (size_t)i * p->Nn, *zii = zi + (size_t)i * p->Nn;
                /* Z is not read when overwriting: it may hold anything,
                 * NaN included, and 0 * NaN is NaN. */
                if (p->acc) {
#pragma omp simd
                    for (int j = 0; j < p->Nn; j++) {
                        float yr = br[j], yi = sb * bi[j];
                        zri[j] += xr * yr - xi * yi;
                        zii[j] += xr * yi + xi * yr;
                    }
                } else {
#pragma omp simd
                    for (int j = 0; j < p->Nn; j++) {
                        float yr = br[j], yi = sb * bi[j];
                        zri[j] = xr * yr - xi * yi;
                        zii[j] = xr * yi + xi * yr;
                    }
                }
            }
            continue;
        }
        float *ap = tmp + siam_cpu_fft_thread_id() * tmp_floats, *bm = ap + na, *bp = bm + nb,
              *k1 = bp + nb;
#pragma omp simd
        for (size_t i = 0; i < na; i++)
            ap[i] = ar[i] + sa * ai[i];
#pragma omp simd
        for (size_t i = 0; i < nb; i++) {
            bm[i] = sb * bi[i] - br[i];
            bp[i] = br[i] + sb * bi[i];
        }
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, 1.0f, ap, lda, br, ldb, 0.0f, k1,
                    p->Nn);
        if (p->acc) {
#pragma omp simd
            for (size_t i = 0; i < nz; i++) {
                zr[i] += k1[i];
                zi[i] += k1[i];
            }
        } else {
            memcpy(zr, k1, nz * sizeof(float));
            memcpy(zi, k1, nz * sizeof(float));
        }
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, 1.0f, ar, lda, bm, ldb, 1.0f, zi,
                    p->Nn);
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, -sa, ai, lda, bp, ldb, 1.0f, zr,
                    p->Nn);
    }
}
