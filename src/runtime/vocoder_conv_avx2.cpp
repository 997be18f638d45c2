// AVX2/FMA build of conv1d_direct's kernel (vocoder_conv_tiles.hpp): 8-lane vectors, tiles of up
// to 6 time steps x 16 output channels (two ymm per step). Must never be called on a CPU without
// AVX2/FMA.
#include <immintrin.h>

#include <cstdint>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "runtime/vocoder_conv_tiles.hpp"

namespace duet::rt::vocoder_avx2 {

void conv1d_direct_range(const vocoder_impl::ConvJob& j, int64_t t0, int64_t t1) {
  vocoder_tiles::conv1d_direct_range<vocoder_tiles::V8, kTileSteps>(j, t0, t1);
}

}  // namespace duet::rt::vocoder_avx2

#pragma GCC pop_options
