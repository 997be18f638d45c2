// The 65,536-entry table (128 KiB) is a function-local constant: initialised thread-safely once.
// An AVX2/F16C path (F16 rounding and a gather, 8 at a time) gives exactly the scalar results.
#include "runtime/gelu_table.hpp"

#include <immintrin.h>

#include <cmath>
#include <vector>

#include "runtime/half.hpp"
#include "runtime/quants.hpp"

namespace duet::rt {
namespace {

float gelu_tanh_f32(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoef = 0.044715f;
  // The inner 1 + c x^2 fused as llama.cpp's build fuses it (its table then matches this one in
  // every finite entry).
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * std::fma(kCoef * x, x, 1.0f)));
}

const std::vector<uint16_t>& table() {
  static const std::vector<uint16_t> t = [] {
    // One spare entry: the gather reads 4 bytes at entry i, so entry 0xffff needs 2 more.
    std::vector<uint16_t> v((1 << 16) + 1, 0);
    for (uint32_t i = 0; i < (1u << 16); ++i) {
      v[i] = fp32_to_fp16(gelu_tanh_f32(fp16_to_fp32(static_cast<uint16_t>(i))));
    }
    return v;
  }();
  return t;
}

inline float lookup(const uint16_t* t, float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return fp16_to_fp32(t[fp32_to_fp16(x)]);
}

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

// 8 lookups; the same values as lookup() (F16C rounds to nearest even like fp32_to_fp16).
inline __m256 lookup8(const uint16_t* t, __m256 x) {
  const __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i idx = _mm256_cvtepu16_epi32(h);
  const __m256i g = _mm256_and_si256(_mm256_i32gather_epi32(reinterpret_cast<const int*>(t), idx, 2),
                                     _mm256_set1_epi32(0xffff));
  const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1));
  __m256 r = _mm256_cvtph_ps(packed);
  r = _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, _mm256_set1_ps(10.0f), _CMP_GE_OQ));
  return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-10.0f), _CMP_LE_OQ), r);
}

int64_t gelu_avx2(const uint16_t* t, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, lookup8(t, _mm256_loadu_ps(x + i)));
  return i;
}

int64_t geglu_avx2(const uint16_t* t, const float* gate, const float* up, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(lookup8(t, _mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
  }
  return i;
}

#pragma GCC pop_options

}  // namespace

void gelu_table(const float* x, float* y, int64_t n) {
  const uint16_t* t = table().data();
  int64_t i = best_isa() == Isa::Avx2 ? gelu_avx2(t, x, y, n) : 0;
  for (; i < n; ++i) y[i] = lookup(t, x[i]);
}

void geglu_table(const float* gate, const float* up, float* y, int64_t n) {
  const uint16_t* t = table().data();
  int64_t i = best_isa() == Isa::Avx2 ? geglu_avx2(t, gate, up, y, n) : 0;
  for (; i < n; ++i) y[i] = lookup(t, gate[i]) * up[i];
}

}  // namespace duet::rt
