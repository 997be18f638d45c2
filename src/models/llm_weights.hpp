// The tensors of a decoder-only LLM, looked up by GGUF name once at load time. Views point into
// the memory-mapped file; nothing is copied. Must never be mutated after load (shared by sessions).
#pragma once

#include <vector>

#include "models/llm_config.hpp"
#include "runtime/matmul.hpp"

namespace duet::models {

struct LlmLayerWeights {
  const float* attn_norm = nullptr;      // f32 [n_embd]
  rt::WeightView wq, wk, wv, wo;         // [n_embd] -> [n_head*hd], [n_kv*hd], [n_kv*hd]; wo back
  const float* bq = nullptr;             // f32 [n_head*hd] (qwen2) or null
  const float* bk = nullptr;             // f32 [n_kv*hd] or null
  const float* bv = nullptr;             // f32 [n_kv*hd] or null
  const float* q_norm = nullptr;         // f32 [hd] (qwen3, gemma3) or null
  const float* k_norm = nullptr;         // f32 [hd] or null
  const float* post_attn_norm = nullptr; // f32 [n_embd] (gemma3) or null
  const float* ffn_norm = nullptr;       // f32 [n_embd]
  rt::WeightView w_gate, w_up, w_down;   // [n_embd] -> [n_ff] (x2) -> [n_embd]
  const float* post_ffn_norm = nullptr;  // f32 [n_embd] (gemma3) or null
};

struct LlmWeights {
  rt::WeightView token_embd;     // [n_vocab rows of n_embd]
  rt::WeightView output;         // lm head; token_embd when tied
  const float* output_norm = nullptr;  // f32 [n_embd]
  std::vector<LlmLayerWeights> layers;
};

// Looks up every tensor the config needs and checks its shape; errors name the tensor.
LlmWeights load_llm_weights(const rt::GgufFile& gguf, const LlmConfig& config);

}  // namespace duet::models
