// Attention of one query head over an F16 KV cache with llama.cpp's CPU rounding and summation
// order: the query and the probabilities are rounded to F16, dot products run in four 8-lane FMA
// accumulators over 32-element chunks reduced in a fixed tree, exp is the same polynomial, and the
// softmax sum adds 8-lane block sums (blocks aligned at cache position 0) in double. Two engines
// that agree this closely make greedy decoding comparable token for token. Must never read key
// rows outside [lo, hi); values outside it may be loaded only within [lo, hi)'s two edge chunks
// (kKvVChunk), and are masked so they never count.
#pragma once

#include <cstdint>

#include "runtime/attention.hpp"

namespace duet::rt {

// Query heads attended together (they share a kv head, so its rows are read once for all).
inline constexpr int kMaxHeadsAtOnce = 4;

// For each of n_heads (1..kMaxHeadsAtOnce) query heads h sharing kv head `g`:
// out f32 [h * head_dim, +head_dim) = softmax(scale * q_h.K[lo..hi)) . V[lo..hi), q f32
// [n_heads, head_dim]; s: scratch, head h's floats at s + h * s_stride, s_stride >= hi - lo +
// 2 * kKvVChunk (room to pad the probabilities out to whole value chunks). head_dim <= 1024.
// Each head's result is exactly what it would be alone.
void attend_f16_ordered(const float* q, int n_heads, const KvLayer& kv, int64_t g, int64_t lo,
                        int64_t hi, float scale, float softcap, float* out, float* s, size_t s_stride);

}  // namespace duet::rt
