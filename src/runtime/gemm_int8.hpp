// The 8-bit integer GEMM that matmul() uses, on CPUs with AVX-512 VNNI, for weights a model packed
// for it (Int8Panels) once there are enough tokens: weights quantized once, at load, to int8 per
// output row, activations per token row to int8 stored with a +128 offset (unsigned bytes), and
// multiplied with vpdpbusd (four byte products summed into each int32 lane: twice the multiplies
// of the int16 GEMM's vpdpwssd per instruction) in a 12 tokens x 16 outputs micro-kernel. The
// offset is taken back exactly with each output row's weight sum, and a whole row sums in int32
// (kInt8MaxInputs * 255 * 127 < 2^31), so the only roundings are the two quantizations and the
// f32 scaling. Each output element belongs to exactly one item, so the thread count never changes
// a bit of the result. Its results differ from the int16 GEMM's (coarser activations): a model
// chooses per weight which one it packs (gemm_int8_available() says whether this one can run).
// Must never allocate while multiplying, and never run on a CPU without AVX-512 VNNI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "runtime/matmul.hpp"
#include "runtime/zeroed_pages.hpp"

namespace duet::rt {

inline constexpr int kInt8Panel = 16;              // output features per micro-kernel (one zmm)
inline constexpr int kInt8Tokens = 12;             // tokens per micro-kernel (12 zmm accumulators)
inline constexpr int64_t kInt8TokenBlock = 120;    // tokens per item, at most
inline constexpr int64_t kInt8MinTokens = 24;      // fewer tokens: the float kernels serve
inline constexpr int32_t kInt8ActMax = 127;        // |quantized activation| <= this (stored + 128)
inline constexpr int32_t kInt8WeightMax = 127;     // |quantized weight| <= this
inline constexpr int32_t kInt8Offset = 128;        // added to activations to make them unsigned
inline constexpr int64_t kInt8MaxInputs = 65536;   // inputs per row the int32 sums allow
static_assert(kInt8MaxInputs * (kInt8Offset + kInt8ActMax) * kInt8WeightMax < (int64_t{1} << 31));

// Weights [n_out, n_in] quantized per output row (w ~ q * scale[row]) and laid out for the
// micro-kernel: panel p (outputs 16p..16p+15, zero rows past n_out) holds, for each group j of 4
// inputs, 64 int8 values (output c, input 4j + h) at j * 64 + c * 4 + h; inputs past n_in are 0.
// offset[o] = kInt8Offset * sum of row o's quantized weights: what the activations' offset adds.
struct Int8Panels {
  int64_t n_in = 0, n_out = 0;
  int64_t n_in_pad = 0;  // n_in rounded up to a group of 4
  int64_t n_panels = 0;
  ZeroedPages data;                  // int8 [n_panels, n_in_pad / 4, 16, 4], page aligned
  std::unique_ptr<float[]> scale;    // [n_panels * 16], 0 past n_out
  std::unique_ptr<int32_t[]> offset; // [n_panels * 16], 0 past n_out

  const int8_t* panel(int64_t p) const {
    return reinterpret_cast<const int8_t*>(data.data()) + p * n_in_pad * kInt8Panel;
  }
  int8_t* panel(int64_t p) { return reinterpret_cast<int8_t*>(data.data()) + p * n_in_pad * kInt8Panel; }
};

// True when this process can run the 8-bit GEMM: the CPU has AVX-512 VNNI and the AVX-512
// micro-kernels are in use (best_micro_kernel(); DUET_NO_AVX512 turns both off).
bool gemm_int8_available();

// Quantizes and packs float or quantized weights of any type Duet reads (allocates; at load).
// Throws duet::Error for types it cannot read, non-finite weights or rows longer than
// kInt8MaxInputs.
std::shared_ptr<const Int8Panels> pack_int8_panels(const WeightView& w);

// True when matmul() should take the 8-bit GEMM for these weights, ISA and token count.
bool gemm_int8_applies(const WeightView& w, Isa isa, int64_t n_tokens);

// Scratch bytes gemm_int8() needs: the quantized activations and their scales.
size_t gemm_int8_scratch_bytes(int64_t n_in, int64_t n_tokens);

// y = x * W^T through the 8-bit GEMM (w.int8 must be set). Non-finite activations count as 0.
// Throws duet::Error on a CPU without AVX-512 VNNI or when scratch is short.
void gemm_int8(const WeightView& w, const float* x, int64_t n_tokens, float* y, std::span<uint8_t> scratch,
               ThreadPool* pool);

namespace kern {
// Defined in gemm_int8_avx512.cpp. Rows [t0, t1) of x quantized: q[t * n_in_pad + k] (offset
// bytes, 128 past n_in), scale[t].
void int8_quantize_rows_avx512(const float* x, int64_t n_in, int64_t n_in_pad, int64_t t0, int64_t t1, uint8_t* q,
                               float* scale);
// Items [item_begin, item_end) (item = token_block * n_panels + panel; blocks of mc tokens).
void gemm_int8_avx512_items(const Int8Panels& w, const uint8_t* q, const float* q_scale, int64_t n_tokens, float* y,
                            int64_t mc, int64_t item_begin, int64_t item_end);
}  // namespace kern

}  // namespace duet::rt
