#ifndef TESTBED_DENSE_H
#define TESTBED_DENSE_H

// A dense layer's forward pass for prediction, with AVX2 and FMA or with AVX-512, compiled for
// those instructions only here (the rest of the project targets baseline x86-64) and called only
// after testbed_has_avx2_fma() or testbed_has_avx512() says the processor and the operating
// system support them (BLAS.DenseKernel in Swift).
//
// Why not OpenBLAS: a network's layers are thin (20 inputs, 100 units in the benchmark's MLP), so
// DGEMM spends much of each call packing its operands, and the bias, the ReLU and a one-output
// layer after it are each a further pass over the activations. Here a tile of 4 rows × 12 units
// stays in 12 registers from the bias through the ReLU, and a one-output layer after it is
// accumulated from those registers without storing the hidden activations at all.

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/// Whether the processor has AVX2 and FMA and the operating system saves the AVX registers.
static inline int testbed_has_avx2_fma(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
    if ((c & (fma | osxsave | avx)) != (fma | osxsave | avx)) return 0;
    unsigned low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    if ((low & 6) != 6) return 0; // the XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1; // AVX2
}

/// `rows` rows of `x` (row-major, `inputs` wide) through the layer `w` (`inputs × width`,
/// row-major) and `bias`, with ReLU when `rectify`, into:
/// - `out` (`rows × width`) when `next` is null;
/// - otherwise, into `out[r]` (one value per row): `next_bias + Σ_j act[r][j] · next[j]`, the
///   one-output layer after this one, without storing the activations.
/// ReLU is `max(0, v)` with the NaN of `v` kept, as the Swift path does. Tiles of 4 rows × 12
/// units, then of 4 rows × 4 units, the last of them masked to the layer's width; a short last
/// group of rows reads its first row in place of the missing ones and writes only its own.
__attribute__((target("avx2,fma")))
static inline void testbed_dense_avx2(long rows, long inputs, long width, const double *x, const double *w,
                                      const double *bias, int rectify, const double *next, double next_bias,
                                      double *out) {
    const __m256d zero = _mm256_setzero_pd();
    const __m256i lane_numbers = _mm256_setr_epi64x(0, 1, 2, 3);
#define TESTBED_RELU(v) (rectify ? _mm256_max_pd(zero, (v)) : (v))
    for (long r = 0; r < rows; r += 4) {
        const long group = rows - r < 4 ? rows - r : 4;
        const double *x0 = x + r * inputs, *x1 = x + (r + (group > 1 ? 1 : 0)) * inputs;
        const double *x2 = x + (r + (group > 2 ? 2 : 0)) * inputs, *x3 = x + (r + (group > 3 ? 3 : 0)) * inputs;
        __m256d dot0 = zero, dot1 = zero, dot2 = zero, dot3 = zero;
        long j = 0;
        for (; j + 12 <= width; j += 12) {
            __m256d c00 = _mm256_loadu_pd(bias + j), c01 = _mm256_loadu_pd(bias + j + 4), c02 = _mm256_loadu_pd(bias + j + 8);
            __m256d c10 = c00, c11 = c01, c12 = c02, c20 = c00, c21 = c01, c22 = c02, c30 = c00, c31 = c01, c32 = c02;
            for (long k = 0; k < inputs; k++) {
                const double *wk = w + k * width + j;
                const __m256d w0 = _mm256_loadu_pd(wk), w1 = _mm256_loadu_pd(wk + 4), w2 = _mm256_loadu_pd(wk + 8);
                __m256d a = _mm256_broadcast_sd(x0 + k);
                c00 = _mm256_fmadd_pd(a, w0, c00); c01 = _mm256_fmadd_pd(a, w1, c01); c02 = _mm256_fmadd_pd(a, w2, c02);
                a = _mm256_broadcast_sd(x1 + k);
                c10 = _mm256_fmadd_pd(a, w0, c10); c11 = _mm256_fmadd_pd(a, w1, c11); c12 = _mm256_fmadd_pd(a, w2, c12);
                a = _mm256_broadcast_sd(x2 + k);
                c20 = _mm256_fmadd_pd(a, w0, c20); c21 = _mm256_fmadd_pd(a, w1, c21); c22 = _mm256_fmadd_pd(a, w2, c22);
                a = _mm256_broadcast_sd(x3 + k);
                c30 = _mm256_fmadd_pd(a, w0, c30); c31 = _mm256_fmadd_pd(a, w1, c31); c32 = _mm256_fmadd_pd(a, w2, c32);
            }
            c00 = TESTBED_RELU(c00); c01 = TESTBED_RELU(c01); c02 = TESTBED_RELU(c02);
            c10 = TESTBED_RELU(c10); c11 = TESTBED_RELU(c11); c12 = TESTBED_RELU(c12);
            c20 = TESTBED_RELU(c20); c21 = TESTBED_RELU(c21); c22 = TESTBED_RELU(c22);
            c30 = TESTBED_RELU(c30); c31 = TESTBED_RELU(c31); c32 = TESTBED_RELU(c32);
            if (next) {
                const __m256d v0 = _mm256_loadu_pd(next + j), v1 = _mm256_loadu_pd(next + j + 4), v2 = _mm256_loadu_pd(next + j + 8);
                dot0 = _mm256_fmadd_pd(c00, v0, dot0); dot0 = _mm256_fmadd_pd(c01, v1, dot0); dot0 = _mm256_fmadd_pd(c02, v2, dot0);
                dot1 = _mm256_fmadd_pd(c10, v0, dot1); dot1 = _mm256_fmadd_pd(c11, v1, dot1); dot1 = _mm256_fmadd_pd(c12, v2, dot1);
                dot2 = _mm256_fmadd_pd(c20, v0, dot2); dot2 = _mm256_fmadd_pd(c21, v1, dot2); dot2 = _mm256_fmadd_pd(c22, v2, dot2);
                dot3 = _mm256_fmadd_pd(c30, v0, dot3); dot3 = _mm256_fmadd_pd(c31, v1, dot3); dot3 = _mm256_fmadd_pd(c32, v2, dot3);
            } else {
                __m256d tile[4][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}};
                for (long q = 0; q < group; q++) {
                    double *o = out + (r + q) * width + j;
                    _mm256_storeu_pd(o, tile[q][0]); _mm256_storeu_pd(o + 4, tile[q][1]); _mm256_storeu_pd(o + 8, tile[q][2]);
                }
            }
        }
        for (; j < width; j += 4) {
            // The lanes below the layer's width; the others load as zero and are not stored.
            const __m256i lanes = _mm256_cmpgt_epi64(_mm256_set1_epi64x(width - j), lane_numbers);
            __m256d c0 = _mm256_maskload_pd(bias + j, lanes), c1 = c0, c2 = c0, c3 = c0;
            for (long k = 0; k < inputs; k++) {
                const __m256d w0 = _mm256_maskload_pd(w + k * width + j, lanes);
                c0 = _mm256_fmadd_pd(_mm256_broadcast_sd(x0 + k), w0, c0);
                c1 = _mm256_fmadd_pd(_mm256_broadcast_sd(x1 + k), w0, c1);
                c2 = _mm256_fmadd_pd(_mm256_broadcast_sd(x2 + k), w0, c2);
                c3 = _mm256_fmadd_pd(_mm256_broadcast_sd(x3 + k), w0, c3);
            }
            c0 = TESTBED_RELU(c0); c1 = TESTBED_RELU(c1); c2 = TESTBED_RELU(c2); c3 = TESTBED_RELU(c3);
            if (next) {
                // The lanes past the width hold x · 0, a NaN where x is infinite: cleared before they count.
                const __m256d kept = _mm256_castsi256_pd(lanes);
                c0 = _mm256_and_pd(c0, kept); c1 = _mm256_and_pd(c1, kept); c2 = _mm256_and_pd(c2, kept); c3 = _mm256_and_pd(c3, kept);
                const __m256d v = _mm256_maskload_pd(next + j, lanes);
                dot0 = _mm256_fmadd_pd(c0, v, dot0); dot1 = _mm256_fmadd_pd(c1, v, dot1);
                dot2 = _mm256_fmadd_pd(c2, v, dot2); dot3 = _mm256_fmadd_pd(c3, v, dot3);
            } else {
                __m256d tile[4] = {c0, c1, c2, c3};
                for (long q = 0; q < group; q++) _mm256_maskstore_pd(out + (r + q) * width + j, lanes, tile[q]);
            }
        }
        if (next) {
            __m256d dots[4] = {dot0, dot1, dot2, dot3};
            for (long q = 0; q < group; q++) {
                double lanes[4];
                _mm256_storeu_pd(lanes, dots[q]);
                out[r + q] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + next_bias;
            }
        }
    }
#undef TESTBED_RELU
}

/// Whether the processor has AVX-512F and the operating system saves the ZMM registers.
static inline int testbed_has_avx512(void) {
    unsigned a, b, c, d;
    if (!testbed_has_avx2_fma() || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((b >> 16) & 1)) return 0;
    unsigned low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return (low & 0xE6) == 0xE6; // XMM, YMM, the mask registers and both halves of the ZMM state
}

/// testbed_dense_avx2 with AVX-512: tiles of 4 rows × 24 units, then of 4 rows × 8 units, the
/// last of them masked to the layer's width (so no unit is left for scalar code).
__attribute__((target("avx512f")))
static inline void testbed_dense_avx512(long rows, long inputs, long width, const double *x, const double *w,
                                        const double *bias, int rectify, const double *next, double next_bias,
                                        double *out) {
    const __m512d zero = _mm512_setzero_pd();
#define TESTBED_RELU512(v) (rectify ? _mm512_max_pd(zero, (v)) : (v))
    for (long r = 0; r < rows; r += 4) {
        const long group = rows - r < 4 ? rows - r : 4;
        // A short last group reads its first row in place of the missing ones and writes only its own.
        const double *x0 = x + r * inputs, *x1 = x + (r + (group > 1 ? 1 : 0)) * inputs;
        const double *x2 = x + (r + (group > 2 ? 2 : 0)) * inputs, *x3 = x + (r + (group > 3 ? 3 : 0)) * inputs;
        __m512d dot0 = zero, dot1 = zero, dot2 = zero, dot3 = zero;
        long j = 0;
        for (; j + 24 <= width; j += 24) {
            __m512d c00 = _mm512_loadu_pd(bias + j), c01 = _mm512_loadu_pd(bias + j + 8), c02 = _mm512_loadu_pd(bias + j + 16);
            __m512d c10 = c00, c11 = c01, c12 = c02, c20 = c00, c21 = c01, c22 = c02, c30 = c00, c31 = c01, c32 = c02;
            for (long k = 0; k < inputs; k++) {
                const double *wk = w + k * width + j;
                const __m512d w0 = _mm512_loadu_pd(wk), w1 = _mm512_loadu_pd(wk + 8), w2 = _mm512_loadu_pd(wk + 16);
                __m512d a = _mm512_set1_pd(x0[k]);
                c00 = _mm512_fmadd_pd(a, w0, c00); c01 = _mm512_fmadd_pd(a, w1, c01); c02 = _mm512_fmadd_pd(a, w2, c02);
                a = _mm512_set1_pd(x1[k]);
                c10 = _mm512_fmadd_pd(a, w0, c10); c11 = _mm512_fmadd_pd(a, w1, c11); c12 = _mm512_fmadd_pd(a, w2, c12);
                a = _mm512_set1_pd(x2[k]);
                c20 = _mm512_fmadd_pd(a, w0, c20); c21 = _mm512_fmadd_pd(a, w1, c21); c22 = _mm512_fmadd_pd(a, w2, c22);
                a = _mm512_set1_pd(x3[k]);
                c30 = _mm512_fmadd_pd(a, w0, c30); c31 = _mm512_fmadd_pd(a, w1, c31); c32 = _mm512_fmadd_pd(a, w2, c32);
            }
            c00 = TESTBED_RELU512(c00); c01 = TESTBED_RELU512(c01); c02 = TESTBED_RELU512(c02);
            c10 = TESTBED_RELU512(c10); c11 = TESTBED_RELU512(c11); c12 = TESTBED_RELU512(c12);
            c20 = TESTBED_RELU512(c20); c21 = TESTBED_RELU512(c21); c22 = TESTBED_RELU512(c22);
            c30 = TESTBED_RELU512(c30); c31 = TESTBED_RELU512(c31); c32 = TESTBED_RELU512(c32);
            if (next) {
                const __m512d v0 = _mm512_loadu_pd(next + j), v1 = _mm512_loadu_pd(next + j + 8), v2 = _mm512_loadu_pd(next + j + 16);
                dot0 = _mm512_fmadd_pd(c00, v0, dot0); dot0 = _mm512_fmadd_pd(c01, v1, dot0); dot0 = _mm512_fmadd_pd(c02, v2, dot0);
                dot1 = _mm512_fmadd_pd(c10, v0, dot1); dot1 = _mm512_fmadd_pd(c11, v1, dot1); dot1 = _mm512_fmadd_pd(c12, v2, dot1);
                dot2 = _mm512_fmadd_pd(c20, v0, dot2); dot2 = _mm512_fmadd_pd(c21, v1, dot2); dot2 = _mm512_fmadd_pd(c22, v2, dot2);
                dot3 = _mm512_fmadd_pd(c30, v0, dot3); dot3 = _mm512_fmadd_pd(c31, v1, dot3); dot3 = _mm512_fmadd_pd(c32, v2, dot3);
            } else {
                __m512d tile[4][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}};
                for (long q = 0; q < group; q++) {
                    double *o = out + (r + q) * width + j;
                    _mm512_storeu_pd(o, tile[q][0]); _mm512_storeu_pd(o + 8, tile[q][1]); _mm512_storeu_pd(o + 16, tile[q][2]);
                }
            }
        }
        for (; j < width; j += 8) {
            const __mmask8 lanes = width - j >= 8 ? 0xFF : (__mmask8)((1u << (width - j)) - 1);
            __m512d c0 = _mm512_maskz_loadu_pd(lanes, bias + j), c1 = c0, c2 = c0, c3 = c0;
            for (long k = 0; k < inputs; k++) {
                const __m512d w0 = _mm512_maskz_loadu_pd(lanes, w + k * width + j);
                c0 = _mm512_fmadd_pd(_mm512_set1_pd(x0[k]), w0, c0);
                c1 = _mm512_fmadd_pd(_mm512_set1_pd(x1[k]), w0, c1);
                c2 = _mm512_fmadd_pd(_mm512_set1_pd(x2[k]), w0, c2);
                c3 = _mm512_fmadd_pd(_mm512_set1_pd(x3[k]), w0, c3);
            }
            c0 = TESTBED_RELU512(c0); c1 = TESTBED_RELU512(c1); c2 = TESTBED_RELU512(c2); c3 = TESTBED_RELU512(c3);
            if (next) {
                // The lanes past the width hold x · 0, a NaN where x is infinite: cleared before they count.
                c0 = _mm512_maskz_mov_pd(lanes, c0); c1 = _mm512_maskz_mov_pd(lanes, c1);
                c2 = _mm512_maskz_mov_pd(lanes, c2); c3 = _mm512_maskz_mov_pd(lanes, c3);
                const __m512d v = _mm512_maskz_loadu_pd(lanes, next + j);
                dot0 = _mm512_fmadd_pd(c0, v, dot0); dot1 = _mm512_fmadd_pd(c1, v, dot1);
                dot2 = _mm512_fmadd_pd(c2, v, dot2); dot3 = _mm512_fmadd_pd(c3, v, dot3);
            } else {
                __m512d tile[4] = {c0, c1, c2, c3};
                for (long q = 0; q < group; q++) _mm512_mask_storeu_pd(out + (r + q) * width + j, lanes, tile[q]);
            }
        }
        if (next) {
            const double dots[4] = {_mm512_reduce_add_pd(dot0), _mm512_reduce_add_pd(dot1), _mm512_reduce_add_pd(dot2), _mm512_reduce_add_pd(dot3)};
            for (long q = 0; q < group; q++) out[r + q] = dots[q] + next_bias;
        }
    }
#undef TESTBED_RELU512
}

/// Adds `Aᵀ·A` into the upper triangle (`j ≥ i`) of the row-major `width × width` matrix `c`, for
/// the `rows × width` row-major `a`: four rows of `a` at a time, each element of the triangle
/// loaded and stored once for the four. A Gram matrix of a thin block (a Newton step's Hessian
/// over 21 columns) is mostly triangle edges, where OpenBLAS's SYRK pads and packs; this measured
/// 1.4× as fast as its generic x86-64 kernels on 2,048 × 21.
__attribute__((target("avx2,fma")))
static inline void testbed_gram_upper_avx2(long rows, long width, const double *a, double *c) {
    const __m256i lane_numbers = _mm256_setr_epi64x(0, 1, 2, 3);
    long r = 0;
    for (; r + 4 <= rows; r += 4) {
        const double *a0 = a + r * width, *a1 = a0 + width, *a2 = a1 + width, *a3 = a2 + width;
        for (long i = 0; i < width; i++) {
            const __m256d b0 = _mm256_broadcast_sd(a0 + i), b1 = _mm256_broadcast_sd(a1 + i);
            const __m256d b2 = _mm256_broadcast_sd(a2 + i), b3 = _mm256_broadcast_sd(a3 + i);
            double *row = c + i * width;
            long j = i;
            for (; j + 4 <= width; j += 4) {
                __m256d sum = _mm256_loadu_pd(row + j);
                sum = _mm256_fmadd_pd(b0, _mm256_loadu_pd(a0 + j), sum);
                sum = _mm256_fmadd_pd(b1, _mm256_loadu_pd(a1 + j), sum);
                sum = _mm256_fmadd_pd(b2, _mm256_loadu_pd(a2 + j), sum);
                sum = _mm256_fmadd_pd(b3, _mm256_loadu_pd(a3 + j), sum);
                _mm256_storeu_pd(row + j, sum);
            }
            if (j < width) {
                const __m256i mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(width - j), lane_numbers);
                __m256d sum = _mm256_maskload_pd(row + j, mask);
                sum = _mm256_fmadd_pd(b0, _mm256_maskload_pd(a0 + j, mask), sum);
                sum = _mm256_fmadd_pd(b1, _mm256_maskload_pd(a1 + j, mask), sum);
                sum = _mm256_fmadd_pd(b2, _mm256_maskload_pd(a2 + j, mask), sum);
                sum = _mm256_fmadd_pd(b3, _mm256_maskload_pd(a3 + j, mask), sum);
                _mm256_maskstore_pd(row + j, mask, sum);
            }
        }
    }
    // The last rows one at a time.
    for (; r < rows; r++) {
        const double *a0 = a + r * width;
        for (long i = 0; i < width; i++) {
            for (long j = i; j < width; j++) c[i * width + j] = __builtin_fma(a0[i], a0[j], c[i * width + j]);
        }
    }
}

/// `out[r] = bias + Σ_k x[r][k] · w[k]` for `rows` row-major rows of `x`, `inputs` wide: a
/// one-output linear model's scores, a matrix-vector product bound by reading `x` from memory.
/// It asks for the line 4 KB ahead of each line it reads, which keeps more reads in flight than
/// the processor's own prefetching (OpenBLAS's kernel relies on that alone); AVX-512 measured no faster.
__attribute__((target("avx2,fma")))
static inline void testbed_affine_avx2(long rows, long inputs, const double *x, const double *w, double bias, double *out) {
    const __m256i lane_numbers = _mm256_setr_epi64x(0, 1, 2, 3);
    const long full = inputs & ~3L;
    const __m256i tail_mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(inputs - full), lane_numbers);
    const __m256d w_tail = _mm256_maskload_pd(w + full, tail_mask);
    for (long r = 0; r < rows; r++) {
        const double *row = x + r * inputs;
        __m256d sum = _mm256_setzero_pd();
        long k = 0;
        for (; k < full; k += 4) {
            // A line 4 KB ahead for every line read, spread over the row however wide it is.
            if ((k & 7) == 0) _mm_prefetch((const char *)(row + k + 512), _MM_HINT_T0);
            sum = _mm256_fmadd_pd(_mm256_loadu_pd(row + k), _mm256_loadu_pd(w + k), sum);
        }
        if (full < inputs) {
            if ((k & 7) == 0) _mm_prefetch((const char *)(row + k + 512), _MM_HINT_T0);
            sum = _mm256_fmadd_pd(_mm256_maskload_pd(row + full, tail_mask), w_tail, sum);
        }
        const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(sum), _mm256_extractf128_pd(sum, 1));
        out[r] = bias + _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
    }
}

#else
static inline int testbed_has_avx2_fma(void) { return 0; }
static inline int testbed_has_avx512(void) { return 0; }
static inline void testbed_dense_avx512(long rows, long inputs, long width, const double *x, const double *w,
                                        const double *bias, int rectify, const double *next, double next_bias,
                                        double *out) {}
static inline void testbed_dense_avx2(long rows, long inputs, long width, const double *x, const double *w,
                                      const double *bias, int rectify, const double *next, double next_bias,
                                      double *out) {}
static inline void testbed_affine_avx2(long rows, long inputs, const double *x, const double *w, double bias, double *out) {}
static inline void testbed_gram_upper_avx2(long rows, long width, const double *a, double *c) {}
#endif

#endif
