// Attention of one query head over an F16 KV cache with llama.cpp's CPU rounding and summation
// order: the query and the probabilities are rounded to F16, dot products run in four 8-lane FMA
// accumulators over 32-element chunks reduced in a fixed tree, exp is the same polynomial, and the
// softmax sum adds 8-lane block sums (blocks aligned at cache position 0) in double. Two engines
// that agree this closely make greedy decoding comparable token for token. Must never read cache
// rows outside [lo, hi).
#pragma once

#include <cstdint>

#include "runtime/attention.hpp"

namespace duet::rt {

// out f32 [head_dim] = softmax(scale * q.K[lo..hi)) . V[lo..hi) for kv head `g`; q f32 [head_dim];
// s: scratch of at least hi - lo floats. head_dim <= 1024.
void attend_f16_ordered(const float* q, const KvLayer& kv, int64_t g, int64_t lo, int64_t hi,
                        float scale, float softcap, float* out, float* s);

}  // namespace duet::rt
