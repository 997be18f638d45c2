// AVX2/FMA kernel of conv1d_direct (vocoder_ops.hpp): an outer-product tile of up to 6 time
// steps x 16 output channels kept in registers, reading input rows in place (no im2col) and the
// weights as [kernel][c_in][c_out]. Must never be called on a CPU without AVX2/FMA.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "runtime/conv1d.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace duet::rt::vocoder_avx2 {
namespace {

template <int NT, int NV>
void tile(const float* const* rows, int64_t kernel, int64_t c_in, const float* wt, int64_t c_out,
          int64_t o, const float* b, float* y, int64_t ys) {
  __m256 acc[NT][NV];
  for (int v = 0; v < NV; ++v) {
    const __m256 init = b != nullptr ? _mm256_loadu_ps(b + o + 8 * v) : _mm256_setzero_ps();
    for (int r = 0; r < NT; ++r) acc[r][v] = init;
  }
  for (int64_t k = 0; k < kernel; ++k) {
    const float* src[NT];
    for (int r = 0; r < NT; ++r) src[r] = rows[r * kernel + k];
    const float* wk = wt + k * c_in * c_out + o;
    for (int64_t i = 0; i < c_in; ++i) {
      __m256 w[NV];
      for (int v = 0; v < NV; ++v) w[v] = _mm256_loadu_ps(wk + i * c_out + 8 * v);
      for (int r = 0; r < NT; ++r) {
        const __m256 a = _mm256_broadcast_ss(src[r] + i);
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(a, w[v], acc[r][v]);
      }
    }
  }
  for (int r = 0; r < NT; ++r) {
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(y + r * ys + o + 8 * v, acc[r][v]);
  }
}

template <int NT>
void tokens(const float* const* rows, int64_t kernel, int64_t c_in, const float* wt,
            int64_t c_out, const float* b, float* y) {
  int64_t o = 0;
  for (; o + 16 <= c_out; o += 16) tile<NT, 2>(rows, kernel, c_in, wt, c_out, o, b, y, c_out);
  for (; o + 8 <= c_out; o += 8) tile<NT, 1>(rows, kernel, c_in, wt, c_out, o, b, y, c_out);
  for (; o < c_out; ++o) {  // leftover channels
    for (int r = 0; r < NT; ++r) {
      float s = b != nullptr ? b[o] : 0.0f;
      for (int64_t k = 0; k < kernel; ++k) {
        const float* src = rows[r * kernel + k];
        const float* wk = wt + k * c_in * c_out + o;
        for (int64_t i = 0; i < c_in; ++i) s += src[i] * wk[i * c_out];
      }
      y[r * c_out + o] = s;
    }
  }
}

}  // namespace

// Output steps [t0, t1); zero_row holds c_in zeros for padded positions.
void conv1d_direct_range(const float* x, int64_t t_in, const float* wt, const float* b,
                         const Conv1dParams& p, float* y, int64_t t0, int64_t t1,
                         const float* zero_row) {
  constexpr int kMaxTokens = 6;
  const float* rows[kMaxTokens * 64];
  const int64_t kernel = p.kernel;
  for (int64_t t = t0; t < t1; t += kMaxTokens) {
    const int nt = static_cast<int>(std::min<int64_t>(kMaxTokens, t1 - t));
    for (int r = 0; r < nt; ++r) {
      for (int64_t k = 0; k < kernel; ++k) {
        const int64_t s = (t + r) * p.stride + k * p.dilation - p.pad_left;
        rows[r * kernel + k] = s >= 0 && s < t_in ? x + s * p.c_in : zero_row;
      }
    }
    float* yt = y + t * p.c_out;
    switch (nt) {
      case 6: tokens<6>(rows, kernel, p.c_in, wt, p.c_out, b, yt); break;
      case 5: tokens<5>(rows, kernel, p.c_in, wt, p.c_out, b, yt); break;
      case 4: tokens<4>(rows, kernel, p.c_in, wt, p.c_out, b, yt); break;
      case 3: tokens<3>(rows, kernel, p.c_in, wt, p.c_out, b, yt); break;
      case 2: tokens<2>(rows, kernel, p.c_in, wt, p.c_out, b, yt); break;
      default: tokens<1>(rows, kernel, p.c_in, wt, p.c_out, b, yt); break;
    }
  }
}

}  // namespace duet::rt::vocoder_avx2

#pragma GCC pop_options
