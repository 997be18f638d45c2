// AVX2/FMA kernels for the 32-element block types: the AVX2 build of quants_q32_kernels.hpp
// (Q4_0/Q5_0/Q8_0 weights x Q8_0 activations, Q4_1/Q5_1 weights x Q8_1 activations) and the
// Q8_0/Q8_1 activation quantizers. Compiled for AVX2 inside a target region so the rest of the
// binary stays portable. Must never be called on a CPU without AVX2/FMA/F16C (quant_traits()
// guards this), and must match the scalar reference (quants_ref.cpp) up to float summation order.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "runtime/quant_blocks.hpp"
#include "runtime/quants_impl.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define DUET_AVX2_REGION 1
#include "runtime/avx2_common.hpp"
#include "runtime/quants_q32_kernels.hpp"

namespace duet::rt::kern::avx2 {
namespace {

// ---- activation quantizers: same bytes as the scalar reference (round half to even) ----

// Quantizes 32 floats with multiplier id; returns the 8 int32 lanes' total in *sum if asked.
static inline __m256i quantize32(const float* x, __m256 id, __m256i* sum32) {
  const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), id));
  const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), id));
  const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), id));
  const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), id));
  if (sum32) *sum32 = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline float absmax32(const float* x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_andnot_ps(sign, _mm256_loadu_ps(x));
  m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8)));
  m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 16)));
  m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 24)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const float amax = absmax32(src);
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    b[i].d = static_cast<uint16_t>(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), quantize32(src, _mm256_set1_ps(id), nullptr));
  }
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const float amax = absmax32(src);
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    __m256i sum32;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs), quantize32(src, _mm256_set1_ps(id), &sum32));
    b[i].d = static_cast<uint16_t>(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
    b[i].s = static_cast<uint16_t>(_cvtss_sh(d * static_cast<float>(hsum_i32(sum32)), _MM_FROUND_TO_NEAREST_INT));
  }
}

}  // namespace
}  // namespace duet::rt::kern::avx2

namespace duet::rt::kern {

void avx2_fill_q32(QuantTraits& t) {
  avx2::fill_q32_kernels(t);
  if (t.type == DType::Q8_0) t.from_float = &avx2::quantize_q8_0;
  if (t.type == DType::Q8_1) t.from_float = &avx2::quantize_q8_1;
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
