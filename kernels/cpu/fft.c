/* 8-lane mixed-radix FFT and the real-pair split/merge (see fft.h).
 * Each Stockham stage of radix p reads a sub-problem of length len = p*m at
 * stride s and writes, for k < m and t < p (decimation in
 * frequency, the "autosort" form of Van Loan 1992, section 1.7):
 *   y[q + s(p k + t)] = w_len^{k t} * sum_r x[q + s(k + r m)] w_p^{r t}
 * with w_L = e^{dir 2 pi i / L}, dir = -1 forward, +1 inverse; the next
 * stage works on length m at stride s p. After the last stage the result is
 * in natural order. The p-point DFTs are written out for p = 2, 3, 4, 5, 7
 * with the usual symmetric/antisymmetric pairing of a_r and a_{p-r}. */
#include <math.h>
#include <string.h>

#include "kernels/cpu/fft.h"

/* 8 floats, one per lane; may_alias and 4-byte alignment so that any float
 * buffer can be read through it (GCC/Clang vector extension: compiles to
 * AVX2 with -march=native on the build machine, to SSE pairs elsewhere). */
typedef float v8 __attribute__((vector_size(32), aligned(4), may_alias));

#define PTR(p, j) ((p) + 8 * (size_t)(j))
#define AT(p, j) (*(v8 *)PTR(p, j))

static const double TAU = 6.283185307179586476925286766559;

static int next_radix(int n)
{
    if (n % 4 == 0)
        return 4;
    static const int primes[4] = {2, 3, 5, 7};
    for (int i = 0; i < 4; i++)
        if (n % primes[i] == 0)
            return primes[i];
    return 0;
}

int siam_fft_size_ok(int n)
{
    if (n < 1)
        return 0;
    while (n > 1) {
        int r = next_radix(n);
        if (r == 0)
            return 0;
        n /= r;
    }
    return 1;
}

int siam_fft_size_fast(int n)
{
    if (n < 1)
        n = 1;
    while (!siam_fft_size_ok(n))
        n++;
    return n;
}

size_t siam_fft_plan_floats(int n)
{
    size_t f = 0;
    for (int len = n; len > 1 && siam_fft_size_ok(len);) {
        int r = next_radix(len);
        f += 2 * (size_t)(r - 1) * (len / r);
        len /= r;
    }
    return f;
}

int siam_fft_plan_init(siam_fft_plan *p, int n, float *mem)
{
    if (!siam_fft_size_ok(n))
        return -1;
    p->n = n;
    p->stages = 0;
    for (int len = n; len > 1; len /= p->radix[p->stages - 1]) {
        int r = next_radix(len), m = len / r;
        p->radix[p->stages] = r;
        p->tw[p->stages] = mem;
        p->stages++;
        for (int k = 0; k < m; k++)
            for (int t = 1; t < r; t++) {
                /* Reduced mod len first so that the angle is exact. */
                double a = TAU * (double)(((long)k * t) % len) / len;
                *mem++ = (float)cos(a);
                *mem++ = (float)sin(a);
            }
    }
    return 0;
}

/* y = b * (wr + i wi), stored at (yr, yi). */
static inline void put_twiddled(float *yr, float *yi, v8 br, v8 bi, float wr, float wi)
{
    *(v8 *)yr = br * wr - bi * wi;
    *(v8 *)yi = br * wi + bi * wr;
}

static void stage2(const float *xr, const float *xi, float *yr, float *yi, int s, int m,
                   const float *tw, float dir)
{
    for (int k = 0; k < m; k++) {
        float wr = tw[2 * k], wi = dir * tw[2 * k + 1];
        for (int q = 0; q < s; q++) {
            size_t i0 = q + (size_t)s * k, i1 = i0 + (size_t)s * m, o = q + (size_t)s * 2 * k;
            v8 ar = AT(xr, i0), ai = AT(xi, i0), br = AT(xr, i1), bi = AT(xi, i1);
            AT(yr, o) = ar + br;
            AT(yi, o) = ai + bi;
            put_twiddled(PTR(yr, o + s), PTR(yi, o + s), ar - br, ai - bi, wr, wi);
        }
    }
}

static void stage4(const float *xr, const float *xi, float *yr, float *yi, int s, int m,
                   const float *tw, float dir)
{
    size_t sm = (size_t)s * m;
    for (int k = 0; k < m; k++) {
        const float *w = tw + 6 * (size_t)k;
        float w1r = w[0], w1i = dir * w[1], w2r = w[2], w2i = dir * w[3];
        float w3r = w[4], w3i = dir * w[5];
        for (int q = 0; q < s; q++) {
            size_t i = q + (size_t)s * k, o = q + (size_t)s * 4 * k;
            v8 a0r = AT(xr, i), a0i = AT(xi, i), a1r = AT(xr, i + sm), a1i = AT(xi, i + sm);
            v8 a2r = AT(xr, i + 2 * sm), a2i = AT(xi, i + 2 * sm);
            v8 a3r = AT(xr, i + 3 * sm), a3i = AT(xi, i + 3 * sm);
            v8 s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
            v8 s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
            /* w_4 * d13 = dir * i * d13 = (-dir d13i, dir d13r). */
            v8 er = -dir * d13i, ei = dir * d13r;
            AT(yr, o) = s02r + s13r;
            AT(yi, o) = s02i + s13i;
            put_twiddled(PTR(yr, o + s), PTR(yi, o + s), d02r + er, d02i + ei, w1r, w1i);
            put_twiddled(PTR(yr, o + 2 * s), PTR(yi, o + 2 * s), s02r - s13r, s02i - s13i,
                         w2r, w2i);
            put_twiddled(PTR(yr, o + 3 * s), PTR(yi, o + 3 * s), d02r - er, d02i - ei, w3r,
                         w3i);
        }
    }
}

static void stage3(const float *xr, const float *xi, float *yr, float *yi, int s, int m,
                   const float *tw, float dir)
{
    const float h = dir * 0.86602540378443864676f; /* dir * sin(2 pi / 3) */
    size_t sm = (size_t)s * m;
    for (int k = 0; k < m; k++) {
        const float *w = tw + 4 * (size_t)k;
        float w1r = w[0], w1i = dir * w[1], w2r = w[2], w2i = dir * w[3];
        for (int q = 0; q < s; q++) {
            size_t i = q + (size_t)s * k, o = q + (size_t)s * 3 * k;
            v8 a0r = AT(xr, i), a0i = AT(xi, i), a1r = AT(xr, i + sm), a1i = AT(xi, i + sm);
            v8 a2r = AT(xr, i + 2 * sm), a2i = AT(xi, i + 2 * sm);
            v8 tr = a1r + a2r, ti = a1i + a2i;
            v8 mr = a0r - 0.5f * tr, mi = a0i - 0.5f * ti;
            /* i * h * (a1 - a2) */
            v8 nr = -h * (a1i - a2i), ni = h * (a1r - a2r);
            AT(yr, o) = a0r + tr;
            AT(yi, o) = a0i + ti;
            put_twiddled(PTR(yr, o + s), PTR(yi, o + s), mr + nr, mi + ni, w1r, w1i);
            put_twiddled(PTR(yr, o + 2 * s), PTR(yi, o + 2 * s), mr - nr, mi - ni, w2r,
                         w2i);
        }
    }
}

static void stage5(const float *xr, const float *xi, float *yr, float *yi, int s, int m,
                   const float *tw, float dir)
{
    const float c1 = 0.30901699437494742410f, c2 = -0.80901699437494742410f;
    const float s1 = dir * 0.95105651629515357212f, s2 = dir * 0.58778525229247312917f;
    size_t sm = (size_t)s * m;
    for (int k = 0; k < m; k++) {
        const float *w = tw + 8 * (size_t)k;
        float wr[4], wi[4];
        for (int t = 0; t < 4; t++)
            wr[t] = w[2 * t], wi[t] = dir * w[2 * t + 1];
        for (int q = 0; q < s; q++) {
            size_t i = q + (size_t)s * k, o = q + (size_t)s * 5 * k;
            v8 a0r = AT(xr, i), a0i = AT(xi, i);
            v8 a1r = AT(xr, i + sm), a1i = AT(xi, i + sm);
            v8 a2r = AT(xr, i + 2 * sm), a2i = AT(xi, i + 2 * sm);
            v8 a3r = AT(xr, i + 3 * sm), a3i = AT(xi, i + 3 * sm);
            v8 a4r = AT(xr, i + 4 * sm), a4i = AT(xi, i + 4 * sm);
            v8 t1r = a1r + a4r, t1i = a1i + a4i, d1r = a1r - a4r, d1i = a1i - a4i;
            v8 t2r = a2r + a3r, t2i = a2i + a3i, d2r = a2r - a3r, d2i = a2i - a3i;
            v8 m1r = a0r + c1 * t1r + c2 * t2r, m1i = a0i + c1 * t1i + c2 * t2i;
            v8 m2r = a0r + c2 * t1r + c1 * t2r, m2i = a0i + c2 * t1i + c1 * t2i;
            /* n = dir (s1 d1 + s2 d2) and dir (s2 d1 - s1 d2); b = m +- i n. */
            v8 n1r = s1 * d1r + s2 * d2r, n1i = s1 * d1i + s2 * d2i;
            v8 n2r = s2 * d1r - s1 * d2r, n2i = s2 * d1i - s1 * d2i;
            AT(yr, o) = a0r + t1r + t2r;
            AT(yi, o) = a0i + t1i + t2i;
            put_twiddled(PTR(yr, o + s), PTR(yi, o + s), m1r - n1i, m1i + n1r, wr[0], wi[0]);
            put_twiddled(PTR(yr, o + 2 * s), PTR(yi, o + 2 * s), m2r - n2i, m2i + n2r,
                         wr[1], wi[1]);
            put_twiddled(PTR(yr, o + 3 * s), PTR(yi, o + 3 * s), m2r + n2i, m2i - n2r,
                         wr[2], wi[2]);
            put_twiddled(PTR(yr, o + 4 * s), PTR(yi, o + 4 * s), m1r + n1i, m1i - n1r,
                         wr[3], wi[3]);
        }
    }
}

static void stage7(const float *xr, const float *xi, float *yr, float *yi, int s, int m,
                   const float *tw, float dir)
{
    /* cos and sin of 2 pi k / 7, k = 0..6; entry (r, j) uses k = r j mod 7. */
    static const float C7[7] = {1.0f, 0.62348980185873353053f, -0.22252093395631440429f,
                                -0.90096886790241912624f, -0.90096886790241912624f,
                                -0.22252093395631440429f, 0.62348980185873353053f};
    static const float S7[7] = {0.0f, 0.78183148246802980871f, 0.97492791218182360702f,
                                0.43388373911755812048f, -0.43388373911755812048f,
                                -0.97492791218182360702f, -0.78183148246802980871f};
    float c[3][3], sn[3][3];
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < 3; j++) {
            int k = ((r + 1) * (j + 1)) % 7;
            c[r][j] = C7[k];
            sn[r][j] = dir * S7[k];
        }
    size_t sm = (size_t)s * m;
    for (int k = 0; k < m; k++) {
        const float *w = tw + 12 * (size_t)k;
        float wr[6], wi[6];
        for (int t = 0; t < 6; t++)
            wr[t] = w[2 * t], wi[t] = dir * w[2 * t + 1];
        for (int q = 0; q < s; q++) {
            size_t i = q + (size_t)s * k, o = q + (size_t)s * 7 * k;
            v8 a0r = AT(xr, i), a0i = AT(xi, i), tr[3], ti[3], dr[3], di[3];
            for (int r = 0; r < 3; r++) {
                size_t ia = i + (r + 1) * sm, ib = i + (6 - r) * sm;
                v8 ar = AT(xr, ia), ai = AT(xi, ia), br = AT(xr, ib), bi = AT(xi, ib);
                tr[r] = ar + br, ti[r] = ai + bi, dr[r] = ar - br, di[r] = ai - bi;
            }
            AT(yr, o) = a0r + tr[0] + tr[1] + tr[2];
            AT(yi, o) = a0i + ti[0] + ti[1] + ti[2];
            for (int j = 0; j < 3; j++) {
                v8 mr = a0r + c[0][j] * tr[0] + c[1][j] * tr[1] + c[2][j] * tr[2];
                v8 mi = a0i + c[0][j] * ti[0] + c[1][j] * ti[1] + c[2][j] * ti[2];
                v8 nr = sn[0][j] * dr[0] + sn[1][j] * dr[1] + sn[2][j] * dr[2];
                v8 ni = sn[0][j] * di[0] + sn[1][j] * di[1] + sn[2][j] * di[2];
                size_t oa = o + (size_t)(j + 1) * s, ob = o + (size_t)(6 - j) * s;
                put_twiddled(PTR(yr, oa), PTR(yi, oa), mr - ni, mi + nr, wr[j], wi[j]);
                put_twiddled(PTR(yr, ob), PTR(yi, ob), mr + ni, mi - nr, wr[5 - j],
                             wi[5 - j]);
            }
        }
    }
}

void siam_fft_lanes(const siam_fft_plan *p, int inverse, float *re, float *im, float *wre,
                    float *wim)
{
    float dir = inverse ? 1.0f : -1.0f;
    float *xr = re, *xi = im, *yr = wre, *yi = wim;
    int s = 1, len = p->n;
    for (int st = 0; st < p->stages; st++) {
        int r = p->radix[st], m = len / r;
        switch (r) {
        case 2: stage2(xr, xi, yr, yi, s, m, p->tw[st], dir); break;
        case 3: stage3(xr, xi, yr, yi, s, m, p->tw[st], dir); break;
        case 4: stage4(xr, xi, yr, yi, s, m, p->tw[st], dir); break;
        case 5: stage5(xr, xi, yr, yi, s, m, p->tw[st], dir); break;
        default: stage7(xr, xi, yr, yi, s, m, p->tw[st], dir); break;
        }
        float *t = xr;
        xr = yr, yr = t;
        t = xi, xi = yi, yi = t;
        s *= r;
        len = m;
    }
    if (xr != re) {
        memcpy(re, xr, sizeof(float) * SIAM_FFT_LANES * p->n);
        memcpy(im, xi, sizeof(float) * SIAM_FFT_LANES * p->n);
    }
}

void siam_fft_lanes_split(int n, const float *zre, const float *zim, int v0, int vb, float *are,
                          float *aim, float *bre, float *bim, size_t stride)
{
    for (int vv = 0; vv < vb; vv++) {
        int v = v0 + vv, w = v ? n - v : 0;
        v8 zr = AT(zre, v), zi = AT(zim, v), cr = AT(zre, w), ci = AT(zim, w);
        size_t o = vv * stride;
        *(v8 *)(are + o) = 0.5f * (zr + cr);
        *(v8 *)(aim + o) = 0.5f * (zi - ci);
        if (bre) {
            *(v8 *)(bre + o) = 0.5f * (zi + ci);
            *(v8 *)(bim + o) = 0.5f * (cr - zr);
        }
    }
}

void siam_fft_lanes_merge(int n, float *zre, float *zim, int v0, int vb, const float *are,
                          const float *aim, const float *bre, const float *bim, size_t stride)
{
    memset(zre, 0, sizeof(float) * SIAM_FFT_LANES * n);
    memset(zim, 0, sizeof(float) * SIAM_FFT_LANES * n);
    for (int vv = 0; vv < vb; vv++) {
        int v = v0 + vv;
        size_t o = vv * stride;
        v8 zero = {0}, ar = *(const v8 *)(are + o), ai = *(const v8 *)(aim + o);
        v8 br = bre ? *(const v8 *)(bre + o) : zero, bi = bre ? *(const v8 *)(bim + o) : zero;
        if (v == 0 || 2 * v == n) {
            AT(zre, v) = ar;
            AT(zim, v) = br;
            continue;
        }
        /* Z[v] = A + iB; Z[n-v] = conj A + i conj B. */
        AT(zre, v) = ar - bi;
        AT(zim, v) = ai + br;
        AT(zre, n - v) = ar + bi;
        AT(zim, n - v) = br - ai;
    }
}

void siam_fft_lanes_gather(float *dst, const float *src, size_t stride, int count, int n)
{
    for (int j = 0; j < count; j++)
        AT(dst, j) = *(const v8 *)(src + j * stride);
    if (n > count)
        memset(PTR(dst, count), 0, sizeof(float) * SIAM_FFT_LANES * (n - count));
}

void siam_fft_lanes_scatter(float *dst, size_t stride, const float *src, int count)
{
    for (int j = 0; j < count; j++)
        *(v8 *)(dst + j * stride) = AT(src, j);
}

/* In-register 8x8 transpose: r[l][j] becomes r[j][l] (unpack pairs, then
 * pairs of pairs, then 128-bit halves). */
static inline void transpose8(v8 r[8])
{
    v8 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
        for (int k = 0; k < 2; k++) {
            u[i + 2 * k] = __builtin_shufflevector(t[i + k], t[i + k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + 2 * k + 1] =
                __builtin_shufflevector(t[i + k], t[i + k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int k = 0; k < 4; k++) {
        r[k] = __builtin_shufflevector(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[k + 4] = __builtin_shufflevector(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

void siam_fft_lanes_load_rows(float *dst, const float *const src[SIAM_FFT_LANES], int count,
                              int n)
{
    const v8 zero = {0};
    int j0 = 0;
    for (; j0 + 8 <= count; j0 += 8) {
        v8 r[8];
        for (int l = 0; l < 8; l++)
            r[l] = src[l] ? *(const v8 *)(src[l] + j0) : zero;
        transpose8(r);
        for (int j = 0; j < 8; j++)
            AT(dst, j0 + j) = r[j];
    }
    for (int j = j0; j < count; j++)
        for (int l = 0; l < 8; l++)
            dst[8 * j + l] = src[l] ? src[l][j] : 0.0f;
    if (n > count)
        memset(PTR(dst, count), 0, sizeof(float) * SIAM_FFT_LANES * (n - count));
}

void siam_fft_lanes_add_rows(float *const dst[SIAM_FFT_LANES], const float *src, int count,
                             float scale)
{
    int j0 = 0;
    for (; j0 + 8 <= count; j0 += 8) {
        v8 r[8];
        for (int j = 0; j < 8; j++)
            r[j] = AT(src, j0 + j);
        transpose8(r);
        for (int l = 0; l < 8; l++)
            if (dst[l])
                *(v8 *)(dst[l] + j0) += scale * r[l];
    }
    for (int j = j0; j < count; j++)
        for (int l = 0; l < 8; l++)
            if (dst[l])
                dst[l][j] += scale * src[8 * j + l];
}
