// Whisper greedy/sampled decoding with speculative draft verification, and the 30 s window loop
// with temperature fallback. Must never emit a token the rules forbid, never let a draft change
// the result, and never loop forever (every window advances seek).
#include "models/whisper_decode.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.hpp"
#include "models/whisper_rules.hpp"
#include "runtime/ops.hpp"
#include "text/unicode.hpp"

namespace duet::whisper {
namespace {

// Picks the next token from rule-adjusted logits: argmax, or a sample at opt.temperature.
int32_t choose(std::span<const float> lg, float temperature, std::mt19937_64& rng,
               std::vector<double>& probs) {
  const int64_t best = rt::argmax(lg.data(), static_cast<int64_t>(lg.size()));
  if (temperature <= 0.0f) return static_cast<int32_t>(best);
  const double mx = lg[best];
  probs.resize(lg.size());
  double sum = 0.0;
  for (size_t i = 0; i < lg.size(); ++i) {
    sum += std::exp((static_cast<double>(lg[i]) - mx) / temperature);
    probs[i] = sum;  // cumulative
  }
  const double u = std::uniform_real_distribution<double>(0.0, sum)(rng);
  const auto it = std::upper_bound(probs.begin(), probs.end(), u);
  if (it == probs.end()) return static_cast<int32_t>(best);
  return static_cast<int32_t>(it - probs.begin());
}

}  // namespace

DecodeResult decode_greedy(WhisperState& state, const DecodeOptions& opt, const CancelToken& cancel) {
  const WhisperModel& m = state.model();
  const detail::Prompt p = detail::build_prompt(m, opt);
  const auto P = static_cast<int64_t>(p.tokens.size());
  // Draft tokens at positions P.. are usable while their logits still choose a token < max_total.
  const auto k = static_cast<int64_t>(
      std::min<size_t>(opt.draft.size(), static_cast<size_t>(std::max<int64_t>(0, p.max_total - P - 1))));
  const std::span<const int32_t> draft = std::span(opt.draft).first(static_cast<size_t>(k));
  DecodeResult r;
  r.temperature = opt.temperature;
  r.no_speech_prob = detail::feed_prompt(state, p, draft, cancel);
  std::mt19937_64 rng(opt.seed);
  std::vector<double> probs;
  // seq: what the rules look at (the forced prefix counts as sampled, as in openai/faster-whisper).
  std::vector<int32_t> seq(p.tokens.begin() + p.before_prefix, p.tokens.end());
  const size_t prefix_len = seq.size();
  seq.reserve(prefix_len + opt.max_new_tokens + 1);
  int64_t rows = k + 1;  // logits rows available: row i chooses the token at position P + i
  int64_t row = 0;
  for (int64_t pos = P; pos < p.max_total; ++pos) {
    std::span<float> lg = state.logits(row);
    detail::apply_rules(m, opt, seq, lg);
    const int32_t tok = choose(lg, opt.temperature, rng, probs);
    r.sum_logprob += lg[tok] - rt::log_sum_exp(lg.data(), static_cast<int64_t>(lg.size()));
    if (tok == m.tokens().eot) break;
    seq.push_back(tok);
    if (row + 1 < rows && tok == draft[static_cast<size_t>(row)]) {
      ++row;  // the draft token is what we chose: its logits are already computed
      ++r.draft_accepted;
      continue;
    }
    // First disagreement (or the draft ran out): decode sequentially from here on, overwriting
    // the draft's cache entries from this position.
    const int32_t one[1] = {tok};
    state.decode(one, pos, 0, cancel);
    rows = 1;
    row = 0;
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
  size_t prompt_reset_since = 0;
  int64_t seek = 0;
  while (seek < content) {
    const int64_t seg = std::min(window, content - seek);
    encode_frames(state, mel, n_frames, seek, seg, opt, seg_mel, cancel);
    DecodeOptions dopt = opt.decode;
    if (opt.condition_on_previous_text) {
      dopt.previous.assign(all_tokens.begin() + static_cast<int64_t>(prompt_reset_since),
                           all_tokens.end());
    }
    dopt.seed = opt.decode.seed + static_cast<uint64_t>(seek);
    const DecodeResult r = decode_with_fallback(state, opt, dopt, cancel);
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
    if (r.temperature > opt.prompt_reset_on_temperature) prompt_reset_since = all_tokens.size();
  }
  return out;
}

}  // namespace duet::whisper
