// Whisper's prompt layout and faster-whisper's logit rules (suppression, timestamps), shared by
// every decoding strategy. Must never let a rule depend on anything but the sequence so far.
#include "models/whisper_rules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "runtime/ops.hpp"

namespace duet::whisper::detail {
namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

Prompt build_prompt(const WhisperModel& m, const DecodeOptions& opt) {
  const SpecialTokens& sp = m.tokens();
  const Hparams& hp = m.hparams();
  Prompt p;
  std::vector<int32_t>& t = p.tokens;
  if (!opt.previous.empty()) {
    t.push_back(sp.sot_prev);
    const size_t keep = std::min<size_t>(opt.previous.size(), hp.n_text_ctx / 2 - 1);
    t.insert(t.end(), opt.previous.end() - static_cast<int64_t>(keep), opt.previous.end());
  }
  p.sot_index = static_cast<int64_t>(t.size());
  t.push_back(sp.sot);
  if (m.multilingual()) {
    const int32_t lang = m.language_token(opt.language);
    if (lang < 0) fail("whisper: unknown language '{}'", opt.language);
    t.push_back(lang);
    t.push_back(opt.translate ? sp.translate : sp.transcribe);
  }
  if (!opt.timestamps) t.push_back(sp.no_timestamps);
  p.before_prefix = static_cast<int64_t>(t.size());
  if (!opt.prefix.empty()) {
    if (opt.timestamps && opt.prefix.front() < sp.timestamp_begin) t.push_back(sp.timestamp_begin);
    t.insert(t.end(), opt.prefix.begin(), opt.prefix.end());
  }
  const auto n = static_cast<int64_t>(t.size());
  if (n >= hp.n_text_ctx) fail("whisper: prompt of {} tokens is too long", n);
  p.max_total = std::min<int64_t>(hp.n_text_ctx, n + std::min(opt.max_new_tokens, hp.n_text_ctx / 2));
  return p;
}

void apply_rules(const WhisperModel& m, const DecodeOptions& opt, std::span<const int32_t> seq,
                 std::span<float> logits) {
  const SpecialTokens& sp = m.tokens();
  const int64_t nv = static_cast<int64_t>(logits.size());
  const int32_t tb = sp.timestamp_begin;
  if (seq.empty() && opt.suppress_blank) {
    for (int32_t t : m.suppress_tokens_begin()) logits[t] = kNegInf;
  }
  for (int32_t t : m.suppress_tokens()) logits[t] = kNegInf;
  if (!opt.timestamps) return;
  logits[sp.no_timestamps] = kNegInf;
  const size_t n = seq.size();
  const bool last_ts = n >= 1 && seq[n - 1] >= tb;
  const bool penult_ts = n < 2 || seq[n - 2] >= tb;
  if (last_ts) {
    if (penult_ts) {
      for (int64_t i = tb; i < nv; ++i) logits[i] = kNegInf;
    } else {
      for (int64_t i = 0; i < sp.eot; ++i) logits[i] = kNegInf;
    }
  }
  int32_t last_timestamp = -1;
  for (size_t i = n; i-- > 0;) {
    if (seq[i] >= tb) {
      last_timestamp = seq[i];
      break;
    }
  }
  if (last_timestamp >= 0) {
    // Timestamps never decrease; after a lone timestamp the next must be larger.
    const int32_t lim = (last_ts && !penult_ts) ? last_timestamp : last_timestamp + 1;
    for (int64_t i = tb; i < std::min<int64_t>(lim, nv); ++i) logits[i] = kNegInf;
  }
  if (n == 0) {
    for (int64_t i = 0; i < tb; ++i) logits[i] = kNegInf;
    if (opt.max_initial_timestamp_index >= 0) {
      for (int64_t i = tb + opt.max_initial_timestamp_index + 1; i < nv; ++i) logits[i] = kNegInf;
    }
  }
  // When the timestamps together are likelier than any text token, force a timestamp.
  const double lse = rt::log_sum_exp(logits.data(), nv);
  const double ts_lp = rt::log_sum_exp(logits.data() + tb, nv - tb) - lse;
  const float max_text = rt::max_value(logits.data(), tb);
  if (ts_lp > static_cast<double>(max_text) - lse) {
    for (int64_t i = 0; i < tb; ++i) logits[i] = kNegInf;
  }
}

float feed_prompt(WhisperState& state, const Prompt& p, std::span<const int32_t> draft,
                  const CancelToken& cancel, int slot) {
  const auto n = static_cast<int64_t>(p.tokens.size());
  const auto k = static_cast<int64_t>(draft.size());
  // One pass over the prompt and the draft: logits rows 0..k are the last prompt token's and each
  // draft token's, row k + 1 the start-of-transcript token's (its softmax gives the no-speech
  // probability). A second pass for the latter would stream every decoder weight once more.
  std::vector<int32_t> batch(p.tokens);
  batch.insert(batch.end(), draft.begin(), draft.end());
  std::vector<int64_t> rows(static_cast<size_t>(k + 2));
  for (int64_t i = 0; i <= k; ++i) rows[static_cast<size_t>(i)] = n - 1 + i;
  rows.back() = p.sot_index;
  state.decode_rows(batch, 0, rows, cancel, slot);
  const std::span<float> lg = state.logits(k + 1);
  const double lse = rt::log_sum_exp(lg.data(), static_cast<int64_t>(lg.size()));
  return static_cast<float>(std::exp(lg[state.model().tokens().no_speech] - lse));
}

}  // namespace duet::whisper::detail
