// Full (unmasked) multi-head self-attention over a whole sequence held in memory, as two GEMMs
// per head on the shared matmul (scores = Q K^T, out = softmax(scores) V) instead of one query
// row at a time: what an encoder needs (Whisper's audio encoder), where every position sees every
// other and nothing is cached. Must never allocate: the caller sizes the scratch once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace duet::rt {

class ThreadPool;

struct DenseAttentionScratch {
  // Both for all threads together: each thread's share holds a head's q, k, v^T, output and n x n
  // scores (floats), and what its GEMMs need (bytes).
  size_t floats = 0;  // f32 scratch
  size_t bytes = 0;   // matmul scratch
};

// Scratch for n positions of head_dim on `threads` threads (the pool's size, 1 without a pool).
DenseAttentionScratch dense_attention_scratch(int64_t n, int64_t head_dim, int threads = 1);

// out f32 [n, n_head, head_dim] = softmax(scale * q k^T) v per head, for q, k, v f32
// [n, n_head, head_dim]; scale 0 means 1 / sqrt(head_dim). Throws duet::Error for a short scratch.
void dense_attention(const float* q, const float* k, const float* v, int64_t n, int64_t n_head,
                     int64_t head_dim, float scale, float* out, std::span<float> scratch,
                     std::span<uint8_t> mm_scratch, ThreadPool* pool);

}  // namespace duet::rt
