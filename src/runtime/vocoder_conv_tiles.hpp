// Internal to the vocoder's direct-convolution kernels (vocoder_conv_avx2.cpp and
// vocoder_conv_avx512.cpp): the one kernel, written once over a vector policy V (load, broadcast,
// FMA, ... on V::kLanes floats) and compiled by each file inside its own target region. An
// outer-product tile of up to kMaxTokens time steps x 16 output channels stays in registers,
// reads input rows in place (no im2col) and the weights as [kernel][c_in][c_out] or as
// conv1d_pack's contiguous panels; time is blocked so each channel tile's weights are read once
// per block of steps, not once per tile; the epilogue (residual add, leaky-ReLU copy, sum) is
// applied as the tile is stored. Each output lane sums its products in the same order at every
// width, so both files give bit-identical results.
// Everything here has internal linkage on purpose: each including file gets its own copy,
// compiled for its own instruction set, and the linker can never hand one file's wider code to
// the other. Must only be included inside a target region that has at least AVX2/FMA.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/conv1d.hpp"
#include "runtime/vocoder_conv_impl.hpp"
#include "runtime/vocoder_ops.hpp"

namespace duet::rt::vocoder_tiles {
namespace {

using vocoder_impl::ConvJob;

// 8 f32 lanes in a ymm register: the AVX2 build's only policy, and the AVX-512 build's for
// 8-channel leftovers and single-output dot products.
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

constexpr int kPanelWidth = 16;     // output channels of a full tile and of a packed panel
constexpr int64_t kBlockTiles = 8;  // time tiles per block: its input rows stay in cache
constexpr int64_t kPackMinCout = 128;
constexpr int64_t kPackBlockTiles = 48;
constexpr int kMaxKernel = 64;      // taps; check_conv() refuses more

// Output channels [o, o + V::kLanes * NV) for NT time steps from t; the weight of (k, i) is at
// wp + k * ks + i * is.
// Always inlined into its callers below, and every loop over tile rows or vectors fully
// unrolled: otherwise GCC keeps the accumulators in memory (about a third of the speed).
template <class V, int NT, int NV>
[[gnu::always_inline]] inline void tile(const float* const* rows, const ConvJob& j, const float* wp, int64_t ks,
                                        int64_t is, int64_t o, int64_t t) {
  using T = typename V::T;
  const int64_t kernel = j.p.kernel;
  const int64_t c_in = j.p.c_in;
  T acc[NT][NV];
  #pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) {
    const T init = j.b != nullptr ? V::load(j.b + o + V::kLanes * v) : V::zero();
    #pragma GCC unroll 16
    for (int r = 0; r < NT; ++r) acc[r][v] = init;
  }
  for (int64_t k = 0; k < kernel; ++k) {
    const float* src[NT];
    #pragma GCC unroll 16
    for (int r = 0; r < NT; ++r) src[r] = rows[r * kernel + k];
    const float* wk = wp + k * ks;
    // Unrolled: without it GCC recomputes the strided weight address every step and the loop
    // runs at about two thirds of the FMA rate.
#pragma GCC unroll 8
    for (int64_t i = 0; i < c_in; ++i) {
      T w[NV];
      #pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) w[v] = V::load(wk + i * is + V::kLanes * v);
      #pragma GCC unroll 16
      for (int r = 0; r < NT; ++r) {
        const T a = V::broadcast(src[r] + i);
        #pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(a, w[v], acc[r][v]);
      }
    }
  }
  const T zero = V::zero();
  const T slope = V::set1(j.ep.slope);
  #pragma GCC unroll 16
  for (int r = 0; r < NT; ++r) {
    const int64_t at = (t + r) * j.y_stride + o;
    #pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      T out = acc[r][v];
      if (j.ep.residual != nullptr) out = V::add(out, V::load(j.ep.residual + at + V::kLanes * v));
      V::store(j.y + at + V::kLanes * v, out);
      if (j.ep.sum != nullptr) {
        float* sum = j.ep.sum + at + V::kLanes * v;
        V::store(sum, V::add(V::load(sum), out));
      }
      if (j.ep.act != nullptr) {
        const T a = V::add(V::max(out, zero), V::mul(slope, V::min(out, zero)));
        V::store(j.ep.act + at + V::kLanes * v, a);
      }
    }
  }
}

// tile<V, nt, NV> for a run-time nt in 1..N.
template <class V, int NV, int N>
[[gnu::always_inline]] inline void tile_n(int nt, const float* const* rows, const ConvJob& j, const float* wp,
                                          int64_t ks, int64_t is, int64_t o, int64_t t) {
  if constexpr (N > 1) {
    if (nt < N) return tile_n<V, NV, N - 1>(nt, rows, j, wp, ks, is, o, t);
  }
  tile<V, N, NV>(rows, j, wp, ks, is, o, t);
}

// Output channels [o, o + V::kLanes * NV) for nt time steps whose input rows are
// rows[r * kernel + k]. Not inlined (nor tile_panel): inside the big loop function GCC spills the
// accumulators.
template <class V, int NV, int kMaxTokens>
[[gnu::noinline]] void tile_rows(int nt, const float* const* rows, const ConvJob& j, int64_t o, int64_t t) {
  const int64_t width = V::kLanes * NV;
  tile_n<V, NV, kMaxTokens>(nt, rows, j, j.tile_base(o), j.k_stride(width), j.i_stride(width), o, t);
}

// kPanelWidth output channels from o for nt time steps, weights from one panel f32
// [kernel][c_in][16].
template <class V, int kMaxTokens>
[[gnu::noinline]] void tile_panel(int nt, const float* const* rows, const ConvJob& j, const float* wp, int64_t o,
                                  int64_t t) {
  tile_n<V, kPanelWidth / V::kLanes, kMaxTokens>(nt, rows, j, wp, j.p.c_in * kPanelWidth, kPanelWidth, o, t);
}

// Leftover output channels [o, c_out) (fewer than 8; plain layout only): dot products over the
// input channels, vectorized when the weights of one output are contiguous (c_out == 1, e.g.
// conv_post).
inline void tail_channels(int nt, const float* const* rows, const ConvJob& j, int64_t o, int64_t t) {
  const int64_t kernel = j.p.kernel;
  const int64_t c_in = j.p.c_in;
  const int64_t c_out = j.p.c_out;
  for (; o < c_out; ++o) {
    for (int r = 0; r < nt; ++r) {
      float s = j.b != nullptr ? j.b[o] : 0.0f;
      // Vector partial sums over all taps, reduced once per output.
      auto a0 = V8::zero(), a1 = V8::zero();
      for (int64_t k = 0; k < kernel; ++k) {
        const float* src = rows[r * kernel + k];
        const float* wk = j.w + k * c_in * c_out + o;
        int64_t i = 0;
        if (c_out == 1) {
          for (; i + 16 <= c_in; i += 16) {
            a0 = V8::fmadd(V8::load(src + i), V8::load(wk + i), a0);
            a1 = V8::fmadd(V8::load(src + i + 8), V8::load(wk + i + 8), a1);
          }
          for (; i + 8 <= c_in; i += 8) a0 = V8::fmadd(V8::load(src + i), V8::load(wk + i), a0);
        }
        for (; i < c_in; ++i) s += src[i] * wk[i * c_out];
      }
      s += V8::sum(V8::add(a0, a1));
      const int64_t at = (t + r) * j.y_stride + o;
      if (j.ep.residual != nullptr) s += j.ep.residual[at];
      j.y[at] = s;
      if (j.ep.sum != nullptr) j.ep.sum[at] += s;
      if (j.ep.act != nullptr) j.ep.act[at] = std::max(s, 0.0f) + j.ep.slope * std::min(s, 0.0f);
    }
  }
}

// Copies the plain weights of output channels [o, o + 16) into panel f32 [kernel][c_in][16].
inline void pack_panel(const ConvJob& j, int64_t o, float* panel) {
  const int64_t n = j.p.kernel * j.p.c_in;
  for (int64_t r = 0; r < n; ++r) std::copy_n(j.w + r * j.p.c_out + o, kPanelWidth, panel + r * kPanelWidth);
}

// Input rows of the nt steps from t: rows[r * kernel + k].
inline void tile_inputs(const ConvJob& j, int64_t t, int nt, const float** rows) {
  const Conv1dParams& p = j.p;
  for (int r = 0; r < nt; ++r) {
    for (int64_t k = 0; k < p.kernel; ++k) {
      const int64_t s = (t + r) * p.stride + k * p.dilation - p.pad_left;
      rows[r * p.kernel + k] = s >= 0 && s < j.t_in ? j.x + s * p.c_in : j.zero_row;
    }
  }
}

// Output steps [t0, t1) of the job, with full tiles of kPanelWidth channels in the policy W and
// 8-channel tiles in V8.
// Loops: blocks of kBlockTiles time tiles, then output-channel tiles, then the block's time
// tiles, so one channel tile's weights stay in cache while the block's steps use them. Plain
// weights with wide rows (c_out >= kPackMinCout) are first copied, 16 channels at a time, into
// a contiguous panel used for up to kPackBlockTiles time tiles: their rows, c_out floats apart,
// map to few cache sets and evict each other, and the copy's scattered reads pay only once per
// panel and block.
template <class W, int kMaxTokens>
void conv1d_direct_range(const ConvJob& j, int64_t t0, int64_t t1) {
  const Conv1dParams& p = j.p;
  const int64_t kernel = p.kernel;
  int64_t o_start = 0;
  if (!j.packed && p.c_out >= kPackMinCout && t1 - t0 > 2 * kMaxTokens) {
    std::vector<float> panel(static_cast<size_t>(kernel * p.c_in * kPanelWidth));
    const float* rows[kMaxTokens * kMaxKernel];
    for (int64_t tb = t0; tb < t1; tb += kPackBlockTiles * kMaxTokens) {
      const int64_t te = std::min(t1, tb + kPackBlockTiles * kMaxTokens);
      for (int64_t o = 0; o + kPanelWidth <= p.c_out; o += kPanelWidth) {
        pack_panel(j, o, panel.data());
        for (int64_t t = tb; t < te; t += kMaxTokens) {
          const int nt = static_cast<int>(std::min<int64_t>(kMaxTokens, te - t));
          tile_inputs(j, t, nt, rows);
          tile_panel<W, kMaxTokens>(nt, rows, j, panel.data(), o, t);
        }
      }
    }
    o_start = p.c_out / kPanelWidth * kPanelWidth;
    if (o_start == p.c_out) return;
  }
  const float* rows[kBlockTiles][kMaxTokens * kMaxKernel];
  int counts[kBlockTiles];
  for (int64_t tb = t0; tb < t1; tb += kBlockTiles * kMaxTokens) {
    const int64_t te = std::min(t1, tb + kBlockTiles * kMaxTokens);
    int tiles = 0;
    for (int64_t t = tb; t < te; t += kMaxTokens, ++tiles) {
      counts[tiles] = static_cast<int>(std::min<int64_t>(kMaxTokens, te - t));
      tile_inputs(j, t, counts[tiles], rows[tiles]);
    }
    int64_t o = o_start;
    for (; o + kPanelWidth <= p.c_out; o += kPanelWidth) {
      for (int i = 0; i < tiles; ++i) {
        tile_rows<W, kPanelWidth / W::kLanes, kMaxTokens>(counts[i], rows[i], j, o, tb + i * kMaxTokens);
      }
    }
    for (; o + 8 <= p.c_out; o += 8) {
      for (int i = 0; i < tiles; ++i) tile_rows<V8, 1, kMaxTokens>(counts[i], rows[i], j, o, tb + i * kMaxTokens);
    }
    if (o < p.c_out) {
      for (int i = 0; i < tiles; ++i) tail_channels(counts[i], rows[i], j, o, tb + i * kMaxTokens);
    }
  }
}

}  // namespace
}  // namespace duet::rt::vocoder_tiles
