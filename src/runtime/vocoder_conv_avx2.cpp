// AVX2/FMA kernel of conv1d_direct (vocoder_ops.hpp): an outer-product tile of up to 6 time
// steps x 16 output channels kept in registers, reading input rows in place (no im2col) and the
// weights as [kernel][c_in][c_out] or as conv1d_pack's contiguous panels; time is blocked so each
// channel tile's weights are read once per block of steps, not once per tile; the epilogue
// (residual add, leaky-ReLU copy, sum) is applied as the tile is stored. Must never be called on
// a CPU without AVX2/FMA.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/conv1d.hpp"
#include "runtime/vocoder_conv_impl.hpp"
#include "runtime/vocoder_ops.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace duet::rt::vocoder_avx2 {
namespace {

using vocoder_impl::ConvJob;

// Output channels [o, o + 8 * NV) for NT time steps from t; the weight of (k, i) is at
// wp + k * ks + i * is.
// Always inlined into its callers below, and every loop over tile rows or vectors fully
// unrolled: otherwise GCC keeps the accumulators in memory (about a third of the speed).
template <int NT, int NV>
[[gnu::always_inline]] inline void tile(const float* const* rows, const ConvJob& j,
                                        const float* wp, int64_t ks, int64_t is, int64_t o,
                                        int64_t t) {
  const int64_t kernel = j.p.kernel;
  const int64_t c_in = j.p.c_in;
  __m256 acc[NT][NV];
  #pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const __m256 init = j.b != nullptr ? _mm256_loadu_ps(j.b + o + 8 * v) : _mm256_setzero_ps();
    #pragma GCC unroll 8
    for (int r = 0; r < NT; ++r) acc[r][v] = init;
  }
  for (int64_t k = 0; k < kernel; ++k) {
    const float* src[NT];
    #pragma GCC unroll 8
    for (int r = 0; r < NT; ++r) src[r] = rows[r * kernel + k];
    const float* wk = wp + k * ks;
    // Unrolled: without it GCC recomputes the strided weight address every step and the loop
    // runs at about two thirds of the FMA rate.
#pragma GCC unroll 8
    for (int64_t i = 0; i < c_in; ++i) {
      __m256 w[NV];
      #pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) w[v] = _mm256_loadu_ps(wk + i * is + 8 * v);
      #pragma GCC unroll 8
      for (int r = 0; r < NT; ++r) {
        const __m256 a = _mm256_broadcast_ss(src[r] + i);
        #pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(a, w[v], acc[r][v]);
      }
    }
  }
  const __m256 zero = _mm256_setzero_ps();
  const __m256 slope = _mm256_set1_ps(j.ep.slope);
  #pragma GCC unroll 8
  for (int r = 0; r < NT; ++r) {
    const int64_t at = (t + r) * j.y_stride + o;
    #pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      __m256 out = acc[r][v];
      if (j.ep.residual != nullptr) {
        out = _mm256_add_ps(out, _mm256_loadu_ps(j.ep.residual + at + 8 * v));
      }
      _mm256_storeu_ps(j.y + at + 8 * v, out);
      if (j.ep.sum != nullptr) {
        float* sum = j.ep.sum + at + 8 * v;
        _mm256_storeu_ps(sum, _mm256_add_ps(_mm256_loadu_ps(sum), out));
      }
      if (j.ep.act != nullptr) {
        const __m256 a = _mm256_add_ps(_mm256_max_ps(out, zero),
                                       _mm256_mul_ps(slope, _mm256_min_ps(out, zero)));
        _mm256_storeu_ps(j.ep.act + at + 8 * v, a);
      }
    }
  }
}

// Output channels [o, o + 8 * NV) for nt time steps whose input rows are rows[r * kernel + k].
// Not inlined (nor tile_panel): inside the big loop function GCC spills the accumulators.
template <int NV>
[[gnu::noinline]] void tile_rows(int nt, const float* const* rows, const ConvJob& j, int64_t o,
                                 int64_t t) {
  const float* wp = j.tile_base(o);
  const int64_t ks = j.k_stride(8 * NV);
  const int64_t is = j.i_stride(8 * NV);
  switch (nt) {
    case 6: tile<6, NV>(rows, j, wp, ks, is, o, t); break;
    case 5: tile<5, NV>(rows, j, wp, ks, is, o, t); break;
    case 4: tile<4, NV>(rows, j, wp, ks, is, o, t); break;
    case 3: tile<3, NV>(rows, j, wp, ks, is, o, t); break;
    case 2: tile<2, NV>(rows, j, wp, ks, is, o, t); break;
    default: tile<1, NV>(rows, j, wp, ks, is, o, t); break;
  }
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Leftover output channels [o, c_out) (fewer than 8; plain layout only): dot products over the
// input channels, vectorized when the weights of one output are contiguous (c_out == 1, e.g.
// conv_post).
void tail_channels(int nt, const float* const* rows, const ConvJob& j, int64_t o, int64_t t) {
  const int64_t kernel = j.p.kernel;
  const int64_t c_in = j.p.c_in;
  const int64_t c_out = j.p.c_out;
  for (; o < c_out; ++o) {
    for (int r = 0; r < nt; ++r) {
      float s = j.b != nullptr ? j.b[o] : 0.0f;
      // Vector partial sums over all taps, reduced once per output.
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
      for (int64_t k = 0; k < kernel; ++k) {
        const float* src = rows[r * kernel + k];
        const float* wk = j.w + k * c_in * c_out + o;
        int64_t i = 0;
        if (c_out == 1) {
          for (; i + 16 <= c_in; i += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(src + i), _mm256_loadu_ps(wk + i), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(src + i + 8), _mm256_loadu_ps(wk + i + 8), a1);
          }
          for (; i + 8 <= c_in; i += 8) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(src + i), _mm256_loadu_ps(wk + i), a0);
          }
        }
        for (; i < c_in; ++i) s += src[i] * wk[i * c_out];
      }
      s += hsum(_mm256_add_ps(a0, a1));
      const int64_t at = (t + r) * j.y_stride + o;
      if (j.ep.residual != nullptr) s += j.ep.residual[at];
      j.y[at] = s;
      if (j.ep.sum != nullptr) j.ep.sum[at] += s;
      if (j.ep.act != nullptr) j.ep.act[at] = std::max(s, 0.0f) + j.ep.slope * std::min(s, 0.0f);
    }
  }
}

constexpr int kMaxTokens = 6;
constexpr int64_t kBlockTiles = 8;  // time tiles per block: its input rows stay in cache
constexpr int64_t kPackMinCout = 128;
constexpr int64_t kPackBlockTiles = 48;

// 16 output channels from o for nt time steps, weights from one panel f32 [kernel][c_in][16].
[[gnu::noinline]] void tile_panel(int nt, const float* const* rows, const ConvJob& j,
                                  const float* wp, int64_t o, int64_t t) {
  const int64_t ks = j.p.c_in * 16;
  switch (nt) {
    case 6: tile<6, 2>(rows, j, wp, ks, 16, o, t); break;
    case 5: tile<5, 2>(rows, j, wp, ks, 16, o, t); break;
    case 4: tile<4, 2>(rows, j, wp, ks, 16, o, t); break;
    case 3: tile<3, 2>(rows, j, wp, ks, 16, o, t); break;
    case 2: tile<2, 2>(rows, j, wp, ks, 16, o, t); break;
    default: tile<1, 2>(rows, j, wp, ks, 16, o, t); break;
  }
}

// Copies the plain weights of output channels [o, o + 16) into panel f32 [kernel][c_in][16].
void pack_panel(const ConvJob& j, int64_t o, float* panel) {
  const int64_t n = j.p.kernel * j.p.c_in;
  for (int64_t r = 0; r < n; ++r) {
    const float* src = j.w + r * j.p.c_out + o;
    _mm256_storeu_ps(panel + r * 16, _mm256_loadu_ps(src));
    _mm256_storeu_ps(panel + r * 16 + 8, _mm256_loadu_ps(src + 8));
  }
}

// Input rows of the nt steps from t: rows[r * kernel + k].
void tile_inputs(const ConvJob& j, int64_t t, int nt, const float** rows) {
  const Conv1dParams& p = j.p;
  for (int r = 0; r < nt; ++r) {
    for (int64_t k = 0; k < p.kernel; ++k) {
      const int64_t s = (t + r) * p.stride + k * p.dilation - p.pad_left;
      rows[r * p.kernel + k] = s >= 0 && s < j.t_in ? j.x + s * p.c_in : j.zero_row;
    }
  }
}

}  // namespace

// Loops: blocks of kBlockTiles time tiles, then output-channel tiles, then the block's time
// tiles, so one channel tile's weights stay in cache while the block's steps use them. Plain
// weights with wide rows (c_out >= kPackMinCout) are first copied, 16 channels at a time, into
// a contiguous panel used for up to kPackBlockTiles time tiles: their rows, c_out floats apart,
// map to few cache sets and evict each other, and the copy's scattered reads pay only once per
// panel and block.
void conv1d_direct_range(const ConvJob& j, int64_t t0, int64_t t1) {
  const Conv1dParams& p = j.p;
  const int64_t kernel = p.kernel;
  int64_t o_start = 0;
  if (!j.packed && p.c_out >= kPackMinCout && t1 - t0 > 2 * kMaxTokens) {
    std::vector<float> panel(static_cast<size_t>(kernel * p.c_in * 16));
    const float* rows[kMaxTokens * 64];
    for (int64_t tb = t0; tb < t1; tb += kPackBlockTiles * kMaxTokens) {
      const int64_t te = std::min(t1, tb + kPackBlockTiles * kMaxTokens);
      for (int64_t o = 0; o + 16 <= p.c_out; o += 16) {
        pack_panel(j, o, panel.data());
        for (int64_t t = tb; t < te; t += kMaxTokens) {
          const int nt = static_cast<int>(std::min<int64_t>(kMaxTokens, te - t));
          tile_inputs(j, t, nt, rows);
          tile_panel(nt, rows, j, panel.data(), o, t);
        }
      }
    }
    o_start = p.c_out / 16 * 16;
    if (o_start == p.c_out) return;
  }
  const float* rows[kBlockTiles][kMaxTokens * 64];
  int counts[kBlockTiles];
  for (int64_t tb = t0; tb < t1; tb += kBlockTiles * kMaxTokens) {
    const int64_t te = std::min(t1, tb + kBlockTiles * kMaxTokens);
    int tiles = 0;
    for (int64_t t = tb; t < te; t += kMaxTokens, ++tiles) {
      counts[tiles] = static_cast<int>(std::min<int64_t>(kMaxTokens, te - t));
      tile_inputs(j, t, counts[tiles], rows[tiles]);
    }
    int64_t o = o_start;
    for (; o + 16 <= p.c_out; o += 16) {
      for (int i = 0; i < tiles; ++i) tile_rows<2>(counts[i], rows[i], j, o, tb + i * kMaxTokens);
    }
    for (; o + 8 <= p.c_out; o += 8) {
      for (int i = 0; i < tiles; ++i) tile_rows<1>(counts[i], rows[i], j, o, tb + i * kMaxTokens);
    }
    if (o < p.c_out) {
      for (int i = 0; i < tiles; ++i) tail_channels(counts[i], rows[i], j, o, tb + i * kMaxTokens);
    }
  }
}

}  // namespace duet::rt::vocoder_avx2

#pragma GCC pop_options
