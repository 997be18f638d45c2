// AVX2/FMA build of conv1d_direct's kernel (vocoder_conv_tiles.hpp): 8-lane vectors, tiles of up
// to 6 time steps x 16 output channels (two ymm per step). Must never be called on a CPU without
// AVX2/FMA.
#include <immintrin.h>

#include <cstdint>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace duet::rt::vocoder_avx2 {
namespace {

// 8 f32 lanes in a ymm register.
struct V8 {
  using T = __m256;
  static constexpr int kLanes = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T set1(float v) { return _mm256_set1_ps(v); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static T broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
  static float sum(T v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace
}  // namespace duet::rt::vocoder_avx2

#include "runtime/vocoder_conv_tiles.hpp"

namespace duet::rt::vocoder_avx2 {

void conv1d_direct_range(const vocoder_impl::ConvJob& j, int64_t t0, int64_t t1) {
  vocoder_tiles::conv1d_direct_range<V8, V8, kTileSteps>(j, t0, t1);
}

}  // namespace duet::rt::vocoder_avx2

#pragma GCC pop_options
