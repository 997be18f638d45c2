// Matrix multiplication against GGUF weights of any supported type:
// y f32 [n_tokens, n_out] = x f32 [n_tokens, n_in] * W^T, W stored as n_out rows of n_in elements
// (GGUF ne0 = n_in, ne1 = n_out). Float weights (F32/F16/BF16) with at least kGemmMinTokens tokens
// go through a packed, cache-blocked GEMM (gemm_float.hpp); otherwise activations are quantized
// once into caller scratch, output rows are split across the thread pool, and each weight tile is
// reused across a few tokens. Quantized weights give every token the same bits whatever the batch;
// float weights do only below kGemmMinTokens tokens (the packed GEMM sums in another order, so a
// token in a large batch can differ from the same token alone in the last bits).
// Must never allocate: callers size the scratch with matmul_scratch_bytes() once, up front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/dtype.hpp"
#include "runtime/gguf.hpp"
#include "runtime/quants.hpp"

namespace duet::rt {

class ThreadPool;
struct Int16Panels;
struct Int8Panels;

// A 2-D weight matrix: n_out rows, each n_in elements of `type` (row_bytes bytes), contiguous.
struct WeightView {
  DType type = DType::F32;
  int64_t n_in = 0;               // ne0: elements per row (input features)
  int64_t n_out = 0;              // ne1: rows (output features)
  const uint8_t* data = nullptr;  // type [n_out, n_in], row r at data + r * row_bytes
  size_t row_bytes = 0;
  // The same weights packed for the integer GEMM (gemm_int16.hpp) by the model that owns them;
  // matmul() takes that path for enough tokens when set. Null: the float or quantized kernels.
  const Int16Panels* int16 = nullptr;
  // Or packed for the 8-bit integer GEMM (gemm_int8.hpp, AVX-512 VNNI CPUs only), which matmul()
  // then takes first.
  const Int8Panels* int8 = nullptr;

  // From a GGUF tensor (2-D, or 1 row); throws duet::Error for tensors of more dimensions.
  static WeightView of(const TensorInfo& t);
  static WeightView of(DType type, int64_t n_in, int64_t n_out, const void* data);
};

// Bytes of scratch matmul() needs for this weight type and activation shape (0 for float weights
// below kGemmMinTokens tokens; the packed GEMM's per-thread panel buffers above).
size_t matmul_scratch_bytes(DType w_type, int64_t n_in, int64_t n_tokens);
// The same for these weights, counting the integer GEMMs' needs when w.int16 or w.int8 is set.
size_t matmul_scratch_bytes(const WeightView& w, int64_t n_tokens);

// y = x * W^T. x: f32 [n_tokens, n_in] (rows contiguous); y: f32 [n_tokens, n_out]; scratch at
// least matmul_scratch_bytes(w.type, w.n_in, n_tokens) bytes. pool may be null (one thread).
// Throws duet::Error for weight types without kernels or a short scratch.
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y,
            std::span<uint8_t> scratch, ThreadPool* pool, Isa isa = best_isa());

// matmul() without the packed float GEMM: the tile kernels at every token count. For benchmarks
// and tests that compare the two paths; same contract as matmul().
void matmul_tiles(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                  std::span<uint8_t> scratch, ThreadPool* pool, Isa isa = best_isa());

// Internal to src/runtime (the packed GEMMs): how many tokens an item covers when n_tokens (> 0)
// are cut into near-equal blocks of at most max_block, rounded up to whole micro-kernels of
// `micro` tokens.
int64_t token_block(int64_t n_tokens, int64_t max_block, int64_t micro);

// Internal to src/runtime (matmul, matmul_group): x f32 [n_tokens, n_in] converted to rows of
// `act` (dtype_row_bytes(act, n_in) apart) at the first 64-byte-aligned byte of scratch, split
// over the pool for 8 tokens or more; returns where they start. Throws duet::Error for a short
// scratch (matmul_scratch_bytes sizes it).
const uint8_t* quantize_activations(DType act, Isa isa, const float* x, int64_t n_in, int64_t n_tokens,
                                    std::span<uint8_t> scratch, ThreadPool* pool);

// Internal to src/runtime (matmul, matmul_group): row tiles [tile_begin, tile_end) of w (t.tile_rows
// rows each) times all n_tokens activation rows (a_stride bytes apart) into y [n_tokens, w.n_out]:
// through t.gemm_rows in one call when the type has it and there are more tokens than one tile
// takes (each weight row decoded once for all of them; the same bits as the tiles), else tile by
// tile, every token group against one row tile before the next.
void run_row_tiles(const QuantTraits& t, const WeightView& w, int64_t tile_begin, int64_t tile_end,
                   const uint8_t* a, size_t a_stride, int64_t n_tokens, float* y);

}  // namespace duet::rt
