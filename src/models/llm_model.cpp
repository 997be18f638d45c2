// Loading an LlmModel and managing an LlmSession's cache: sizing buffers once, chunked prefill,
// prefix reuse (sync) and rollback (truncate). The per-chunk math lives in llm_forward.cpp.
#include "models/llm_model.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace duet::models {
namespace {
constexpr int64_t kMaxRopePositions = 8192;
}

LlmModel::LlmModel(rt::GgufFile gguf, LlmConfig config, text::Tokenizer tokenizer)
    : gguf_(std::move(gguf)), config_(std::move(config)), tokenizer_(std::move(tokenizer)) {
  weights_ = load_llm_weights(gguf_, config_);
  const int64_t positions = std::min<int64_t>(std::max<int64_t>(config_.n_ctx_train, 512), kMaxRopePositions);
  rope_global_ = rt::RopeCache::make(config_.n_rot, positions, config_.rope_base, config_.rope_scale);
  rope_window_ = rt::RopeCache::make(config_.n_rot, positions, config_.rope_base_swa, 1.0f);
}

std::shared_ptr<const LlmModel> LlmModel::load(const std::filesystem::path& path) {
  auto gguf = rt::GgufFile::open(path);
  LlmConfig config = read_llm_config(gguf);
  text::Tokenizer tokenizer = text::Tokenizer::from_gguf(gguf);
  if (static_cast<int64_t>(tokenizer.vocab_size()) > config.n_vocab) {
    fail("{}: the tokenizer has {} tokens but the model only {} embeddings", path.string(),
         tokenizer.vocab_size(), config.n_vocab);
  }
  return std::shared_ptr<const LlmModel>(new LlmModel(std::move(gguf), std::move(config), std::move(tokenizer)));
}

const rt::RopeCache& LlmModel::rope_for_layer(int il) const {
  return config_.layer_uses_window(il) ? rope_window_ : rope_global_;
}

LlmSession::LlmSession(std::shared_ptr<const LlmModel> model, LlmSessionOptions options, rt::ThreadPool* pool)
    : model_(std::move(model)), options_(options) {
  const LlmConfig& c = model_->config();
  if (pool == nullptr) {
    own_pool_ = std::make_unique<rt::ThreadPool>(options_.n_threads);
    pool = own_pool_.get();
  }
  pool_ = pool;
  n_ctx_ = std::clamp<int64_t>(options_.n_ctx, 16, model_->max_positions());
  options_.n_batch = std::clamp<int64_t>(options_.n_batch, 1, 512);
  kv_ = rt::KvCache(c.n_layer, n_ctx_, c.n_head_kv, c.head_dim, options_.kv_type);
  const auto B = static_cast<size_t>(options_.n_batch);
  const auto q_dim = static_cast<size_t>(c.n_head * c.head_dim);
  const auto kv_dim = static_cast<size_t>(c.n_head_kv * c.head_dim);
  x_.resize(B * c.n_embd);
  h_.resize(B * c.n_embd);
  o_.resize(B * c.n_embd);
  q_.resize(B * q_dim);
  attn_.resize(B * q_dim);
  k_.resize(B * kv_dim);
  v_.resize(B * kv_dim);
  gate_.resize(B * c.n_ff);
  up_.resize(B * c.n_ff);
  pos_.resize(B);
  logits_.resize(static_cast<size_t>(c.n_vocab));
  size_t mm = 0;
  const auto& w = model_->weights();
  auto need = [&](const rt::WeightView& wv, int64_t rows) {
    mm = std::max(mm, rt::matmul_scratch_bytes(wv.type, wv.n_in, rows));
  };
  need(w.output, static_cast<int64_t>(B));
  for (const auto& l : w.layers) {
    for (const auto* wv : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      need(*wv, static_cast<int64_t>(B));
    }
  }
  mm_scratch_.resize(mm);
  attn_scratch_.resize(rt::attention_scratch_floats(n_ctx_, pool_->size()));
  history_.reserve(static_cast<size_t>(n_ctx_));
}

std::span<const float> LlmSession::decode(std::span<const int32_t> tokens, const CancelToken& cancel) {
  if (tokens.empty()) fail("LLM decode needs at least one token");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n_past() + n > n_ctx_) {
    fail("the conversation needs {} positions but the context holds {}; start a new session or "
         "raise n_ctx",
         n_past() + n, n_ctx_);
  }
  const auto n_vocab = model_->config().n_vocab;
  for (int32_t t : tokens) {
    if (t < 0 || t >= n_vocab) fail("token id {} is outside the vocabulary of {}", t, n_vocab);
  }
  if (options_.all_logits) logits_.resize(static_cast<size_t>(n * n_vocab));
  const int64_t start = n_past();
  try {
    for (int64_t i = 0; i < n; i += options_.n_batch) {
      const int64_t m = std::min(options_.n_batch, n - i);
      float* out = options_.all_logits ? logits_.data() + i * n_vocab : logits_.data();
      forward_chunk(tokens.data() + i, m, start + i, options_.all_logits, out, cancel);
      history_.insert(history_.end(), tokens.begin() + i, tokens.begin() + i + m);
    }
  } catch (const Cancelled&) {
    history_.resize(static_cast<size_t>(start));
    throw;
  }
  return logits_at(options_.all_logits ? n - 1 : 0);
}

std::span<const float> LlmSession::logits_at(int64_t i) const {
  const auto n_vocab = static_cast<size_t>(model_->config().n_vocab);
  const size_t offset = static_cast<size_t>(i) * n_vocab;
  if (offset + n_vocab > logits_.size()) fail("logits of token {} were not kept (all_logits is off)", i);
  return {logits_.data() + offset, n_vocab};
}

std::span<const float> LlmSession::sync(std::span<const int32_t> tokens, const CancelToken& cancel) {
  if (tokens.empty()) fail("LLM sync needs at least one token");
  // Re-run at least the last token so its logits are fresh.
  const auto common = static_cast<size_t>(std::min<int64_t>(common_prefix(tokens), static_cast<int64_t>(tokens.size()) - 1));
  truncate(static_cast<int64_t>(common));
  return decode(tokens.subspan(common), cancel);
}

int64_t LlmSession::common_prefix(std::span<const int32_t> tokens) const {
  size_t n = 0;
  while (n < history_.size() && n < tokens.size() && history_[n] == tokens[n]) ++n;
  return static_cast<int64_t>(n);
}

void LlmSession::truncate(int64_t n) {
  if (n < 0 || n > n_past()) fail("cannot truncate the KV cache to {} of {} positions", n, n_past());
  history_.resize(static_cast<size_t>(n));
}

}  // namespace duet::models
