// One forward chunk of a decoder-only LLM, shared by every family: embeddings, then per layer
// norm -> Q/K/V (+bias, +QK-norm) -> RoPE -> KV store -> attention -> output (+post-norm) ->
// residual, norm -> gated FFN (+post-norm) -> residual; then the final norm and the LM head.
// Families differ only through LlmConfig flags. Must never allocate: all buffers are the session's.
#include <cmath>

#include "models/llm_model.hpp"
#include "runtime/gelu_table.hpp"
#include "runtime/matmul_group.hpp"

namespace duet::models {

void LlmSession::forward_chunk(const int32_t* ids, int64_t T, int64_t pos0, bool want_all_logits,
                               float* logits_out, const CancelToken& cancel) {
  const LlmConfig& c = model_->config();
  const LlmWeights& w = model_->weights();
  const int64_t E = c.n_embd, hd = c.head_dim;
  const int64_t q_dim = c.n_head * hd, kv_dim = c.n_head_kv * hd;
  std::span<uint8_t> mm(mm_scratch_);
  float* x = x_.data();
  float* h = h_.data();
  float* q = q_.data();
  float* k = k_.data();
  float* v = v_.data();
  float* attn = attn_.data();
  float* o = o_.data();
  float* gate = gate_.data();
  float* up = up_.data();

  for (int64_t i = 0; i < T; ++i) pos_[static_cast<size_t>(i)] = static_cast<int32_t>(pos0 + i);
  rt::get_rows(w.token_embd, ids, T, x);
  if (c.embed_scale != 1.0f) rt::scale(x, c.embed_scale, x, T * E);

  for (int il = 0; il < c.n_layer; ++il) {
    rt::check_cancel(cancel);
    const LlmLayerWeights& l = w.layers[static_cast<size_t>(il)];
    // Attention block.
    rt::rms_norm(x, l.attn_norm, h, T, E, c.norm_eps);
    const rt::MatmulTarget qkv[] = {{&l.wq, q}, {&l.wk, k}, {&l.wv, v}};
    rt::matmul_group(qkv, h, T, mm, pool_);
    if (l.bq) {
      rt::add_row(q, l.bq, T, q_dim);
      rt::add_row(k, l.bk, T, kv_dim);
      rt::add_row(v, l.bv, T, kv_dim);
    }
    if (l.q_norm) {
      rt::rms_norm(q, l.q_norm, q, T * c.n_head, hd, c.norm_eps);
      rt::rms_norm(k, l.k_norm, k, T * c.n_head_kv, hd, c.norm_eps);
    }
    const rt::RopeCache& rope = model_->rope_for_layer(il);
    rt::rope(q, T, c.n_head, hd, pos_.data(), rope, c.rope_mode);
    rt::rope(k, T, c.n_head_kv, hd, pos_.data(), rope, c.rope_mode);
    const rt::KvLayer layer = kv_.layer(il);
    rt::kv_store(layer, pos0, k, v, T);
    rt::AttentionParams ap;
    ap.n_head = c.n_head;
    ap.n_head_kv = c.n_head_kv;
    ap.head_dim = hd;
    ap.scale = c.attn_scale;
    if (c.scale_q) {
      rt::scale(q, c.attn_scale, q, T * q_dim);
      ap.scale = 1.0f;
    }
    ap.causal = true;
    ap.sliding_window = c.layer_uses_window(il) ? c.sliding_window : 0;
    rt::attention(q, T, layer, pos0, pos0 + T, ap, attn, attn_scratch_, pool_);
    rt::matmul(l.wo, attn, T, o, mm, pool_);
    if (l.post_attn_norm) rt::rms_norm(o, l.post_attn_norm, o, T, E, c.norm_eps);
    rt::add(x, o, x, T * E);

    // Feed-forward block.
    rt::rms_norm(x, l.ffn_norm, h, T, E, c.norm_eps);
    const rt::MatmulTarget gate_up[] = {{&l.w_gate, gate}, {&l.w_up, up}};
    rt::matmul_group(gate_up, h, T, mm, pool_);
    if (c.ffn == FfnActivation::SwiGLU) {
      rt::swiglu(gate, up, gate, T * c.n_ff);
    } else {
      rt::geglu_table(gate, up, gate, T * c.n_ff);
    }
    rt::matmul(l.w_down, gate, T, o, mm, pool_);
    if (l.post_ffn_norm) rt::rms_norm(o, l.post_ffn_norm, o, T, E, c.norm_eps);
    rt::add(x, o, x, T * E);
  }
  rt::check_cancel(cancel);

  // Only the rows whose logits are wanted go through the final norm and the LM head.
  const int64_t first = want_all_logits ? 0 : T - 1;
  const int64_t rows = T - first;
  rt::rms_norm(x + first * E, w.output_norm, h, rows, E, c.norm_eps);
  rt::matmul(w.output, h, rows, logits_out, mm, pool_);
  if (c.final_softcap > 0.0f) {
    const float cap = c.final_softcap;
    for (int64_t i = 0; i < rows * c.n_vocab; ++i) logits_out[i] = cap * std::tanh(logits_out[i] / cap);
  }
}

}  // namespace duet::models
