// Whisper forward passes on the runtime: the encoder (conv stem + transformer over only the
// frames given) filling the cross-attention caches, and the decoder over a self-attention cache.
// Must never allocate per decoded token after the first call at a given size, and never read
// past the frames or positions it was given.
#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "models/whisper.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::whisper {
namespace {

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

void linear_fwd(const Linear& l, const float* x, int64_t n, float* y, std::vector<uint8_t>& mm,
                rt::ThreadPool* pool) {
  grow(mm, rt::matmul_scratch_bytes(l.w.type, l.w.n_in, n));
  rt::matmul(l.w, x, n, y, mm, pool);
  if (l.b) rt::add_row(y, l.b, n, l.w.n_out);
}

}  // namespace

WhisperState::WhisperState(std::shared_ptr<const WhisperModel> model, rt::ThreadPool* pool)
    : model_(std::move(model)), pool_(pool) {
  const Hparams& hp = model_->hparams();
  const int64_t hd = hp.n_text_state / hp.n_text_head;
  cross_ = rt::KvCache(hp.n_text_layer, hp.n_audio_ctx, hp.n_text_head, hd, rt::DType::F32);
  self_ = rt::KvCache(hp.n_text_layer, hp.n_text_ctx, hp.n_text_head, hd, rt::DType::F32);
  enc_kv_ = rt::KvCache(1, hp.n_audio_ctx, hp.n_audio_head, hp.n_audio_state / hp.n_audio_head,
                        rt::DType::F32);
  logits_.resize(hp.n_vocab);
}

void WhisperState::encode(std::span<const float> mel, int64_t n_frames, const CancelToken& cancel) {
  const WhisperModel& m = *model_;
  const Hparams& hp = m.hparams();
  const int64_t d = hp.n_audio_state;
  if (n_frames <= 0 || n_frames > 2 * static_cast<int64_t>(hp.n_audio_ctx)) {
    fail("whisper encode: {} mel frames, expected 1..{}", n_frames, 2 * hp.n_audio_ctx);
  }
  if (mel.size() != static_cast<size_t>(n_frames) * hp.n_mels) {
    fail("whisper encode: mel holds {} values, expected {} x {}", mel.size(), hp.n_mels, n_frames);
  }
  // [n_mels, T] -> time-major [T, n_mels].
  grow(mel_t_, static_cast<size_t>(n_frames) * hp.n_mels);
  for (int64_t c = 0; c < hp.n_mels; ++c) {
    for (int64_t t = 0; t < n_frames; ++t) mel_t_[t * hp.n_mels + c] = mel[c * n_frames + t];
  }
  const rt::Conv1dParams c1{hp.n_mels, d, 3, 1, 1, 1, 1};
  const rt::Conv1dParams c2{d, d, 3, 2, 1, 1, 1};
  const int64_t t1 = rt::conv1d_out_len(n_frames, c1);
  const int64_t T = rt::conv1d_out_len(t1, c2);
  grow(conv_a_, static_cast<size_t>(t1) * d);
  grow(cols_, std::max(rt::conv1d_scratch_floats(n_frames, c1), rt::conv1d_scratch_floats(t1, c2)));
  grow(mm_, std::max(rt::conv1d_matmul_scratch_bytes(m.conv1_w.type, n_frames, c1),
                     rt::conv1d_matmul_scratch_bytes(m.conv2_w.type, t1, c2)));
  const size_t td = static_cast<size_t>(T) * d;
  grow(x_, td);
  grow(h_, td);
  grow(q_, td);
  grow(k_, td);
  grow(v_, td);
  grow(attn_, td);
  const int64_t ff = m.enc[0].up.w.n_out;
  grow(ffn_, static_cast<size_t>(T) * ff);
  grow(attn_scratch_, rt::attention_scratch_floats(T, pool_ ? pool_->size() : 1));

  rt::conv1d(mel_t_.data(), n_frames, m.conv1_w, m.conv1_b, c1, conv_a_.data(), cols_, mm_, pool_);
  rt::gelu(conv_a_.data(), conv_a_.data(), t1 * d, rt::GeluKind::Erf);
  rt::conv1d(conv_a_.data(), t1, m.conv2_w, m.conv2_b, c2, x_.data(), cols_, mm_, pool_);
  rt::gelu(x_.data(), x_.data(), T * d, rt::GeluKind::Erf);
  rt::add(x_.data(), m.enc_pos, x_.data(), T * d);
  rt::check_cancel(cancel);

  rt::AttentionParams ap;
  ap.n_head = hp.n_audio_head;
  ap.n_head_kv = hp.n_audio_head;
  ap.head_dim = d / hp.n_audio_head;
  ap.causal = false;
  const rt::KvLayer kv = enc_kv_.layer(0);
  for (const EncoderLayer& l : m.enc) {
    rt::layer_norm(x_.data(), l.attn_norm.w, l.attn_norm.b, h_.data(), T, d, hp.eps);
    linear_fwd(l.q, h_.data(), T, q_.data(), mm_, pool_);
    linear_fwd(l.k, h_.data(), T, k_.data(), mm_, pool_);
    linear_fwd(l.v, h_.data(), T, v_.data(), mm_, pool_);
    rt::kv_store(kv, 0, k_.data(), v_.data(), T);
    rt::attention(q_.data(), T, kv, 0, T, ap, attn_.data(), attn_scratch_, pool_);
    linear_fwd(l.o, attn_.data(), T, h_.data(), mm_, pool_);
    rt::add(x_.data(), h_.data(), x_.data(), T * d);
    rt::layer_norm(x_.data(), l.ffn_norm.w, l.ffn_norm.b, h_.data(), T, d, hp.eps);
    linear_fwd(l.up, h_.data(), T, ffn_.data(), mm_, pool_);
    rt::gelu(ffn_.data(), ffn_.data(), T * ff, rt::GeluKind::Erf);
    linear_fwd(l.down, ffn_.data(), T, h_.data(), mm_, pool_);
    rt::add(x_.data(), h_.data(), x_.data(), T * d);
    rt::check_cancel(cancel);
  }
  rt::layer_norm(x_.data(), m.enc_norm.w, m.enc_norm.b, x_.data(), T, d, hp.eps);
  for (int i = 0; i < hp.n_text_layer; ++i) {
    const DecoderLayer& l = m.dec[i];
    linear_fwd(l.cross_k, x_.data(), T, k_.data(), mm_, pool_);
    linear_fwd(l.cross_v, x_.data(), T, v_.data(), mm_, pool_);
    rt::kv_store(cross_.layer(i), 0, k_.data(), v_.data(), T);
  }
  n_audio_ = T;
}

void WhisperState::ensure_decode_capacity(int64_t n) {
  if (n <= dec_cap_) return;
  const Hparams& hp = model_->hparams();
  const size_t nd = static_cast<size_t>(n) * hp.n_text_state;
  dx_.resize(nd);
  dh_.resize(nd);
  dq_.resize(nd);
  dk_.resize(nd);
  dv_.resize(nd);
  dattn_.resize(nd);
  dffn_.resize(static_cast<size_t>(n) * model_->dec[0].up.w.n_out);
  dec_cap_ = n;
}

void WhisperState::decode(std::span<const int32_t> ids, int64_t n_past, int64_t logits_row,
                          const CancelToken& cancel) {
  const WhisperModel& m = *model_;
  const Hparams& hp = m.hparams();
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t d = hp.n_text_state;
  if (n == 0) fail("whisper decode: no tokens");
  if (n_past < 0 || n_past + n > hp.n_text_ctx) {
    fail("whisper decode: positions {}..{} exceed the text context {}", n_past, n_past + n,
         hp.n_text_ctx);
  }
  if (n_audio_ == 0) fail("whisper decode: encode() must run first");
  if (logits_row < 0 || logits_row >= n) fail("whisper decode: logits row {} of {}", logits_row, n);
  ensure_decode_capacity(n);
  grow(attn_scratch_,
       rt::attention_scratch_floats(std::max<int64_t>(n_audio_, n_past + n), pool_ ? pool_->size() : 1));
  rt::get_rows(m.tok_emb, ids.data(), n, dx_.data());
  rt::add(dx_.data(), m.dec_pos + n_past * d, dx_.data(), n * d);

  rt::AttentionParams self_p;
  self_p.n_head = hp.n_text_head;
  self_p.n_head_kv = hp.n_text_head;
  self_p.head_dim = d / hp.n_text_head;
  self_p.causal = true;
  rt::AttentionParams cross_p = self_p;
  cross_p.causal = false;
  const int64_t ff = m.dec[0].up.w.n_out;
  for (int i = 0; i < hp.n_text_layer; ++i) {
    const DecoderLayer& l = m.dec[i];
    const rt::KvLayer self_kv = self_.layer(i);
    rt::layer_norm(dx_.data(), l.attn_norm.w, l.attn_norm.b, dh_.data(), n, d, hp.eps);
    linear_fwd(l.q, dh_.data(), n, dq_.data(), mm_, pool_);
    linear_fwd(l.k, dh_.data(), n, dk_.data(), mm_, pool_);
    linear_fwd(l.v, dh_.data(), n, dv_.data(), mm_, pool_);
    rt::kv_store(self_kv, n_past, dk_.data(), dv_.data(), n);
    rt::attention(dq_.data(), n, self_kv, n_past, n_past + n, self_p, dattn_.data(), attn_scratch_,
                  pool_);
    linear_fwd(l.o, dattn_.data(), n, dh_.data(), mm_, pool_);
    rt::add(dx_.data(), dh_.data(), dx_.data(), n * d);

    rt::layer_norm(dx_.data(), l.cross_norm.w, l.cross_norm.b, dh_.data(), n, d, hp.eps);
    linear_fwd(l.cross_q, dh_.data(), n, dq_.data(), mm_, pool_);
    rt::attention(dq_.data(), n, cross_.layer(i), 0, n_audio_, cross_p, dattn_.data(),
                  attn_scratch_, pool_);
    linear_fwd(l.cross_o, dattn_.data(), n, dh_.data(), mm_, pool_);
    rt::add(dx_.data(), dh_.data(), dx_.data(), n * d);

    rt::layer_norm(dx_.data(), l.ffn_norm.w, l.ffn_norm.b, dh_.data(), n, d, hp.eps);
    linear_fwd(l.up, dh_.data(), n, dffn_.data(), mm_, pool_);
    rt::gelu(dffn_.data(), dffn_.data(), n * ff, rt::GeluKind::Erf);
    linear_fwd(l.down, dffn_.data(), n, dh_.data(), mm_, pool_);
    rt::add(dx_.data(), dh_.data(), dx_.data(), n * d);
    rt::check_cancel(cancel);
  }
  float* last = dx_.data() + logits_row * d;
  rt::layer_norm(last, m.dec_norm.w, m.dec_norm.b, last, 1, d, hp.eps);
  grow(mm_, rt::matmul_scratch_bytes(m.tok_emb.type, d, 1));
  rt::matmul(m.tok_emb, last, 1, logits_.data(), mm_, pool_);
}

}  // namespace duet::whisper
