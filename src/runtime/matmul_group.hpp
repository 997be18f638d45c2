// Several matmuls that read the same input (an attention block's Q/K/V, an FFN's gate/up): the
// activations are quantized once and all the weights' row tiles form one parallel job, so a
// decoded token wakes the thread pool once per group instead of once per weight. Each output is
// exactly what matmul() gives alone. Must never allocate.
#pragma once

#include <span>

#include "runtime/matmul.hpp"

namespace duet::rt {

struct MatmulTarget {
  const WeightView* w = nullptr;
  float* y = nullptr;  // f32 [n_tokens, w->n_out]
};

// The most targets one call takes.
inline constexpr size_t kMaxMatmulGroup = 4;

// For each target: y = x * W^T, x f32 [n_tokens, n_in] shared (every W has n_in inputs). scratch:
// at least the largest matmul_scratch_bytes() of the targets. Weights whose kernels dot against
// different activation types, or float weights, are run one matmul() at a time. Throws
// duet::Error for more than kMaxMatmulGroup targets, mismatched n_in, or as matmul() does.
void matmul_group(std::span<const MatmulTarget> targets, const float* x, int64_t n_tokens,
                  std::span<uint8_t> scratch, ThreadPool* pool, Isa isa = best_isa());

}  // namespace duet::rt
