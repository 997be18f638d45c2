// AVX-512 micro-kernel of the packed float GEMM (gemm_float.hpp), for CPUs that have it: the same
// [k][16] f32 panels the AVX2 code packs, but a panel row is one zmm, so each token costs one
// broadcast and one FMA per input instead of two. Every output lane sums its products in the same
// order with the same fused multiply-adds as the AVX2 kernel, so the results are bit-identical.
// Must never be called on a CPU without AVX-512F, never read activation rows past m or write
// columns past nr, and never allocate.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "runtime/gemm_float.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx2,fma")
// Adding what y holds must stay a separate rounding after the last FMA, as in the AVX2 kernel.
#pragma GCC optimize("fp-contract=off")

namespace duet::rt::kern {

void gemm_float_micro_avx512(int64_t kc, const float* x, size_t xs, int m, const float* panel, float* y,
                             size_t ys, int nr, bool accumulate) {
  auto row = [&](int r) { return x + static_cast<size_t>(std::min(r, m - 1)) * xs; };
  const float *x0 = row(0), *x1 = row(1), *x2 = row(2), *x3 = row(3), *x4 = row(4), *x5 = row(5);
  const float *x6 = row(6), *x7 = row(7), *x8 = row(8), *x9 = row(9), *x10 = row(10), *x11 = row(11);
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  __m512 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 w = _mm512_load_ps(panel + k * kGemmPanel);
    a0 = _mm512_fmadd_ps(w, _mm512_set1_ps(x0[k]), a0);
    a1 = _mm512_fmadd_ps(w, _mm512_set1_ps(x1[k]), a1);
    a2 = _mm512_fmadd_ps(w, _mm512_set1_ps(x2[k]), a2);
    a3 = _mm512_fmadd_ps(w, _mm512_set1_ps(x3[k]), a3);
    a4 = _mm512_fmadd_ps(w, _mm512_set1_ps(x4[k]), a4);
    a5 = _mm512_fmadd_ps(w, _mm512_set1_ps(x5[k]), a5);
    a6 = _mm512_fmadd_ps(w, _mm512_set1_ps(x6[k]), a6);
    a7 = _mm512_fmadd_ps(w, _mm512_set1_ps(x7[k]), a7);
    a8 = _mm512_fmadd_ps(w, _mm512_set1_ps(x8[k]), a8);
    a9 = _mm512_fmadd_ps(w, _mm512_set1_ps(x9[k]), a9);
    a10 = _mm512_fmadd_ps(w, _mm512_set1_ps(x10[k]), a10);
    a11 = _mm512_fmadd_ps(w, _mm512_set1_ps(x11[k]), a11);
  }
  const __m512 acc[kGemmTokensAvx512] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11};
  const __mmask16 cols = nr >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << nr) - 1);
  for (int r = 0; r < m; ++r) {
    float* yr = y + static_cast<size_t>(r) * ys;
    __m512 v = acc[r];
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(cols, yr));
    _mm512_mask_storeu_ps(yr, cols, v);
  }
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
