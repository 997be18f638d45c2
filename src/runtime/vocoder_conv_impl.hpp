// Internal to the vocoder ops (vocoder_ops.cpp and its AVX2 and AVX-512 kernels): one direct-convolution job
// and where its weights for a tile of output channels lie, in conv1d_direct's plain layout or
// conv1d_pack's panels. Must never be included outside src/runtime/vocoder_*.
#pragma once

#include <cstdint>

#include "runtime/conv1d.hpp"
#include "runtime/vocoder_ops.hpp"

namespace duet::rt::vocoder_impl {

struct ConvJob {
  const float* x = nullptr;  // f32 [t_in, c_in]
  int64_t t_in = 0;
  const float* w = nullptr;  // plain [kernel][c_in][c_out] or packed (conv1d_pack)
  bool packed = false;
  const float* b = nullptr;
  Conv1dParams p;
  float* y = nullptr;
  int64_t y_stride = 0;  // floats between rows of y, ep.residual and ep.act
  const float* zero_row = nullptr;  // c_in zeros, read for padded positions
  ConvEpilogue ep;

  // Panel width of output channel o in the packed layout (16, or 8 for the last panel).
  int64_t panel_width(int64_t o) const { return o < p.c_out / 16 * 16 ? 16 : 8; }
  // The weight of (k, i, o) is at tile_base(o0) + k * k_stride(w) + i * i_stride(w) + (o - o0)
  // for o in the tile of `width` channels starting at o0 (a panel start when packed).
  const float* tile_base(int64_t o0) const { return packed ? w + o0 * p.kernel * p.c_in : w + o0; }
  int64_t k_stride(int64_t width) const { return packed ? p.c_in * width : p.c_in * p.c_out; }
  int64_t i_stride(int64_t width) const { return packed ? width : p.c_out; }
};

}  // namespace duet::rt::vocoder_impl

namespace duet::rt::vocoder_avx2 {
inline constexpr int kTileSteps = 6;  // time steps per tile: split work in multiples of it
// Output steps [t0, t1) of the job. Must never be called on a CPU without AVX2/FMA.
void conv1d_direct_range(const vocoder_impl::ConvJob& j, int64_t t0, int64_t t1);
}  // namespace duet::rt::vocoder_avx2

namespace duet::rt::vocoder_avx512 {
inline constexpr int kTileSteps = 8;  // time steps per tile
// The same results as vocoder_avx2's, bit for bit. Must never be called on a CPU without
// AVX-512F/VL.
void conv1d_direct_range(const vocoder_impl::ConvJob& j, int64_t t0, int64_t t1);
}  // namespace duet::rt::vocoder_avx512
