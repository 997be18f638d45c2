// The llama family (SmolLM2, Llama 2/3 and kin): pre-norm blocks, SwiGLU, normal (interleaved)
// RoPE since the GGUF converter permutes Q/K for it, optional linear rope scaling. Must never read
// keys of other families.
#include "core/error.hpp"
#include "models/llm_config.hpp"
#include "runtime/gguf.hpp"

namespace duet::models {

void read_llama_config(const rt::GgufFile& g, LlmConfig& c) {
  c.rope_mode = rt::RopeMode::Normal;
  c.ffn = FfnActivation::SwiGLU;
  const std::string scaling = g.get_string("llama.rope.scaling.type", "none");
  if (scaling == "linear") {
    c.rope_scale = 1.0f / static_cast<float>(g.get_float("llama.rope.scaling.factor", 1.0));
  } else if (scaling != "none") {
    fail("{}: llama rope scaling '{}' is not supported (none or linear)", g.name(), scaling);
  }
}

}  // namespace duet::models
