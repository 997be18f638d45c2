// AVX2 kernels of the integer GEMM (gemm_int16.hpp): activation rows quantized to int16 with a
// per-row scale, and a micro-kernel of up to 6 tokens x 16 outputs that broadcasts one pair of
// activations per token and multiplies it into two panel vectors with vpmaddwd, summing each input
// slice exactly in int32 before scaling it into f32. Must never be called on a CPU without AVX2,
// never read activation rows past n_tokens or panels past the packed weights, and never allocate.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/gemm_int16.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include "runtime/gemm_store_avx2.hpp"

namespace duet::rt::kern {
namespace {

// x with non-finite lanes set to 0.
inline __m256 finite_or_zero(__m256 x) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 inf = _mm256_set1_ps(INFINITY);
  return _mm256_and_ps(x, _mm256_cmp_ps(_mm256_and_ps(x, abs_mask), inf, _CMP_LT_OQ));
}

inline float finite_or_zero(float v) { return std::isfinite(v) ? v : 0.0f; }

// The pair of int16 activations at q as one int32, broadcast to every lane.
inline __m256i broadcast_pair(const int16_t* q) {
  int32_t v;
  std::memcpy(&v, q, sizeof v);
  return _mm256_set1_epi32(v);
}

}  // namespace

// The twelve int32 accumulators are named variables so they stay in registers; rows past m
// re-read the last real row and are not stored.
void int16_micro_avx2(int64_t np, const int16_t* q, size_t qs, int m, const int16_t* panel, const float* sa,
                      const float* sw, float* y, size_t ys, int nr, bool accumulate) {
  auto row = [&](int r) { return q + static_cast<size_t>(std::min(r, m - 1)) * qs; };
  const int16_t *x0 = row(0), *x1 = row(1), *x2 = row(2), *x3 = row(3), *x4 = row(4), *x5 = row(5);
  __m256i a0 = _mm256_setzero_si256(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0;
  __m256i a3 = a0, b3 = a0, a4 = a0, b4 = a0, a5 = a0, b5 = a0;
  for (int64_t j = 0; j < np; ++j) {
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + j * 2 * kInt16Panel));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(panel + j * 2 * kInt16Panel + 16));
    __m256i v = broadcast_pair(x0 + 2 * j);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(v, w0));
    b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(v, w1));
    v = broadcast_pair(x1 + 2 * j);
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(v, w0));
    b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(v, w1));
    v = broadcast_pair(x2 + 2 * j);
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(v, w0));
    b2 = _mm256_add_epi32(b2, _mm256_madd_epi16(v, w1));
    v = broadcast_pair(x3 + 2 * j);
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(v, w0));
    b3 = _mm256_add_epi32(b3, _mm256_madd_epi16(v, w1));
    v = broadcast_pair(x4 + 2 * j);
    a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(v, w0));
    b4 = _mm256_add_epi32(b4, _mm256_madd_epi16(v, w1));
    v = broadcast_pair(x5 + 2 * j);
    a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(v, w0));
    b5 = _mm256_add_epi32(b5, _mm256_madd_epi16(v, w1));
  }
  const __m256i sums[2 * kInt16Tokens] = {a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5};
  const __m256 sw0 = _mm256_loadu_ps(sw), sw1 = _mm256_loadu_ps(sw + 8);
  __m256 acc[2 * kInt16Tokens];
  for (int r = 0; r < m; ++r) {
    const __m256 s = _mm256_set1_ps(sa[r]);
    acc[2 * r] = _mm256_mul_ps(_mm256_cvtepi32_ps(sums[2 * r]), _mm256_mul_ps(sw0, s));
    acc[2 * r + 1] = _mm256_mul_ps(_mm256_cvtepi32_ps(sums[2 * r + 1]), _mm256_mul_ps(sw1, s));
  }
  store_tile_rows(acc, m, y, ys, nr, accumulate);
}

void int16_quantize_rows_avx2(const float* x, int64_t n_in, int64_t n_in_even, int64_t t0, int64_t t1,
                              int16_t* q, float* scale) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t t = t0; t < t1; ++t) {
    const float* xr = x + t * n_in;
    int16_t* qr = q + t * n_in_even;
    __m256 vmax = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= n_in; k += 8) {
      vmax = _mm256_max_ps(vmax, _mm256_and_ps(finite_or_zero(_mm256_loadu_ps(xr + k)), abs_mask));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, vmax);
    float max_abs = *std::max_element(lanes, lanes + 8);
    for (; k < n_in; ++k) max_abs = std::max(max_abs, std::fabs(finite_or_zero(xr[k])));
    const float s = max_abs / static_cast<float>(kInt16ActMax);
    const float inv = max_abs > 0.0f ? static_cast<float>(kInt16ActMax) / max_abs : 0.0f;
    scale[t] = s;
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256 lim = _mm256_set1_ps(static_cast<float>(kInt16ActMax));
    auto quantize8 = [&](const float* p) {
      const __m256 v = _mm256_mul_ps(finite_or_zero(_mm256_loadu_ps(p)), vinv);
      return _mm256_cvtps_epi32(_mm256_max_ps(_mm256_min_ps(v, lim), _mm256_sub_ps(_mm256_setzero_ps(), lim)));
    };
    k = 0;
    for (; k + 16 <= n_in; k += 16) {
      const __m256i packed = _mm256_packs_epi32(quantize8(xr + k), quantize8(xr + k + 8));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qr + k), _mm256_permute4x64_epi64(packed, 0xD8));
    }
    for (; k < n_in; ++k) {
      const float v = std::clamp(finite_or_zero(xr[k]) * inv, -static_cast<float>(kInt16ActMax),
                                 static_cast<float>(kInt16ActMax));
      qr[k] = static_cast<int16_t>(std::lrint(v));
    }
    if (n_in_even > n_in) qr[n_in] = 0;
  }
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
