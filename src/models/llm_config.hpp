// The hyperparameters of a decoder-only LLM, read from GGUF metadata by the architecture's own
// reader (llm_llama.cpp, llm_qwen.cpp, llm_gemma3.cpp). The forward code (llm_forward.cpp) reads
// only this struct, never metadata keys. Must never hold weights or per-session state.
#pragma once

#include <functional>
#include <string>

#include "runtime/ops.hpp"

namespace duet::rt {
class GgufFile;
}

namespace duet::models {

enum class FfnActivation { SwiGLU, GeGLU };

struct LlmConfig {
  std::string arch;             // general.architecture
  int n_layer = 0;
  int64_t n_embd = 0;
  int64_t n_ff = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;         // key/value length per head
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  float norm_eps = 1e-5f;
  // Rotary embedding: global layers use rope_base, sliding-window layers rope_base_swa.
  rt::RopeMode rope_mode = rt::RopeMode::Normal;
  int n_rot = 0;
  float rope_base = 10000.0f;
  float rope_base_swa = 10000.0f;
  float rope_scale = 1.0f;
  // Attention details.
  float attn_scale = 0.0f;      // 0: 1/sqrt(head_dim)
  bool scale_q = false;         // Gemma 3: attn_scale multiplies Q itself, before its F16 rounding
  int64_t sliding_window = 0;   // 0: none
  int swa_period = 0;           // > 0: layer il is global when (il + 1) % swa_period == 0
  bool qkv_bias = false;        // Qwen2
  bool qk_norm = false;         // Qwen3, Gemma 3: RMSNorm over each head of Q and K
  bool post_norms = false;      // Gemma 3: norm after attention and after the FFN
  float embed_scale = 1.0f;     // Gemma: embeddings times sqrt(n_embd)
  float final_softcap = 0.0f;   // > 0: logits = c * tanh(logits / c)
  FfnActivation ffn = FfnActivation::SwiGLU;

  bool layer_uses_window(int il) const {
    return sliding_window > 0 && !(swa_period > 0 && (il + 1) % swa_period == 0);
  }
};

// Reads the config for the file's architecture; throws duet::Error naming unsupported ones.
LlmConfig read_llm_config(const rt::GgufFile& gguf);

// Per-family readers (each in its llm_<family>.cpp); they fill what the generic reader left.
void read_llama_config(const rt::GgufFile& gguf, LlmConfig& c);
void read_qwen_config(const rt::GgufFile& gguf, LlmConfig& c);
void read_gemma3_config(const rt::GgufFile& gguf, LlmConfig& c);

}  // namespace duet::models
