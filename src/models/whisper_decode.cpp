// Whisper greedy decoding with faster-whisper's logit rules, and the 30 s window loop.
// Must never emit a token the rules forbid, and never loop forever (every window advances seek).
#include "models/whisper_decode.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "text/unicode.hpp"

namespace duet::whisper {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// log-sum-exp over x[begin, end).
double log_sum_exp(const float* x, int64_t begin, int64_t end) {
  float mx = kNegInf;
  for (int64_t i = begin; i < end; ++i) mx = std::max(mx, x[i]);
  if (mx == kNegInf) return kNegInf;
  double s = 0.0;
  for (int64_t i = begin; i < end; ++i) s += std::exp(static_cast<double>(x[i] - mx));
  return mx + std::log(s);
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
  const double lse = log_sum_exp(logits.data(), 0, nv);
  const double ts_lp = log_sum_exp(logits.data(), tb, nv) - lse;
  float max_text = kNegInf;
  for (int64_t i = 0; i < tb; ++i) max_text = std::max(max_text, logits[i]);
  if (ts_lp > static_cast<double>(max_text) - lse) {
    for (int64_t i = 0; i < tb; ++i) logits[i] = kNegInf;
  }
}

}  // namespace

DecodeResult decode_greedy(WhisperState& state, const DecodeOptions& opt, const CancelToken& cancel) {
  const WhisperModel& m = state.model();
  const SpecialTokens& sp = m.tokens();
  const Hparams& hp = m.hparams();
  std::vector<int32_t> prompt;
  if (!opt.previous.empty()) {
    prompt.push_back(sp.sot_prev);
    const size_t keep = std::min<size_t>(opt.previous.size(), hp.n_text_ctx / 2 - 1);
    prompt.insert(prompt.end(), opt.previous.end() - keep, opt.previous.end());
  }
  const int64_t sot_index = static_cast<int64_t>(prompt.size());
  prompt.push_back(sp.sot);
  if (m.multilingual()) {
    const int32_t lang = m.language_token(opt.language);
    if (lang < 0) fail("whisper: unknown language '{}'", opt.language);
    prompt.push_back(lang);
    prompt.push_back(opt.translate ? sp.translate : sp.transcribe);
  }
  if (!opt.timestamps) prompt.push_back(sp.no_timestamps);
  const size_t before_prefix = prompt.size();
  if (!opt.prefix.empty()) {
    if (opt.timestamps && opt.prefix.front() < sp.timestamp_begin) prompt.push_back(sp.timestamp_begin);
    prompt.insert(prompt.end(), opt.prefix.begin(), opt.prefix.end());
  }
  const int64_t max_total = std::min<int64_t>(hp.n_text_ctx, static_cast<int64_t>(prompt.size()) +
                                                                 std::min(opt.max_new_tokens, hp.n_text_ctx / 2));
  if (static_cast<int64_t>(prompt.size()) >= hp.n_text_ctx) fail("whisper: prompt too long");

  DecodeResult r;
  // No-speech probability: softmax at the start-of-transcript position.
  state.decode(std::span(prompt).first(sot_index + 1), 0, sot_index, cancel);
  {
    std::span<float> lg = state.logits();
    const double lse = log_sum_exp(lg.data(), 0, static_cast<int64_t>(lg.size()));
    r.no_speech_prob = static_cast<float>(std::exp(lg[sp.no_speech] - lse));
  }
  int64_t n_past = sot_index + 1;
  if (static_cast<int64_t>(prompt.size()) > n_past) {
    state.decode(std::span(prompt).subspan(n_past), n_past,
                 static_cast<int64_t>(prompt.size()) - n_past - 1, cancel);
    n_past = static_cast<int64_t>(prompt.size());
  }
  // seq: what the rules look at (the forced prefix counts as sampled, as in openai/faster-whisper).
  std::vector<int32_t> seq(prompt.begin() + static_cast<int64_t>(before_prefix), prompt.end());
  const size_t prefix_len = seq.size();
  seq.reserve(prefix_len + opt.max_new_tokens + 1);
  while (n_past < max_total) {
    std::span<float> lg = state.logits();
    apply_rules(m, opt, seq, lg);
    const int64_t best = std::max_element(lg.begin(), lg.end()) - lg.begin();
    const double lse = log_sum_exp(lg.data(), 0, static_cast<int64_t>(lg.size()));
    r.sum_logprob += lg[best] - lse;
    const auto tok = static_cast<int32_t>(best);
    if (tok == sp.eot) break;
    seq.push_back(tok);
    const int32_t one[1] = {tok};
    state.decode(one, n_past, 0, cancel);
    ++n_past;
  }
  r.tokens.assign(seq.begin() + static_cast<int64_t>(prefix_len), seq.end());
  r.avg_logprob = r.sum_logprob / static_cast<double>(r.tokens.size() + 1);
  return r;
}

std::string tokens_to_text(const WhisperModel& m, std::span<const int32_t> tokens) {
  std::string raw;
  for (int32_t t : tokens) {
    if (t >= 0 && t < m.tokens().eot) raw += m.token_bytes(t);
  }
  // Byte-level tokens can split a character; broken sequences become U+FFFD.
  std::vector<uint32_t> cps;
  text::utf8_decode(raw, cps);
  std::string out;
  out.reserve(raw.size());
  for (uint32_t cp : cps) text::utf8_append(out, cp);
  return out;
}

void encode_frames(WhisperState& state, std::span<const float> mel, int64_t n_frames, int64_t first,
                   int64_t count, const TranscribeOptions& opt, std::vector<float>& window,
                   const CancelToken& cancel) {
  const Hparams& hp = state.model().hparams();
  const int64_t max_frames = 2 * static_cast<int64_t>(hp.n_audio_ctx);
  if (count <= 0 || count > max_frames || first < 0 || first + count > n_frames) {
    fail("whisper: frames {}..{} of {} cannot be encoded (at most {})", first, first + count,
         n_frames, max_frames);
  }
  const int64_t frames =
      std::clamp<int64_t>(std::max<int64_t>(count + opt.pad_frames, opt.min_frames), count, max_frames);
  window.assign(static_cast<size_t>(frames) * hp.n_mels, 0.0f);
  for (int64_t c = 0; c < hp.n_mels; ++c) {
    std::copy_n(mel.data() + c * n_frames + first, count, window.data() + c * frames);
  }
  state.encode(window, frames, cancel);
}

std::vector<Segment> transcribe(WhisperState& state, std::span<const float> mel, int64_t n_frames,
                                const TranscribeOptions& opt, const CancelToken& cancel) {
  const WhisperModel& m = state.model();
  const Hparams& hp = m.hparams();
  const int32_t tb = m.tokens().timestamp_begin;
  const int64_t window = 2 * static_cast<int64_t>(hp.n_audio_ctx);
  if (mel.size() != static_cast<size_t>(n_frames) * hp.n_mels) {
    fail("whisper transcribe: mel holds {} values, expected {} x {}", mel.size(), hp.n_mels, n_frames);
  }
  const int64_t content = n_frames - 1;  // faster-whisper drops the last frame
  std::vector<Segment> out;
  std::vector<int32_t> all_tokens;
  std::vector<float> seg_mel;
  int64_t seek = 0;
  while (seek < content) {
    const int64_t seg = std::min(window, content - seek);
    encode_frames(state, mel, n_frames, seek, seg, opt, seg_mel, cancel);
    DecodeOptions dopt = opt.decode;
    if (opt.condition_on_previous_text) dopt.previous = all_tokens;
    const DecodeResult r = decode_greedy(state, dopt, cancel);
    const double t0 = static_cast<double>(seek) * 0.01;
    if (opt.no_speech_threshold > 0 && r.no_speech_prob > opt.no_speech_threshold &&
        r.avg_logprob < opt.log_prob_threshold) {
      seek += seg;
      continue;
    }
    const std::vector<int32_t>& tk = r.tokens;
    const size_t n = tk.size();
    std::vector<size_t> slices;  // i where tk[i-1] and tk[i] are both timestamps
    for (size_t i = 1; i < n; ++i) {
      if (tk[i - 1] >= tb && tk[i] >= tb) slices.push_back(i);
    }
    const bool single_ending = n >= 2 && tk[n - 1] >= tb && tk[n - 2] < tb;
    auto ts = [&](int32_t t) { return t0 + (t - tb) * 0.02; };
    auto add_segment = [&](size_t b, size_t e, double start, double end) {
      Segment s;
      s.tokens.assign(tk.begin() + static_cast<int64_t>(b), tk.begin() + static_cast<int64_t>(e));
      s.text = tokens_to_text(m, s.tokens);
      s.start = start;
      s.end = end;
      s.no_speech_prob = r.no_speech_prob;
      s.avg_logprob = r.avg_logprob;
      if (!s.text.empty()) out.push_back(std::move(s));
    };
    size_t consumed = n;
    if (!slices.empty()) {
      if (single_ending) slices.push_back(n);
      size_t last = 0;
      for (size_t cur : slices) {
        add_segment(last, cur, tk[last] >= tb ? ts(tk[last]) : t0,
                    tk[cur - 1] >= tb ? ts(tk[cur - 1]) : t0 + seg * 0.01);
        last = cur;
      }
      if (single_ending) {
        seek += seg;
      } else {
        seek += std::max<int64_t>(1, static_cast<int64_t>(tk[last - 1] - tb) * 2);
        consumed = last;
      }
    } else {
      double end = t0 + seg * 0.01;
      for (size_t i = n; i-- > 0;) {
        if (tk[i] >= tb && tk[i] != tb) {
          end = ts(tk[i]);
          break;
        }
      }
      add_segment(0, n, t0, end);
      seek += seg;
    }
    all_tokens.insert(all_tokens.end(), tk.begin(), tk.begin() + static_cast<int64_t>(consumed));
  }
  return out;
}

}  // namespace duet::whisper
