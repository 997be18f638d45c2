// AVX-512 build of conv1d_direct's kernel (vocoder_conv_tiles.hpp): a full tile's 16 output
// channels are one zmm, so each input costs one broadcast and one FMA per time step instead of
// two. Tiles take 8 steps: 8 accumulators keep both FMA units busy, and the 8 input-row pointers
// still fit the general registers (at 12 GCC spilled them). 8-channel leftovers stay 8-lane.
// Its results are bit-identical to the AVX2 build's. Must never be called on a CPU without
// AVX-512F/VL.
#include <immintrin.h>

#include <cstdint>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx2,fma")
// GCC 12 sees the _mm512_undefined_ps() inside _mm512_max_ps/_mm512_min_ps as a maybe-uninitialized
// read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace duet::rt::vocoder_avx512 {
namespace {

// 16 f32 lanes in a zmm register.
struct V16 {
  using T = __m512;
  static constexpr int kLanes = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float v) { return _mm512_set1_ps(v); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static T broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
};

}  // namespace
}  // namespace duet::rt::vocoder_avx512

#include "runtime/vocoder_conv_tiles.hpp"

namespace duet::rt::vocoder_avx512 {

void conv1d_direct_range(const vocoder_impl::ConvJob& j, int64_t t0, int64_t t1) {
  vocoder_tiles::conv1d_direct_range<V16, kTileSteps>(j, t0, t1);
}

}  // namespace duet::rt::vocoder_avx512

#pragma GCC pop_options
