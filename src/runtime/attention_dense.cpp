// Dense self-attention as GEMMs: each head's q, k and v are gathered into contiguous blocks (k as
// the "weights" of the score GEMM, v transposed as those of the output GEMM), so both products
// run on the packed float GEMM that the linear layers use. With a pool, whole heads go to the
// threads. Must never allocate, nor let two threads share a scratch region.
#include "runtime/attention_dense.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "runtime/matmul.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {

namespace {

struct HeadShape {
  int64_t n, n_head, head_dim;
  float scale;
};

// One head h: gathers its q (scaled), k and v^T into `region` (4 n head_dim + n^2 floats), scores
// = q k^T, row softmax, out = p v, scattered back into out. `pool` parallelises its GEMMs and
// softmax (null when the heads themselves are spread over the threads).
void one_head(const float* q, const float* k, const float* v, const HeadShape& s, int64_t h,
              float* out, float* region, std::span<uint8_t> mm, ThreadPool* pool) {
  const int64_t n = s.n, hd = s.head_dim;
  const int64_t row = s.n_head * hd;  // stride between positions
  const int64_t off = h * hd;
  const size_t block = static_cast<size_t>(n * hd);
  float* qh = region;
  float* kh = qh + block;
  float* vt = kh + block;  // [head_dim, n]
  float* oh = vt + block;
  float* scores = oh + block;  // [n, n]
  for (int64_t t = 0; t < n; ++t) {
    const float* qs = q + t * row + off;
    const float* ks = k + t * row + off;
    const float* vs = v + t * row + off;
    float* qd = qh + t * hd;
    float* kd = kh + t * hd;
    for (int64_t j = 0; j < hd; ++j) {
      qd[j] = qs[j] * s.scale;
      kd[j] = ks[j];
      vt[j * n + t] = vs[j];
    }
  }
  // scores[i][j] = q_i . k_j: the keys are the weight rows.
  matmul(WeightView::of(DType::F32, hd, n, kh), qh, n, scores, mm, pool);
  const auto softmax_rows = [&](int64_t b, int64_t e, int) {
    softmax(scores + b * n, scores + b * n, e - b, n);
  };
  if (pool) {
    pool->parallel_for(n, softmax_rows);
  } else {
    softmax_rows(0, n, 0);
  }
  // out_i = sum_j p_ij v_j: the transposed values are the weight rows.
  matmul(WeightView::of(DType::F32, n, hd, vt), scores, n, oh, mm, pool);
  for (int64_t t = 0; t < n; ++t) std::copy_n(oh + t * hd, hd, out + t * row + off);
}

}  // namespace

DenseAttentionScratch dense_attention_scratch(int64_t n, int64_t head_dim, int threads) {
  const auto per_thread = static_cast<size_t>(std::max(1, threads));
  DenseAttentionScratch s;
  s.floats = per_thread * static_cast<size_t>(4 * n * head_dim + n * n);
  s.bytes = per_thread * std::max(matmul_scratch_bytes(DType::F32, head_dim, n),
                                  matmul_scratch_bytes(DType::F32, n, n));
  return s;
}

void dense_attention(const float* q, const float* k, const float* v, int64_t n, int64_t n_head,
                     int64_t head_dim, float scale, float* out, std::span<float> scratch,
                     std::span<uint8_t> mm_scratch, ThreadPool* pool) {
  if (n <= 0 || n_head <= 0 || head_dim <= 0) return;
  const int threads = pool ? pool->size() : 1;
  const DenseAttentionScratch need = dense_attention_scratch(n, head_dim, threads);
  if (scratch.size() < need.floats || mm_scratch.size() < need.bytes) {
    fail("dense attention over {} positions needs {} floats and {} bytes of scratch on {} threads, "
         "got {} and {}", n, need.floats, need.bytes, threads, scratch.size(), mm_scratch.size());
  }
  if (scale == 0.0f) scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const HeadShape shape{n, n_head, head_dim, scale};
  const size_t floats = need.floats / static_cast<size_t>(threads);
  const size_t bytes = need.bytes / static_cast<size_t>(threads);
  if (!pool || threads == 1 || n_head == 1) {
    for (int64_t h = 0; h < n_head; ++h) {
      one_head(q, k, v, shape, h, out, scratch.data(), mm_scratch.first(bytes), pool);
    }
    return;
  }
  // Whole heads per thread, each with its own scratch: the gathers, the softmax and both GEMMs
  // of a head then run without a join between them (the same arithmetic, so the same bits).
  pool->parallel_for(n_head, [&](int64_t b, int64_t e, int t) {
    float* region = scratch.data() + static_cast<size_t>(t) * floats;
    const auto mm = mm_scratch.subspan(static_cast<size_t>(t) * bytes, bytes);
    for (int64_t h = b; h < e; ++h) one_head(q, k, v, shape, h, out, region, mm, nullptr);
  });
}

}  // namespace duet::rt
