// Generic part of reading an LLM config: the keys every family shares (<arch>.block_count, ...),
// sanity limits on every dimension, then the family's own reader. Must never accept dimensions that
// would make buffer sizes overflow or heads not divide the embedding.
#include "models/llm_config.hpp"

#include <cmath>

#include "core/error.hpp"
#include "runtime/gguf.hpp"

namespace duet::models {
namespace {

void check_range(const rt::GgufFile& g, const char* what, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) {
    fail("{}: {} = {} is outside the supported range [{}, {}]", g.name(), what, v, lo, hi);
  }
}

}  // namespace

LlmConfig read_llm_config(const rt::GgufFile& g) {
  LlmConfig c;
  c.arch = g.get_string("general.architecture");
  const std::string& a = c.arch;
  auto key = [&](const char* suffix) { return a + "." + suffix; };
  c.n_layer = static_cast<int>(g.get_int(key("block_count")));
  c.n_embd = g.get_int(key("embedding_length"));
  c.n_ff = g.get_int(key("feed_forward_length"));
  c.n_head = g.get_int(key("attention.head_count"));
  c.n_head_kv = g.get_int(key("attention.head_count_kv"), c.n_head);
  c.n_ctx_train = g.get_int(key("context_length"), 4096);
  c.norm_eps = static_cast<float>(g.get_float(key("attention.layer_norm_rms_epsilon"), 1e-5));
  c.rope_base = static_cast<float>(g.get_float(key("rope.freq_base"), 10000.0));
  c.rope_base_swa = c.rope_base;
  check_range(g, "block_count", c.n_layer, 1, 1024);
  check_range(g, "embedding_length", c.n_embd, 1, 1 << 16);
  check_range(g, "feed_forward_length", c.n_ff, 1, 1 << 18);
  check_range(g, "attention.head_count", c.n_head, 1, 1024);
  check_range(g, "attention.head_count_kv", c.n_head_kv, 1, c.n_head);
  if (c.n_head % c.n_head_kv != 0) {
    fail("{}: {} query heads are not a multiple of {} key/value heads", g.name(), c.n_head, c.n_head_kv);
  }
  c.head_dim = g.get_int(key("attention.key_length"), c.n_embd / c.n_head);
  check_range(g, "attention.key_length", c.head_dim, 1, 1024);
  if (g.get_int(key("attention.value_length"), c.head_dim) != c.head_dim) {
    fail("{}: different key and value head sizes are not supported", g.name());
  }
  c.n_rot = static_cast<int>(g.get_int(key("rope.dimension_count"), c.head_dim));
  check_range(g, "rope.dimension_count", c.n_rot, 2, c.head_dim);

  if (a == "llama") {
    read_llama_config(g, c);
  } else if (a == "qwen2" || a == "qwen3") {
    read_qwen_config(g, c);
  } else if (a == "gemma3") {
    read_gemma3_config(g, c);
  } else {
    fail("{}: architecture '{}' is not supported (Duet runs llama, qwen2, qwen3 and gemma3)", g.name(), a);
  }
  const auto& tokens = g.get_array("tokenizer.ggml.tokens");
  c.n_vocab = g.get_int(key("vocab_size"), static_cast<int64_t>(tokens.strings.size()));
  check_range(g, "vocab_size", c.n_vocab, 1, 1 << 22);
  if (c.rope_scale <= 0 || !std::isfinite(c.rope_scale)) c.rope_scale = 1.0f;
  return c;
}

}  // namespace duet::models
