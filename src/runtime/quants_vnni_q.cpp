// The AVX-512 VNNI build of the 32-element block kernels (quants_q32_kernels.hpp): their byte dot
// products are one vpdpbusd each instead of vpmaddubsw + vpmaddwd, with the same exact sums, so
// its results are bit-identical to the AVX2 build's. Only the dot and GEMM slots; the activation
// quantizers stay AVX2's. Must never be called on a CPU without AVX-512 F/BW/VL/VNNI
// (quant_traits() guards this).
#include <immintrin.h>

#include "runtime/quants_impl.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")
#define DUET_AVX2_REGION 1
#define DUET_VNNI_REGION 1
#include "runtime/avx2_common.hpp"
#include "runtime/quants_q32_kernels.hpp"

namespace duet::rt::kern {

void vnni_fill_q32(QuantTraits& t) { avx2::fill_q32_kernels(t); }

}  // namespace duet::rt::kern

#pragma GCC pop_options
