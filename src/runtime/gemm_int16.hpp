// The integer GEMM that matmul() uses for weights a model packed for it (Int16Panels) once there
// are enough tokens: weights quantized once, at load, to 12-bit integers per output row, and
// activations per token row to 14-bit integers, multiplied with vpmaddwd (two int16 products
// summed into an int32 lane: twice the multiplies per instruction of a float FMA, and this CPU
// issues two per cycle) in a 6 tokens x 16 outputs micro-kernel. Each kInt16Depth-deep slice of
// the inputs is summed exactly in int32 and scaled into the f32 output, so no sum can overflow:
// kInt16Depth * kInt16ActMax * kInt16WeightMax < 2^31. Each output element belongs to exactly one
// item, so the thread count never changes a bit of the result.
// Must never allocate while multiplying, and never run on a CPU without AVX2 (matmul() checks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "runtime/matmul.hpp"
#include "runtime/zeroed_pages.hpp"

namespace duet::rt {

inline constexpr int kInt16Panel = 16;             // output features per micro-kernel (2 ymm)
inline constexpr int kInt16Tokens = 6;             // tokens per AVX2 micro-kernel (12 accumulators)
inline constexpr int kInt16TokensAvx512 = 12;      // tokens per AVX-512 micro-kernel (12 zmm)
inline constexpr int64_t kInt16Depth = 128;        // inputs summed in int32 before scaling
inline constexpr int64_t kInt16TokenBlock = 120;   // tokens per item, at most
inline constexpr int64_t kInt16MinTokens = 24;     // fewer tokens: the float kernels serve
inline constexpr int32_t kInt16ActMax = 8191;      // |quantized activation| <= this
inline constexpr int32_t kInt16WeightMax = 2047;   // |quantized weight| <= this
static_assert(kInt16Depth * kInt16ActMax * kInt16WeightMax < (int64_t{1} << 31));

// Weights [n_out, n_in] quantized per output row (w ~ q * scale[row]) and laid out for the
// micro-kernel: panel p (outputs 16p..16p+15, zero rows past n_out) holds, for each input pair j,
// 32 int16 values (output c, input 2j + h) at j * 32 + c * 2 + h; inputs past n_in are zero.
struct Int16Panels {
  int64_t n_in = 0, n_out = 0;
  int64_t n_in_even = 0;  // n_in rounded up to a pair
  int64_t n_panels = 0;
  ZeroedPages data;                // int16 [n_panels, n_in_even / 2, 16, 2], page aligned
  std::unique_ptr<float[]> scale;  // [n_panels * 16], 0 past n_out

  const int16_t* panel(int64_t p) const {
    return reinterpret_cast<const int16_t*>(data.data()) + p * n_in_even * kInt16Panel;
  }
  int16_t* panel(int64_t p) {
    return reinterpret_cast<int16_t*>(data.data()) + p * n_in_even * kInt16Panel;
  }
};

// Quantizes and packs float or quantized weights of any type Duet reads (allocates; at load).
// Throws duet::Error for types it cannot read or non-finite weights.
std::shared_ptr<const Int16Panels> pack_int16_panels(const WeightView& w);

// True when matmul() should take the integer GEMM for these weights, ISA and token count.
bool gemm_int16_applies(const WeightView& w, Isa isa, int64_t n_tokens);

// Scratch bytes gemm_int16() needs: the quantized activations and their scales.
size_t gemm_int16_scratch_bytes(int64_t n_in, int64_t n_tokens);

// y = x * W^T through the integer GEMM (w.int16 must be set). Non-finite activations count as 0.
// Both micro-kernels give bit-identical results. Throws duet::Error on a CPU without AVX2 (or
// without AVX-512 when that kernel is asked for) or when scratch is short.
void gemm_int16(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                std::span<uint8_t> scratch, ThreadPool* pool, MicroKernel kernel = best_micro_kernel());

namespace kern {
// Defined in gemm_int16_avx2.cpp. Rows [t0, t1) of x quantized: q[t * n_in_even + k], scale[t].
void int16_quantize_rows_avx2(const float* x, int64_t n_in, int64_t n_in_even, int64_t t0, int64_t t1,
                              int16_t* q, float* scale);
// y[r * ys + o] (+)= sa[r] * sw[o] * sum_j <q_r[2j..2j+1], panel[j][o]> for r < m, o < nr, over
// np input pairs of the activation rows q (qs apart); m is 1..kInt16Tokens for the AVX2
// micro-kernel (gemm_int16_avx2.cpp) and 1..kInt16TokensAvx512 for the AVX-512 VNNI one
// (gemm_int16_avx512.cpp). Both give the same bits.
void int16_micro_avx2(int64_t np, const int16_t* q, size_t qs, int m, const int16_t* panel, const float* sa,
                      const float* sw, float* y, size_t ys, int nr, bool accumulate);
void int16_micro_avx512(int64_t np, const int16_t* q, size_t qs, int m, const int16_t* panel, const float* sa,
                        const float* sw, float* y, size_t ys, int nr, bool accumulate);
}  // namespace kern

}  // namespace duet::rt
