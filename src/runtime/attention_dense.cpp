// Dense self-attention as GEMMs: each head's q, k and v are gathered into contiguous blocks (k as
// the "weights" of the score GEMM, v transposed as those of the output GEMM), so both products
// run on the packed float GEMM that the linear layers use.
#include "runtime/attention_dense.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "runtime/matmul.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {

DenseAttentionScratch dense_attention_scratch(int64_t n, int64_t head_dim) {
  DenseAttentionScratch s;
  s.floats = static_cast<size_t>(4 * n * head_dim + n * n);
  s.bytes = std::max(matmul_scratch_bytes(DType::F32, head_dim, n), matmul_scratch_bytes(DType::F32, n, n));
  return s;
}

void dense_attention(const float* q, const float* k, const float* v, int64_t n, int64_t n_head,
                     int64_t head_dim, float scale, float* out, std::span<float> scratch,
                     std::span<uint8_t> mm_scratch, ThreadPool* pool) {
  if (n <= 0 || n_head <= 0 || head_dim <= 0) return;
  const DenseAttentionScratch need = dense_attention_scratch(n, head_dim);
  if (scratch.size() < need.floats || mm_scratch.size() < need.bytes) {
    fail("dense attention over {} positions needs {} floats and {} bytes of scratch, got {} and {}",
         n, need.floats, need.bytes, scratch.size(), mm_scratch.size());
  }
  if (scale == 0.0f) scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t row = n_head * head_dim;  // stride between positions
  const size_t block = static_cast<size_t>(n * head_dim);
  float* qh = scratch.data();
  float* kh = qh + block;
  float* vt = kh + block;  // [head_dim, n]
  float* oh = vt + block;
  float* scores = oh + block;  // [n, n]
  for (int64_t h = 0; h < n_head; ++h) {
    const int64_t off = h * head_dim;
    for (int64_t t = 0; t < n; ++t) {
      const float* qs = q + t * row + off;
      const float* ks = k + t * row + off;
      const float* vs = v + t * row + off;
      float* qd = qh + t * head_dim;
      float* kd = kh + t * head_dim;
      for (int64_t j = 0; j < head_dim; ++j) {
        qd[j] = qs[j] * scale;
        kd[j] = ks[j];
        vt[j * n + t] = vs[j];
      }
    }
    // scores[i][j] = q_i . k_j: the keys are the weight rows.
    matmul(WeightView::of(DType::F32, head_dim, n, kh), qh, n, scores, mm_scratch, pool);
    const auto softmax_rows = [&](int64_t b, int64_t e, int) {
      softmax(scores + b * n, scores + b * n, e - b, n);
    };
    if (pool) {
      pool->parallel_for(n, softmax_rows);
    } else {
      softmax_rows(0, n, 0);
    }
    // out_i = sum_j p_ij v_j: the transposed values are the weight rows.
    matmul(WeightView::of(DType::F32, n, head_dim, vt), scores, n, oh, mm_scratch, pool);
    for (int64_t t = 0; t < n; ++t) {
      std::copy_n(oh + t * head_dim, head_dim, out + t * row + off);
    }
  }
}

}  // namespace duet::rt
