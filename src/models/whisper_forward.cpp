// Whisper forward passes on the runtime: the encoder (conv stem + transformer over only the
// frames given) filling the cross-attention caches, and the decoder over a self-attention cache.
// Must never allocate per decoded token after the first call at a given size, and never read
// past the frames or positions it was given.
#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "models/whisper.hpp"
#include "runtime/attention_dense.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::whisper {
namespace {

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// y = x W^T, without the bias.
void matmul_fwd(const Linear& l, const float* x, int64_t n, float* y, std::vector<uint8_t>& mm,
                rt::ThreadPool* pool) {
  grow(mm, rt::matmul_scratch_bytes(l.w, n));
  rt::matmul(l.w, x, n, y, mm, pool);
}

// Adds l's bias (if any) to rows [b, e) of y f32 [rows, n_out].
void add_bias(const Linear& l, float* y, int64_t b, int64_t e) {
  if (l.b) rt::add_row(y + b * l.w.n_out, l.b, e - b, l.w.n_out);
}

void linear_fwd(const Linear& l, const float* x, int64_t n, float* y, std::vector<uint8_t>& mm,
                rt::ThreadPool* pool) {
  matmul_fwd(l, x, n, y, mm, pool);
  add_bias(l, y, 0, n);
}

// Runs fn(b, e) over row ranges covering [0, n_rows), split over the pool. The encoder's
// elementwise passes (bias, GELU, residual, layer norm) over hundreds of positions are worth both
// cores, and a GEMM's bias fused with what follows it touches each row once, while it is in cache.
// Every pass is per row, so the split never changes a bit.
template <typename Fn>
void for_rows(rt::ThreadPool* pool, int64_t n_rows, Fn&& fn) {
  if (pool && pool->size() > 1 && n_rows > 1) {
    pool->parallel_for(n_rows, [&](int64_t b, int64_t e, int) { fn(b, e); });
  } else {
    fn(0, n_rows);
  }
}

}  // namespace

WhisperState::WhisperState(std::shared_ptr<const WhisperModel> model, rt::ThreadPool* pool)
    : model_(std::move(model)), pool_(pool) {
  const Hparams& hp = model_->hparams();
  const int64_t hd = hp.n_text_state / hp.n_text_head;
  // Cross-attention keys and values in F16: each decoded token reads all of them (6 MB at F32
  // for tiny at 10 s of context), so half the bytes is a faster step.
  cross_ = rt::KvCache(hp.n_text_layer, hp.n_audio_ctx, hp.n_text_head, hd, rt::DType::F16);
  self_.emplace_back(hp.n_text_layer, hp.n_text_ctx, hp.n_text_head, hd, rt::DType::F32);
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
  grow(mm_, std::max(rt::conv1d_matmul_scratch_bytes(m.conv1_w, n_frames, c1),
                     rt::conv1d_matmul_scratch_bytes(m.conv2_w, t1, c2)));
  const size_t td = static_cast<size_t>(T) * d;
  grow(x_, td);
  grow(h_, td);
  grow(q_, td);
  grow(k_, td);
  grow(v_, td);
  grow(attn_, td);
  const int64_t ff = m.enc[0].up.w.n_out;
  const rt::DenseAttentionScratch dense =
      rt::dense_attention_scratch(T, d / hp.n_audio_head, pool_ ? pool_->size() : 1);
  // One buffer for what is never live at once: the stem's im2col columns, a layer's attention
  // scratch and its FFN activations (it saves each session about 5 MB at 10 s of audio).
  const size_t cols = std::max(rt::conv1d_scratch_floats(n_frames, c1), rt::conv1d_scratch_floats(t1, c2));
  grow(work_, std::max({cols, dense.floats, static_cast<size_t>(T) * ff}));
  float* const ffn = work_.data();
  grow(mm_, dense.bytes);
  float* const x = x_.data();
  float* const h = h_.data();
  const auto rows = [&](float* base, int64_t b, int64_t width = 0) {
    return base + b * (width ? width : d);
  };

  // The convolutions' biases go with the GELU after them, in the same pass over each row.
  rt::conv1d(mel_t_.data(), n_frames, m.conv1_w, nullptr, c1, conv_a_.data(), work_, mm_, pool_);
  for_rows(pool_, t1, [&](int64_t b, int64_t e) {
    rt::add_row(rows(conv_a_.data(), b), m.conv1_b, e - b, d);
    rt::gelu(rows(conv_a_.data(), b), rows(conv_a_.data(), b), (e - b) * d, rt::GeluKind::Erf);
  });
  rt::conv1d(conv_a_.data(), t1, m.conv2_w, nullptr, c2, x, work_, mm_, pool_);
  for_rows(pool_, T, [&](int64_t b, int64_t e) {
    rt::add_row(rows(x, b), m.conv2_b, e - b, d);
    rt::gelu(rows(x, b), rows(x, b), (e - b) * d, rt::GeluKind::Erf);
    rt::add(rows(x, b), m.enc_pos + b * d, rows(x, b), (e - b) * d);
  });
  rt::check_cancel(cancel);

  for (const EncoderLayer& l : m.enc) {
    for_rows(pool_, T, [&](int64_t b, int64_t e) {
      rt::layer_norm(rows(x, b), l.attn_norm.w, l.attn_norm.b, rows(h, b), e - b, d, hp.eps);
    });
    matmul_fwd(l.q, h, T, q_.data(), mm_, pool_);
    matmul_fwd(l.k, h, T, k_.data(), mm_, pool_);
    matmul_fwd(l.v, h, T, v_.data(), mm_, pool_);
    for_rows(pool_, T, [&](int64_t b, int64_t e) {
      add_bias(l.q, q_.data(), b, e);
      add_bias(l.k, k_.data(), b, e);
      add_bias(l.v, v_.data(), b, e);
    });
    rt::dense_attention(q_.data(), k_.data(), v_.data(), T, hp.n_audio_head, d / hp.n_audio_head,
                        0.0f, attn_.data(), work_, mm_, pool_);
    matmul_fwd(l.o, attn_.data(), T, h, mm_, pool_);
    for_rows(pool_, T, [&](int64_t b, int64_t e) {
      add_bias(l.o, h, b, e);
      rt::add(rows(x, b), rows(h, b), rows(x, b), (e - b) * d);
    });
    rt::check_cancel(cancel);  // twice a layer: a cancelled partial frees the recogniser sooner
    for_rows(pool_, T, [&](int64_t b, int64_t e) {
      rt::layer_norm(rows(x, b), l.ffn_norm.w, l.ffn_norm.b, rows(h, b), e - b, d, hp.eps);
    });
    matmul_fwd(l.up, h, T, ffn, mm_, pool_);
    for_rows(pool_, T, [&](int64_t b, int64_t e) {
      add_bias(l.up, ffn, b, e);
      rt::gelu(rows(ffn, b, ff), rows(ffn, b, ff), (e - b) * ff, rt::GeluKind::Erf);
    });
    matmul_fwd(l.down, ffn, T, h, mm_, pool_);
    for_rows(pool_, T, [&](int64_t b, int64_t e) {
      add_bias(l.down, h, b, e);
      rt::add(rows(x, b), rows(h, b), rows(x, b), (e - b) * d);
    });
    rt::check_cancel(cancel);
  }
  for_rows(pool_, T, [&](int64_t b, int64_t e) {
    rt::layer_norm(rows(x, b), m.enc_norm.w, m.enc_norm.b, rows(x, b), e - b, d, hp.eps);
  });
  for (int i = 0; i < hp.n_text_layer; ++i) {
    const DecoderLayer& l = m.dec[i];
    matmul_fwd(l.cross_k, x, T, k_.data(), mm_, pool_);
    matmul_fwd(l.cross_v, x, T, v_.data(), mm_, pool_);
    for_rows(pool_, T, [&](int64_t b, int64_t e) {
      add_bias(l.cross_k, k_.data(), b, e);
      add_bias(l.cross_v, v_.data(), b, e);
      rt::kv_store(cross_.layer(i), b, rows(k_.data(), b), rows(v_.data(), b), e - b);
    });
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

rt::KvCache& WhisperState::self_slot(int slot) {
  if (slot < 0 || slot > 64) fail("whisper decode: self-attention slot {} (0..64)", slot);
  const Hparams& hp = model_->hparams();
  while (static_cast<int>(self_.size()) <= slot) {
    self_.emplace_back(hp.n_text_layer, hp.n_text_ctx, hp.n_text_head,
                       hp.n_text_state / hp.n_text_head, rt::DType::F32);
  }
  return self_[static_cast<size_t>(slot)];
}

void WhisperState::copy_self_cache(int from, int to, int64_t n_pos) {
  if (from == to) return;
  const Hparams& hp = model_->hparams();
  if (n_pos < 0 || n_pos > hp.n_text_ctx) fail("whisper: cannot copy {} cache positions", n_pos);
  self_slot(std::max(from, to));
  const size_t bytes = static_cast<size_t>(n_pos) * hp.n_text_state * sizeof(float);
  for (int i = 0; i < hp.n_text_layer; ++i) {
    const rt::KvLayer src = self_[static_cast<size_t>(from)].layer(i);
    const rt::KvLayer dst = self_[static_cast<size_t>(to)].layer(i);
    std::memcpy(dst.k, src.k, bytes);
    std::memcpy(dst.v, src.v, bytes);
  }
}

std::span<float> WhisperState::logits(int64_t row) {
  const int64_t nv = model_->hparams().n_vocab;
  if (row < 0 || row >= std::max<int64_t>(logits_rows_, 1)) {
    fail("whisper: logits row {} of {}", row, logits_rows_);
  }
  return std::span(logits_).subspan(static_cast<size_t>(row * nv), static_cast<size_t>(nv));
}

void WhisperState::decode(std::span<const int32_t> ids, int64_t n_past, int64_t logits_row,
                          const CancelToken& cancel, int slot) {
  const int64_t row[1] = {logits_row};
  forward(ids, n_past, row, cancel, slot);
}

void WhisperState::decode_rows(std::span<const int32_t> ids, int64_t n_past,
                               std::span<const int64_t> rows, const CancelToken& cancel, int slot) {
  forward(ids, n_past, rows, cancel, slot);
}

void WhisperState::forward(std::span<const int32_t> ids, int64_t n_past, std::span<const int64_t> rows,
                           const CancelToken& cancel, int slot) {
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
  if (rows.empty()) fail("whisper decode: no logits rows asked for");
  for (int64_t r : rows) {
    if (r < 0 || r >= n) fail("whisper decode: logits row {} of {} tokens", r, n);
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= hp.n_vocab) fail("whisper decode: token {} outside the vocabulary", id);
  }
  rt::KvCache& self_cache = self_slot(slot);
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
    const rt::KvLayer self_kv = self_cache.layer(i);
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
  // The asked rows, contiguous: in place when they already are, else gathered into dh_ (free now;
  // ensure_decode_capacity(n) sized it for n rows, and a row may be asked for more than once).
  const auto n_rows = static_cast<int64_t>(rows.size());
  bool in_place = true;
  for (int64_t i = 1; i < n_rows; ++i) in_place = in_place && rows[i] == rows[0] + i;
  float* first = dx_.data() + rows[0] * d;
  if (!in_place) {
    ensure_decode_capacity(n_rows);
    for (int64_t i = 0; i < n_rows; ++i) {
      std::copy_n(dx_.data() + rows[i] * d, d, dh_.data() + i * d);
    }
    first = dh_.data();
  }
  rt::layer_norm(first, m.dec_norm.w, m.dec_norm.b, first, n_rows, d, hp.eps);
  grow(logits_, static_cast<size_t>(n_rows) * hp.n_vocab);
  grow(mm_, rt::matmul_scratch_bytes(m.tok_out, n_rows));
  rt::matmul(m.tok_out, first, n_rows, logits_.data(), mm_, pool_);
  logits_rows_ = n_rows;
}

}  // namespace duet::whisper
