// Whisper speech recognition on Duet's runtime: the immutable WhisperModel (hyperparameters,
// vocabulary, special tokens, mel filters and weight views into the GGUF map, shared by any
// number of streams) and WhisperState (one stream's encoder output, self- and cross-attention KV
// caches and scratch). The encoder runs on only the mel frames given (variable audio context,
// position table truncated). Must never mutate the model after load, and never allocate per
// decoded token once a state has been sized.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "runtime/attention.hpp"
#include "runtime/conv1d.hpp"
#include "runtime/gemm_int16.hpp"
#include "runtime/gemm_int8.hpp"
#include "runtime/gguf.hpp"
#include "runtime/matmul.hpp"

namespace duet::rt {
class ThreadPool;
}

namespace duet::whisper {

struct Hparams {
  int n_mels = 80;
  int n_audio_ctx = 1500;
  int n_audio_state = 384;
  int n_audio_head = 6;
  int n_audio_layer = 4;
  int n_text_ctx = 448;
  int n_text_state = 384;
  int n_text_head = 6;
  int n_text_layer = 4;
  int n_vocab = 51864;
  float eps = 1e-5f;
};

struct SpecialTokens {
  int32_t eot = 0, sot = 0, translate = 0, transcribe = 0, sot_lm = 0, sot_prev = 0;
  int32_t no_speech = 0, no_timestamps = 0, timestamp_begin = 0;
};

struct Linear {
  rt::WeightView w;
  const float* b = nullptr;  // [n_out] or null
};

struct Norm {
  const float* w = nullptr;
  const float* b = nullptr;
};

struct EncoderLayer {
  Norm attn_norm, ffn_norm;
  Linear q, k, v, o, up, down;
};

struct DecoderLayer {
  Norm attn_norm, cross_norm, ffn_norm;
  Linear q, k, v, o, cross_q, cross_k, cross_v, cross_o, up, down;
};

class WhisperModel {
 public:
  // Loads a GGUF written by tools/convert_whisper.py; throws duet::Error naming the file.
  static std::shared_ptr<const WhisperModel> load(const std::filesystem::path& path);

  const Hparams& hparams() const { return hp_; }
  const SpecialTokens& tokens() const { return sp_; }
  bool multilingual() const { return multilingual_; }
  std::span<const float> mel_filters() const { return mel_filters_; }
  std::span<const int32_t> suppress_tokens() const { return suppress_; }
  std::span<const int32_t> suppress_tokens_begin() const { return suppress_begin_; }
  // The language token for a code such as "en"; -1 when unknown or the model is English-only.
  int32_t language_token(std::string_view code) const;
  // The UTF-8 bytes of token `id` (GPT-2 byte-level BPE text decoded); specials give "".
  const std::string& token_bytes(int32_t id) const;
  const std::string& token_text(int32_t id) const;  // as stored in the vocabulary

  // Weights (views into the file map).
  rt::WeightView conv1_w, conv2_w;
  const float* conv1_b = nullptr;
  const float* conv2_b = nullptr;
  const float* enc_pos = nullptr;  // [n_audio_ctx, n_audio_state]
  Norm enc_norm, dec_norm;
  std::vector<EncoderLayer> enc;
  std::vector<DecoderLayer> dec;
  rt::WeightView tok_emb;          // [n_vocab, n_text_state]: the token embeddings
  rt::WeightView tok_out;          // the same, as the output projection (Q8_0: see below)
  const float* dec_pos = nullptr;  // [n_text_ctx, n_text_state]

 private:
  WhisperModel() = default;
  std::unique_ptr<rt::GgufFile> file_;
  Hparams hp_;
  SpecialTokens sp_;
  bool multilingual_ = false;
  std::vector<float> mel_filters_;
  std::vector<int32_t> suppress_, suppress_begin_;
  std::vector<std::string> vocab_, vocab_bytes_;
  std::vector<std::string> lang_codes_;
  std::vector<int32_t> lang_ids_;
  // The encoder's weights (and the decoder's cross-attention keys and values, which run over every
  // audio position) packed for an integer GEMM, 8-bit where the CPU runs it, else 16-bit; the
  // views above point at them.
  std::vector<std::shared_ptr<const rt::Int16Panels>> int16_panels_;
  std::vector<std::shared_ptr<const rt::Int8Panels>> int8_panels_;
  // tok_out's bytes: the output projection every decoded token streams from memory, in Q8_0
  // (half the bytes of F16, for a step bound by memory bandwidth).
  std::vector<std::vector<uint8_t>> requantized_;
};

// One stream's working memory. Create once per stream (sized for the full 30 s context) and reuse.
class WhisperState {
 public:
  WhisperState(std::shared_ptr<const WhisperModel> model, rt::ThreadPool* pool);

  const WhisperModel& model() const { return *model_; }
  // Runs the encoder on mel f32 [n_mels, n_frames] (n_frames <= 2 * n_audio_ctx; odd counts are
  // fine) and fills the cross-attention caches. Clears the decoder cache.
  void encode(std::span<const float> mel, int64_t n_frames, const CancelToken& cancel);
  int64_t n_audio() const { return n_audio_; }  // encoder positions of the last encode()

  // Feeds tokens at positions [n_past, n_past + ids.size()) through the decoder (keeping the KV
  // cache of self-attention slot `slot` up to there; positions beyond are simply overwritten
  // later, which is how a caller rolls the cache back) and writes the logits of the token at
  // index `logits_row` of ids into logits() (n_vocab floats). Throws when the text context would
  // overflow. Slots (beam search hypotheses) are created on first use.
  void decode(std::span<const int32_t> ids, int64_t n_past, int64_t logits_row,
              const CancelToken& cancel, int slot = 0);
  // As decode(), but writes the logits of the tokens at the given indices of ids (each in
  // [0, ids.size()), any order, repeats allowed): logits(i) is the row of ids[rows[i]]. One
  // batched pass thus verifies a draft and reads the no-speech probability at the same time.
  void decode_rows(std::span<const int32_t> ids, int64_t n_past, std::span<const int64_t> rows,
                   const CancelToken& cancel, int slot = 0);
  std::span<float> logits(int64_t row = 0);
  // Copies positions [0, n_pos) of self-attention slot `from` into slot `to` (beam reordering).
  void copy_self_cache(int from, int to, int64_t n_pos);

 private:
  void ensure_decode_capacity(int64_t n_tokens);
  rt::KvCache& self_slot(int slot);
  void forward(std::span<const int32_t> ids, int64_t n_past, std::span<const int64_t> rows,
               const CancelToken& cancel, int slot);
  std::shared_ptr<const WhisperModel> model_;
  rt::ThreadPool* pool_ = nullptr;
  int64_t n_audio_ = 0;
  rt::KvCache cross_;  // [n_text_layer, n_audio_ctx, heads, head_dim] F32
  std::vector<rt::KvCache> self_;  // per slot [n_text_layer, n_text_ctx, heads, head_dim] F32
  // encoder scratch
  std::vector<float> mel_t_, conv_a_, x_, h_, q_, k_, v_, attn_;
  std::vector<float> work_;  // im2col columns, attention scratch, then FFN activations
  std::vector<uint8_t> mm_;
  std::vector<float> attn_scratch_;
  // decoder scratch
  int64_t dec_cap_ = 0;
  std::vector<float> dx_, dh_, dq_, dk_, dv_, dattn_, dffn_;
  std::vector<float> logits_;  // [rows, n_vocab]
  int64_t logits_rows_ = 0;
};

}  // namespace duet::whisper
