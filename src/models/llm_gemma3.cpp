// Gemma 3: embeddings scaled by sqrt(n_embd), RMSNorm on Q/K heads, norms after attention and after
// the FFN, GeGLU (tanh GELU), NeoX RoPE with base 10000 on sliding-window layers and the file's
// base on every sixth (global) layer. Norm weights arrive with Gemma's +1 already folded in by the
// GGUF converter. Must never read keys of other families.
#include <cmath>

#include "models/llm_config.hpp"
#include "runtime/gguf.hpp"

namespace duet::models {

void read_gemma3_config(const rt::GgufFile& g, LlmConfig& c) {
  c.rope_mode = rt::RopeMode::NeoX;
  c.ffn = FfnActivation::GeGLU;
  c.qk_norm = true;
  c.post_norms = true;
  c.embed_scale = std::sqrt(static_cast<float>(c.n_embd));
  c.sliding_window = g.get_int("gemma3.attention.sliding_window", 0);
  c.swa_period = 6;
  c.rope_base_swa = 10000.0f;
  c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  // Q is scaled before its F16 rounding, as llama.cpp computes Gemma 3: scaled values that fall
  // below F16's normal range round differently from unscaled ones.
  c.scale_q = true;
  c.final_softcap = static_cast<float>(g.get_float("gemma3.final_logit_softcapping", 0.0));
  const std::string scaling = g.get_string("gemma3.rope.scaling.type", "none");
  if (scaling == "linear") {
    c.rope_scale = 1.0f / static_cast<float>(g.get_float("gemma3.rope.scaling.factor", 1.0));
  }
}

}  // namespace duet::models
