// The Qwen family: qwen2 (biases on Q, K and V) and qwen3 (RMSNorm on each Q and K head, no
// biases); both use NeoX-style RoPE and SwiGLU. Must never read keys of other families.
#include "models/llm_config.hpp"
#include "runtime/gguf.hpp"

namespace duet::models {

void read_qwen_config(const rt::GgufFile& g, LlmConfig& c) {
  (void)g;
  c.rope_mode = rt::RopeMode::NeoX;
  c.ffn = FfnActivation::SwiGLU;
  c.qkv_bias = c.arch == "qwen2";
  c.qk_norm = c.arch == "qwen3";
}

}  // namespace duet::models
