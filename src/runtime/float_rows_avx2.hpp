// Internal to src/runtime: loading 8 weights of a float row (F32, F16 or BF16) as one f32 vector,
// and one weight as a float, for the AVX2 kernels that take float weights (the dot tiles in
// float_avx2.cpp, the packed GEMM in gemm_float_avx2.cpp). Must only be included inside a
// `#pragma GCC target("avx2,fma,f16c")` region, and never be reached on a CPU without them.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "runtime/half.hpp"

namespace duet::rt::kern::float_rows {

struct F32W {
  using T = float;
  static __m256 load8(const T* p) { return _mm256_loadu_ps(p); }
  static float one(T v) { return v; }
};
struct F16W {
  using T = uint16_t;
  static __m256 load8(const T* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static float one(T v) { return _cvtsh_ss(v); }
};
struct BF16W {
  using T = uint16_t;
  static __m256 load8(const T* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static float one(T v) { return bf16_to_fp32(v); }
};

}  // namespace duet::rt::kern::float_rows
