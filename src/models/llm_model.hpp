// A decoder-only LLM on Duet's runtime: LlmModel is the immutable, shareable part (mapped GGUF,
// config, weight views, tokenizer, RoPE tables); LlmSession is one conversation's state (KV cache,
// token history, preallocated activations). Sessions never allocate per token. Must never let a
// session change the model, or two sessions share a KV cache.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "core/cancel.hpp"
#include "models/llm_config.hpp"
#include "models/llm_weights.hpp"
#include "runtime/attention.hpp"
#include "runtime/gguf.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"
#include "text/tokenizer.hpp"

namespace duet::models {

class LlmModel {
 public:
  // Maps the file, reads config, weights and tokenizer; throws duet::Error naming what is wrong.
  static std::shared_ptr<const LlmModel> load(const std::filesystem::path& path);

  const LlmConfig& config() const { return config_; }
  const LlmWeights& weights() const { return weights_; }
  const rt::GgufFile& gguf() const { return gguf_; }
  const text::Tokenizer& tokenizer() const { return tokenizer_; }
  // RoPE table for a layer (sliding-window layers may use another base); positions < max_positions().
  const rt::RopeCache& rope_for_layer(int il) const;
  int64_t max_positions() const { return rope_global_.max_pos; }

 private:
  LlmModel(rt::GgufFile gguf, LlmConfig config, text::Tokenizer tokenizer);
  rt::GgufFile gguf_;
  LlmConfig config_;
  LlmWeights weights_;
  text::Tokenizer tokenizer_;
  rt::RopeCache rope_global_;
  rt::RopeCache rope_window_;
};

struct LlmSessionOptions {
  int64_t n_ctx = 2048;       // positions the KV cache holds (capped by the model)
  int64_t n_batch = 64;       // tokens per forward chunk during prefill
  int n_threads = 0;          // 0: all cores (ignored when a pool is given)
  rt::DType kv_type = rt::DType::F16;
  bool all_logits = false;    // keep logits of every token of the last decode (tests, scoring)
};

class LlmSession {
 public:
  // pool: shared thread pool, or null to own one of options.n_threads.
  LlmSession(std::shared_ptr<const LlmModel> model, LlmSessionOptions options = {},
             rt::ThreadPool* pool = nullptr);

  // Runs tokens at positions n_past().. and returns the logits f32 [n_vocab] of the last one,
  // valid until the next call. Throws duet::Error when the context would overflow, and
  // duet::Cancelled (checked between layers) after which the session is as before the call.
  std::span<const float> decode(std::span<const int32_t> tokens, const CancelToken& cancel = {});
  // Logits of token i of the last decode (needs options.all_logits).
  std::span<const float> logits_at(int64_t i) const;

  // Makes the cache hold exactly `tokens`: keeps the longest common prefix with history(), rolls
  // back the rest, and decodes the new suffix (at least the last token, to yield logits).
  std::span<const float> sync(std::span<const int32_t> tokens, const CancelToken& cancel = {});
  // How many leading tokens of `tokens` the cache already holds.
  int64_t common_prefix(std::span<const int32_t> tokens) const;
  // Rolls the cache back to its first n tokens (n <= n_past()).
  void truncate(int64_t n);

  int64_t n_past() const { return static_cast<int64_t>(history_.size()); }
  int64_t n_ctx() const { return n_ctx_; }
  const std::vector<int32_t>& history() const { return history_; }
  const LlmModel& model() const { return *model_; }

 private:
  void forward_chunk(const int32_t* ids, int64_t n_tokens, int64_t pos0, bool want_all_logits,
                     float* logits_out, const CancelToken& cancel);

  std::shared_ptr<const LlmModel> model_;
  LlmSessionOptions options_;
  std::unique_ptr<rt::ThreadPool> own_pool_;
  rt::ThreadPool* pool_ = nullptr;
  int64_t n_ctx_ = 0;
  rt::KvCache kv_;
  std::vector<int32_t> history_;  // tokens whose K/V are in the cache, in order

  // Activations for one chunk of up to n_batch tokens (B = n_batch).
  std::vector<float> x_;       // f32 [B, n_embd] residual stream
  std::vector<float> h_;       // f32 [B, n_embd] normed input of a block
  std::vector<float> q_;       // f32 [B, n_head * head_dim]
  std::vector<float> k_;       // f32 [B, n_head_kv * head_dim]
  std::vector<float> v_;       // f32 [B, n_head_kv * head_dim]
  std::vector<float> attn_;    // f32 [B, n_head * head_dim]
  std::vector<float> o_;       // f32 [B, n_embd] block output
  std::vector<float> gate_;    // f32 [B, n_ff]
  std::vector<float> up_;      // f32 [B, n_ff]
  std::vector<int32_t> pos_;   // i32 [B]
  std::vector<float> logits_;  // f32 [n_vocab] or [n_tokens, n_vocab] with all_logits
  std::vector<uint8_t> mm_scratch_;
  std::vector<float> attn_scratch_;
};

}  // namespace duet::models
