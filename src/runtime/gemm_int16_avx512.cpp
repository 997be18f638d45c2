// AVX-512 VNNI kernel of the integer GEMM (gemm_int16.hpp), for CPUs that have it: the same packed
// panels and quantized activations as the AVX2 kernel, but one 512-bit vpdpwssd multiplies a pair
// of activations into all 16 outputs of a panel and adds the int32 products in the same
// instruction (the AVX2 kernel needs two vpmaddwd and two vpaddd for that). Integer sums are
// exact and the f32 epilogue does the same operations per lane, so its results are bit-identical
// to the AVX2 kernel's. Must never be called on a CPU without AVX-512 F/BW/VNNI, never read
// activation rows past n_tokens or panels past the packed weights, and never allocate.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "runtime/gemm_int16.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")
// The epilogue must round the scaled sum before adding what y holds, as the AVX2 kernel does:
// a fused multiply-add there would change the last bit.
#pragma GCC optimize("fp-contract=off")
// GCC 12 sees _mm512_undefined_ps() inside _mm512_cvtepi32_ps as a maybe-uninitialized read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace duet::rt::kern {
namespace {

// The pair of int16 activations at q as one int32, broadcast to every lane.
inline __m512i broadcast_pair(const int16_t* q) {
  int32_t v;
  std::memcpy(&v, q, sizeof v);
  return _mm512_set1_epi32(v);
}

}  // namespace

// Panel j's 32 int16 (16 outputs x 2 inputs) are one zmm, so each token costs one broadcast and
// one vpdpwssd per pair. Rows past m re-read the last real row and are not stored; the twelve
// accumulators are named so they stay in registers.
void int16_micro_avx512(int64_t np, const int16_t* q, size_t qs, int m, const int16_t* panel, const float* sa,
                      const float* sw, float* y, size_t ys, int nr, bool accumulate) {
  auto row = [&](int r) { return q + static_cast<size_t>(std::min(r, m - 1)) * qs; };
  const int16_t *x0 = row(0), *x1 = row(1), *x2 = row(2), *x3 = row(3), *x4 = row(4), *x5 = row(5);
  const int16_t *x6 = row(6), *x7 = row(7), *x8 = row(8), *x9 = row(9), *x10 = row(10), *x11 = row(11);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  __m512i a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (int64_t j = 0; j < np; ++j) {
    const __m512i w = _mm512_load_si512(panel + j * 2 * kInt16Panel);
    a0 = _mm512_dpwssd_epi32(a0, broadcast_pair(x0 + 2 * j), w);
    a1 = _mm512_dpwssd_epi32(a1, broadcast_pair(x1 + 2 * j), w);
    a2 = _mm512_dpwssd_epi32(a2, broadcast_pair(x2 + 2 * j), w);
    a3 = _mm512_dpwssd_epi32(a3, broadcast_pair(x3 + 2 * j), w);
    a4 = _mm512_dpwssd_epi32(a4, broadcast_pair(x4 + 2 * j), w);
    a5 = _mm512_dpwssd_epi32(a5, broadcast_pair(x5 + 2 * j), w);
    a6 = _mm512_dpwssd_epi32(a6, broadcast_pair(x6 + 2 * j), w);
    a7 = _mm512_dpwssd_epi32(a7, broadcast_pair(x7 + 2 * j), w);
    a8 = _mm512_dpwssd_epi32(a8, broadcast_pair(x8 + 2 * j), w);
    a9 = _mm512_dpwssd_epi32(a9, broadcast_pair(x9 + 2 * j), w);
    a10 = _mm512_dpwssd_epi32(a10, broadcast_pair(x10 + 2 * j), w);
    a11 = _mm512_dpwssd_epi32(a11, broadcast_pair(x11 + 2 * j), w);
  }
  const __m512i sums[kInt16TokensAvx512] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11};
  const __m512 scale_w = _mm512_loadu_ps(sw);
  const __mmask16 cols = nr >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << nr) - 1);
  for (int r = 0; r < m; ++r) {
    float* yr = y + static_cast<size_t>(r) * ys;
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(sums[r]), _mm512_mul_ps(scale_w, _mm512_set1_ps(sa[r])));
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(cols, yr));
    _mm512_mask_storeu_ps(yr, cols, v);
  }
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
