// Tensor-name table of the GGUF LLM layout (blk.N.attn_q.weight, ...) and shape checks, so a file
// that does not match its declared architecture fails at load with the tensor's name, never later.
#include "models/llm_weights.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "runtime/gguf.hpp"

namespace duet::models {
namespace {

class Loader {
 public:
  Loader(const rt::GgufFile& g) : g_(g) {}

  rt::WeightView matrix(const std::string& name, int64_t n_in, int64_t n_out) const {
    const auto& t = g_.tensor(name);
    if (t.n_dims != 2 || t.ne[0] != n_in || t.ne[1] != n_out) {
      fail("{}: tensor '{}' has shape [{}, {}], expected [{}, {}]", g_.name(), name, t.ne[0], t.ne[1], n_in, n_out);
    }
    return rt::WeightView::of(t);
  }

  const float* vector(const std::string& name, int64_t n, bool required = true) const {
    const auto* t = g_.find_tensor(name);
    if (!t) {
      if (required) fail("{}: tensor '{}' is missing", g_.name(), name);
      return nullptr;
    }
    if (t->type != rt::DType::F32 || t->nelements() != n) {
      fail("{}: tensor '{}' should be {} f32 values but is {} of type {}", g_.name(), name, n,
           t->nelements(), rt::dtype_name(t->type));
    }
    return reinterpret_cast<const float*>(t->data);
  }

 private:
  const rt::GgufFile& g_;
};

}  // namespace

LlmWeights load_llm_weights(const rt::GgufFile& g, const LlmConfig& c) {
  Loader L(g);
  LlmWeights w;
  const int64_t q_dim = c.n_head * c.head_dim;
  const int64_t kv_dim = c.n_head_kv * c.head_dim;
  w.token_embd = L.matrix("token_embd.weight", c.n_embd, c.n_vocab);
  w.output = g.find_tensor("output.weight") ? L.matrix("output.weight", c.n_embd, c.n_vocab) : w.token_embd;
  w.output_norm = L.vector("output_norm.weight", c.n_embd);
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    auto& l = w.layers[static_cast<size_t>(il)];
    auto n = [il](const char* suffix) { return fmt::format("blk.{}.{}", il, suffix); };
    l.attn_norm = L.vector(n("attn_norm.weight"), c.n_embd);
    l.wq = L.matrix(n("attn_q.weight"), c.n_embd, q_dim);
    l.wk = L.matrix(n("attn_k.weight"), c.n_embd, kv_dim);
    l.wv = L.matrix(n("attn_v.weight"), c.n_embd, kv_dim);
    l.wo = L.matrix(n("attn_output.weight"), q_dim, c.n_embd);
    if (c.qkv_bias) {
      l.bq = L.vector(n("attn_q.bias"), q_dim);
      l.bk = L.vector(n("attn_k.bias"), kv_dim);
      l.bv = L.vector(n("attn_v.bias"), kv_dim);
    }
    if (c.qk_norm) {
      l.q_norm = L.vector(n("attn_q_norm.weight"), c.head_dim);
      l.k_norm = L.vector(n("attn_k_norm.weight"), c.head_dim);
    }
    if (c.post_norms) {
      l.post_attn_norm = L.vector(n("post_attention_norm.weight"), c.n_embd);
      l.post_ffn_norm = L.vector(n("post_ffw_norm.weight"), c.n_embd);
    }
    l.ffn_norm = L.vector(n("ffn_norm.weight"), c.n_embd);
    l.w_gate = L.matrix(n("ffn_gate.weight"), c.n_embd, c.n_ff);
    l.w_up = L.matrix(n("ffn_up.weight"), c.n_embd, c.n_ff);
    l.w_down = L.matrix(n("ffn_down.weight"), c.n_ff, c.n_embd);
  }
  return w;
}

}  // namespace duet::models
