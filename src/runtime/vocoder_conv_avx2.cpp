// AVX2/FMA kernel of conv1d_direct (vocoder_ops.hpp): an outer-product tile of up to 6 time
// steps x 16 output channels kept in registers, reading input rows in place (no im2col) and the
// weights as [kernel][c_in][c_out]; time is blocked so each channel tile's weights are read once
// per 48 steps, not once per tile. Must never be called on a CPU without AVX2/FMA.
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

// Output channels [o, o + 8 * NV) for NT time steps whose input rows are rows[r * kernel + k].
template <int NV>
void tile_rows(int nt, const float* const* rows, int64_t kernel, int64_t c_in, const float* wt,
               int64_t c_out, int64_t o, const float* b, float* y) {
  switch (nt) {
    case 6: tile<6, NV>(rows, kernel, c_in, wt, c_out, o, b, y, c_out); break;
    case 5: tile<5, NV>(rows, kernel, c_in, wt, c_out, o, b, y, c_out); break;
    case 4: tile<4, NV>(rows, kernel, c_in, wt, c_out, o, b, y, c_out); break;
    case 3: tile<3, NV>(rows, kernel, c_in, wt, c_out, o, b, y, c_out); break;
    case 2: tile<2, NV>(rows, kernel, c_in, wt, c_out, o, b, y, c_out); break;
    default: tile<1, NV>(rows, kernel, c_in, wt, c_out, o, b, y, c_out); break;
  }
}

// Leftover output channels [o, c_out) (fewer than 8), scalar.
void tail_channels(int nt, const float* const* rows, int64_t kernel, int64_t c_in,
                   const float* wt, int64_t c_out, int64_t o, const float* b, float* y) {
  for (; o < c_out; ++o) {
    for (int r = 0; r < nt; ++r) {
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

constexpr int kMaxTokens = 6;
constexpr int64_t kBlockTiles = 8;  // time tiles per block: its input rows stay in cache

}  // namespace

// Output steps [t0, t1); zero_row holds c_in zeros for padded positions. Loops: blocks of
// kBlockTiles time tiles, then output-channel tiles, then the block's time tiles, so one channel
// tile's weights stay in cache while the block's steps use them.
void conv1d_direct_range(const float* x, int64_t t_in, const float* wt, const float* b,
                         const Conv1dParams& p, float* y, int64_t t0, int64_t t1,
                         const float* zero_row) {
  const int64_t kernel = p.kernel;
  const float* rows[kBlockTiles][kMaxTokens * 64];
  int counts[kBlockTiles];
  for (int64_t tb = t0; tb < t1; tb += kBlockTiles * kMaxTokens) {
    const int64_t te = std::min(t1, tb + kBlockTiles * kMaxTokens);
    int tiles = 0;
    for (int64_t t = tb; t < te; t += kMaxTokens, ++tiles) {
      const int nt = static_cast<int>(std::min<int64_t>(kMaxTokens, te - t));
      counts[tiles] = nt;
      for (int r = 0; r < nt; ++r) {
        for (int64_t k = 0; k < kernel; ++k) {
          const int64_t s = (t + r) * p.stride + k * p.dilation - p.pad_left;
          rows[tiles][r * kernel + k] = s >= 0 && s < t_in ? x + s * p.c_in : zero_row;
        }
      }
    }
    int64_t o = 0;
    for (; o + 16 <= p.c_out; o += 16) {
      for (int i = 0; i < tiles; ++i) {
        tile_rows<2>(counts[i], rows[i], kernel, p.c_in, wt, p.c_out, o, b,
                     y + (tb + i * kMaxTokens) * p.c_out);
      }
    }
    for (; o + 8 <= p.c_out; o += 8) {
      for (int i = 0; i < tiles; ++i) {
        tile_rows<1>(counts[i], rows[i], kernel, p.c_in, wt, p.c_out, o, b,
                     y + (tb + i * kMaxTokens) * p.c_out);
      }
    }
    if (o < p.c_out) {
      for (int i = 0; i < tiles; ++i) {
        tail_channels(counts[i], rows[i], kernel, p.c_in, wt, p.c_out, o, b,
                      y + (tb + i * kMaxTokens) * p.c_out);
      }
    }
  }
}

}  // namespace duet::rt::vocoder_avx2

#pragma GCC pop_options
