// Internal to src/runtime: the packed, cache-blocked GEMM that matmul() uses for float weights
// (F32/F16/BF16) times f32 activations once there are enough tokens to amortize packing.
// The output is cut into items of (a block of up to kGemmTokenBlock tokens) x (a panel of
// kGemmPanel output features); for each kGemmDepth-deep slice of the inputs, an item converts its
// weight panel to f32 in a per-thread buffer ([k][kGemmPanel], L1-resident) and runs an
// outer-product broadcast-FMA micro-kernel of 6 tokens x 16 outputs over its tokens. Each output
// element belongs to exactly one item, so the thread count never changes a bit of the result.
// Must never allocate, and never run on a CPU without AVX2/FMA/F16C (matmul() checks the Isa).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/matmul.hpp"

namespace duet::rt {

inline constexpr int kGemmPanel = 16;           // output features per micro-kernel (2 ymm)
inline constexpr int kGemmTokens = 6;           // tokens per AVX2 micro-kernel (12 accumulators)
inline constexpr int kGemmTokensAvx512 = 12;    // tokens per AVX-512 micro-kernel (12 zmm)
inline constexpr int64_t kGemmDepth = 256;      // inputs per packed slice (16 KiB of f32 panel)
inline constexpr int64_t kGemmTokenBlock = 120;  // tokens per item, at most (x slice stays in L2)
inline constexpr int64_t kGemmMinTokens = 24;   // fewer tokens: the tile kernels win
inline constexpr int kGemmMaxThreads = 32;      // per-thread panel buffers held in the scratch

// True when matmul() should take the packed GEMM for these weights, ISA and token count.
bool gemm_float_applies(DType w_type, Isa isa, int64_t n_tokens);

// Scratch bytes gemm_float() needs for rows of n_in inputs (one panel buffer per thread).
size_t gemm_float_scratch_bytes(int64_t n_in);

// y = x * W^T through the packed GEMM. Requires float weights, an AVX2 CPU (and AVX-512 for that
// micro-kernel) and a pool of at most kGemmMaxThreads threads (or none); throws duet::Error
// otherwise or when scratch is short. Both micro-kernels give bit-identical results.
void gemm_float(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                std::span<uint8_t> scratch, ThreadPool* pool, MicroKernel kernel = best_micro_kernel());

namespace kern {
// Runs items [item_begin, item_end) of the packing scheme above (item = token_block * n_panels +
// panel; token blocks of mc tokens, a multiple of the micro-kernel's tokens) with `panel` as the
// thread's 64-byte-aligned buffer of kGemmPanel * min(n_in, kGemmDepth) floats. Defined in
// gemm_float_avx2.cpp, which packs the panels for either micro-kernel.
void gemm_float_avx2_items(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                           int64_t mc, int64_t item_begin, int64_t item_end, float* panel, MicroKernel kernel);
// y[r * ys + o] (+)= sum_k x[r * xs + k] * panel[k * 16 + o] for r < m (1..12), o < nr. Defined in
// gemm_float_avx512.cpp.
void gemm_float_micro_avx512(int64_t kc, const float* x, size_t xs, int m, const float* panel, float* y,
                             size_t ys, int nr, bool accumulate);
}  // namespace kern

}  // namespace duet::rt
