// Scaled dot-product attention over a KV cache, with grouped-query heads, causal or full masking,
// an optional sliding window and optional logit soft-capping. Keys are row-per-position
// ([n_ctx, n_head_kv, head_dim], F16 or F32) so a decode step appends one row and reads each head's
// keys with a fixed stride. F32 values are laid out the same way; F16 values are stored in chunks
// of kKvVChunk positions, each chunk transposed ([n_ctx / 32, n_head_kv, head_dim, 32]), so the
// weighted sum over positions reads whole cache lines of one value dimension while a session
// still touches only the pages of the positions it wrote. Must never allocate per call: scratch
// comes from the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/dtype.hpp"
#include "runtime/zeroed_pages.hpp"

namespace duet::rt {

class ThreadPool;

// One layer's cache; does not own its memory.
struct KvLayer {
  DType type = DType::F16;  // F16 or F32
  int64_t n_ctx = 0;        // positions the cache holds
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  void* k = nullptr;  // type [n_ctx, n_head_kv, head_dim]
  void* v = nullptr;  // F32: [n_ctx, n_head_kv, head_dim]; F16: see kv_v16_index()
};

// Positions per transposed chunk of an F16 value cache.
inline constexpr int64_t kKvVChunk = 32;

// Index (in F16 elements) of value element e (in [0, n_head_kv * head_dim) = row) of position pos
// in an F16 value cache: chunk pos / 32 holds row x 32 elements, element-major.
inline size_t kv_v16_index(int64_t pos, int64_t e, int64_t row) {
  return static_cast<size_t>(((pos / kKvVChunk) * row + e) * kKvVChunk + pos % kKvVChunk);
}

// Owns the K and V storage of n_layer layers.
class KvCache {
 public:
  KvCache() = default;
  KvCache(int n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, DType type = DType::F16);
  KvLayer layer(int i);
  int n_layer() const { return n_layer_; }
  int64_t n_ctx() const { return n_ctx_; }

 private:
  int n_layer_ = 0;
  int64_t n_ctx_ = 0, n_head_kv_ = 0, head_dim_ = 0;
  DType type_ = DType::F16;
  size_t layer_bytes_ = 0;
  size_t v_layer_bytes_ = 0;  // F16: n_ctx rounded up to whole chunks
  // type [n_layer, n_ctx, n_head_kv, head_dim]; resident only up to the positions written.
  ZeroedPages k_;
  ZeroedPages v_;
};

// Writes k, v f32 [n_tokens, n_head_kv, head_dim] into rows [pos, pos + n_tokens) of the cache.
void kv_store(const KvLayer& kv, int64_t pos, const float* k, const float* v, int64_t n_tokens);

struct AttentionParams {
  int64_t n_head = 0;          // query heads
  int64_t n_head_kv = 0;       // key/value heads; n_head must be a multiple (GQA/MQA)
  int64_t head_dim = 0;
  float scale = 0.0f;          // logits = scale * q.k; 0 means 1 / sqrt(head_dim)
  bool causal = true;          // query at position p sees keys at positions <= p
  int64_t sliding_window = 0;  // > 0: query at p sees keys at positions > p - sliding_window
  float softcap = 0.0f;        // > 0: logits = softcap * tanh(logits / softcap)
};

// Floats of scratch attention() needs.
size_t attention_scratch_floats(int64_t n_kv, int n_threads);

// out f32 [n_tokens, n_head, head_dim] = attention of q f32 [n_tokens, n_head, head_dim] over cache
// rows [0, n_kv). Query i sits at position n_past + i (causal masking and the sliding window use
// it); for self-attention store this step's K/V first, so n_kv = n_past + n_tokens. A query with no
// visible key gets zeros. scratch: attention_scratch_floats(n_kv, pool threads or 1) floats.
void attention(const float* q, int64_t n_tokens, const KvLayer& kv, int64_t n_past, int64_t n_kv,
               const AttentionParams& p, float* out, std::span<float> scratch, ThreadPool* pool);

}  // namespace duet::rt
