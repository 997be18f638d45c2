// Attention over a KV cache: for each (token, head) pair, scores over the visible key rows, optional
// soft-cap, softmax, then the weighted sum of value rows; pairs are split over the thread pool, each
// thread using its own slice of the caller's scratch. Must never read cache rows at or past n_kv or
// outside the layer's n_ctx.
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "runtime/attention.hpp"
#include "runtime/attention_f16.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/vec_math.hpp"

namespace duet::rt {
namespace {

// Room past n_kv in each head's score slice: the F16 path pads the probabilities with zeros out
// to whole value chunks on both sides (up to 2 x 31 floats).
constexpr int64_t kScratchPad = 80;
constexpr int64_t kMaxHeadDim = 1024;  // floats between thread slices (keeps them off shared lines)
constexpr int64_t kMinParallelWork = 1 << 15;

size_t elem_bytes(DType t) { return t == DType::F16 ? 2 : 4; }

}  // namespace

KvCache::KvCache(int n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, DType type)
    : n_layer_(n_layer), n_ctx_(n_ctx), n_head_kv_(n_head_kv), head_dim_(head_dim), type_(type) {
  if (type != DType::F16 && type != DType::F32) fail("KV cache type must be F16 or F32");
  if (n_layer <= 0 || n_ctx <= 0 || n_head_kv <= 0 || head_dim <= 0) fail("KV cache: bad shape");
  layer_bytes_ = static_cast<size_t>(n_ctx * n_head_kv * head_dim) * elem_bytes(type);
  const int64_t v_positions = type == DType::F16 ? (n_ctx + kKvVChunk - 1) / kKvVChunk * kKvVChunk : n_ctx;
  v_layer_bytes_ = static_cast<size_t>(v_positions * n_head_kv * head_dim) * elem_bytes(type);
  k_ = ZeroedPages(layer_bytes_ * static_cast<size_t>(n_layer));
  v_ = ZeroedPages(v_layer_bytes_ * static_cast<size_t>(n_layer));
}

KvLayer KvCache::layer(int i) {
  if (i < 0 || i >= n_layer_) fail("KV cache: layer {} of {}", i, n_layer_);
  KvLayer l;
  l.type = type_;
  l.n_ctx = n_ctx_;
  l.n_head_kv = n_head_kv_;
  l.head_dim = head_dim_;
  l.k = k_.data() + layer_bytes_ * static_cast<size_t>(i);
  l.v = v_.data() + v_layer_bytes_ * static_cast<size_t>(i);
  return l;
}

void kv_store(const KvLayer& kv, int64_t pos, const float* k, const float* v, int64_t n_tokens) {
  if (pos < 0 || n_tokens < 0 || pos + n_tokens > kv.n_ctx) {
    fail("KV cache full: rows [{}, {}) do not fit in {} positions", pos, pos + n_tokens, kv.n_ctx);
  }
  const int64_t row = kv.n_head_kv * kv.head_dim;
  const int64_t n = row * n_tokens;
  if (kv.type == DType::F16) {
    const QuantTraits* t = quant_traits(DType::F16);
    t->from_float(k, static_cast<uint16_t*>(kv.k) + pos * row, n);
    // Values: converted a slice at a time, then scattered into the transposed chunks.
    auto* v16 = static_cast<uint16_t*>(kv.v);
    constexpr int64_t kSlice = 256;
    uint16_t tmp[kSlice];
    for (int64_t i = 0; i < n_tokens; ++i) {
      for (int64_t e0 = 0; e0 < row; e0 += kSlice) {
        const int64_t ne = std::min(kSlice, row - e0);
        t->from_float(v + i * row + e0, tmp, ne);
        uint16_t* dst = v16 + kv_v16_index(pos + i, e0, row);
        for (int64_t e = 0; e < ne; ++e) dst[e * kKvVChunk] = tmp[e];
      }
    }
  } else {
    std::copy(k, k + n, static_cast<float*>(kv.k) + pos * row);
    std::copy(v, v + n, static_cast<float*>(kv.v) + pos * row);
  }
}

size_t attention_scratch_floats(int64_t n_kv, int n_threads) {
  return static_cast<size_t>((n_kv + kScratchPad) * kMaxHeadsAtOnce * std::max(n_threads, 1));
}

void attention(const float* q, int64_t n_tokens, const KvLayer& kv, int64_t n_past, int64_t n_kv,
               const AttentionParams& p, float* out, std::span<float> scratch, ThreadPool* pool) {
  const int64_t hd = p.head_dim;
  if (p.n_head <= 0 || p.n_head_kv <= 0 || p.n_head % p.n_head_kv != 0) {
    fail("attention: n_head {} is not a multiple of n_head_kv {}", p.n_head, p.n_head_kv);
  }
  if (kv.n_head_kv != p.n_head_kv || kv.head_dim != hd) fail("attention: cache shape mismatch");
  if (hd > kMaxHeadDim) fail("attention: head size {} exceeds {}", hd, kMaxHeadDim);
  if (kv.type != DType::F16 && kv.type != DType::F32) fail("attention: cache type must be F16/F32");
  if (n_kv < 0 || n_kv > kv.n_ctx) fail("attention: n_kv {} outside the cache ({})", n_kv, kv.n_ctx);
  const int n_threads = pool ? pool->size() : 1;
  if (scratch.size() < attention_scratch_floats(n_kv, n_threads)) fail("attention: scratch too small");

  const VecKernels& vk = vec_kernels();
  const float scale = p.scale != 0.0f ? p.scale : 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t group = p.n_head / p.n_head_kv;
  const int64_t row = p.n_head_kv * hd;  // elements per cache position
  const bool f16 = kv.type == DType::F16;

  auto work = [&](int64_t begin, int64_t end, int thread) {
    const auto s_stride = static_cast<size_t>(n_kv + kScratchPad);
    float* s = scratch.data() + static_cast<size_t>(thread) * s_stride * kMaxHeadsAtOnce;
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / p.n_head, h = item % p.n_head, g = h / group;
      const float* qv = q + item * hd;
      float* o = out + item * hd;
      const int64_t qpos = n_past + t;
      int64_t lo = 0, hi = n_kv;
      if (p.causal) hi = std::min(n_kv, qpos + 1);
      if (p.sliding_window > 0) lo = std::max<int64_t>(0, qpos - p.sliding_window + 1);
      std::fill(o, o + hd, 0.0f);
      if (f16) {
        // The following query heads of this token that share kv head g go along.
        const int64_t more = std::min({end - item, group - h % group, int64_t{kMaxHeadsAtOnce}}) - 1;
        std::fill(o, o + hd * (more + 1), 0.0f);
        if (hi > lo) attend_f16_ordered(qv, static_cast<int>(more + 1), kv, g, lo, hi, scale, p.softcap, o, s, s_stride);
        item += more;
        continue;
      }
      if (hi <= lo) continue;
      const int64_t n = hi - lo;
      for (int64_t j = 0; j < n; ++j) {
        const size_t off = static_cast<size_t>((lo + j) * row + g * hd);
        s[j] = scale * vk.dot_f32(static_cast<const float*>(kv.k) + off, qv, hd);
      }
      if (p.softcap > 0.0f) vk.softcap(s, n, p.softcap);
      const float sum = vk.exp_sum(s, n, vk.max(s, n));
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < n; ++j) {
        const size_t off = static_cast<size_t>((lo + j) * row + g * hd);
        vk.axpy_f32(hd, s[j] * inv, static_cast<const float*>(kv.v) + off, o);
      }
    }
  };
  const int64_t items = n_tokens * p.n_head;
  if (pool && n_threads > 1 && items * n_kv * hd >= kMinParallelWork) {
    pool->parallel_for(items, work);
  } else {
    work(0, items, 0);
  }
}

}  // namespace duet::rt
