// Whisper beam search as openai-whisper defines it and faster-whisper parameterises it: every
// live hypothesis proposes its beam_size + 1 likeliest tokens (after the same logit rules as
// greedy decoding), the beam_size best unfinished candidates live on, candidates ending in
// <|endoftext|> are collected until round(beam_size * patience) are finished or the best
// candidate of a step is one (as CTranslate2 stops), and the winner is the best
// sum_logprob / length^length_penalty. Each hypothesis has its own self-attention cache
// slot (double-buffered: beams of step t live in one half, step t + 1 in the other).
// Must never rank by anything but those scores, and never let one beam see another's cache.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/error.hpp"
#include "models/whisper_decode.hpp"
#include "models/whisper_rules.hpp"
#include "runtime/ops.hpp"

namespace duet::whisper {
namespace {

struct Hyp {
  std::vector<int32_t> seq;  // from the prefix start (what the rules see)
  double logprob = 0.0;
  int slot = 0;
};

struct Candidate {
  double logprob = 0.0;
  int32_t token = 0;
  int beam = 0;
};

struct Finished {
  std::vector<int32_t> tokens;  // generated, without the prefix and <|endoftext|>
  double logprob = 0.0;
};

// Appends beam b's top `k` continuations (finite log-probabilities only) to `out`.
void propose(const WhisperModel& m, const DecodeOptions& opt, const Hyp& h, int b, int k,
             std::span<float> lg, std::vector<Candidate>& out) {
  detail::apply_rules(m, opt, h.seq, lg);
  const double lse = rt::log_sum_exp(lg.data(), static_cast<int64_t>(lg.size()));
  std::vector<std::pair<float, int32_t>> top;  // descending, at most k
  top.reserve(static_cast<size_t>(k) + 1);
  for (size_t i = 0; i < lg.size(); ++i) {
    const float v = lg[i];
    if (v == -std::numeric_limits<float>::infinity()) continue;
    if (static_cast<int>(top.size()) == k && v <= top.back().first) continue;
    auto it = std::upper_bound(top.begin(), top.end(), v,
                               [](float x, const std::pair<float, int32_t>& e) { return x > e.first; });
    top.insert(it, {v, static_cast<int32_t>(i)});
    if (static_cast<int>(top.size()) > k) top.pop_back();
  }
  for (const auto& [v, t] : top) out.push_back({h.logprob + (static_cast<double>(v) - lse), t, b});
}

}  // namespace

DecodeResult decode_beam(WhisperState& state, const DecodeOptions& opt, const CancelToken& cancel) {
  const WhisperModel& m = state.model();
  const int B = std::max(1, opt.beam_size);
  if (B > 32) fail("whisper: beam size {} is too large (at most 32)", B);
  const auto max_candidates =
      static_cast<size_t>(std::max(1L, std::lround(static_cast<double>(B) * opt.patience)));
  const detail::Prompt p = detail::build_prompt(m, opt);
  const auto P = static_cast<int64_t>(p.tokens.size());
  const int32_t eot = m.tokens().eot;
  DecodeResult r;
  r.temperature = 0.0f;
  r.no_speech_prob = detail::feed_prompt(state, p, {}, cancel, 0);

  const std::vector<int32_t> seq0(p.tokens.begin() + p.before_prefix, p.tokens.end());
  const size_t prefix_len = seq0.size();
  std::vector<Hyp> beams{{seq0, 0.0, 0}};
  std::vector<Finished> finished;
  std::vector<Candidate> cands;
  propose(m, opt, beams[0], 0, B + 1, state.logits(), cands);
  int base = 0;
  for (int64_t pos = P;; ++pos) {
    std::stable_sort(cands.begin(), cands.end(),
                     [](const Candidate& a, const Candidate& b) { return a.logprob > b.logprob; });
    std::vector<Hyp> next;
    std::vector<Finished> newly;
    for (const Candidate& c : cands) {
      const Hyp& src = beams[static_cast<size_t>(c.beam)];
      if (c.token == eot) {
        newly.push_back({std::vector<int32_t>(src.seq.begin() + static_cast<int64_t>(prefix_len),
                                              src.seq.end()),
                         c.logprob});
        continue;
      }
      Hyp h{src.seq, c.logprob, src.slot};
      h.seq.push_back(c.token);
      next.push_back(std::move(h));
      if (static_cast<int>(next.size()) == B) break;
    }
    for (Finished& f : newly) {
      if (finished.size() >= max_candidates) break;
      finished.push_back(std::move(f));
    }
    beams = std::move(next);
    // CTranslate2 (faster-whisper's engine) also stops once the best candidate of a step ends
    // the text; without this a tiny model's repetition loops outscore the real ending.
    const bool top_finished = !cands.empty() && cands.front().token == eot;
    if (top_finished || finished.size() >= max_candidates || beams.empty() ||
        pos + 1 >= p.max_total) {
      break;
    }
    // Each surviving hypothesis gets a cache slot in the other half, copied from its source.
    const int nbase = base == 0 ? B : 0;
    cands.clear();
    for (size_t j = 0; j < beams.size(); ++j) {
      const int slot = nbase + static_cast<int>(j);
      state.copy_self_cache(beams[j].slot, slot, pos);
      beams[j].slot = slot;
      const int32_t one[1] = {beams[j].seq.back()};
      state.decode(one, pos, 0, cancel, slot);
      propose(m, opt, beams[j], static_cast<int>(j), B + 1, state.logits(), cands);
    }
    base = nbase;
  }
  // Too few finished: the unfinished hypotheses join, likeliest first (as openai-whisper).
  std::stable_sort(beams.begin(), beams.end(),
                   [](const Hyp& a, const Hyp& b) { return a.logprob > b.logprob; });
  for (const Hyp& h : beams) {
    if (finished.size() >= static_cast<size_t>(B)) break;
    finished.push_back({std::vector<int32_t>(h.seq.begin() + static_cast<int64_t>(prefix_len), h.seq.end()),
                        h.logprob});
  }
  if (finished.empty()) fail("whisper beam search: no hypothesis (all tokens suppressed)");
  auto score = [&](const Finished& f) {
    const double len = std::max<double>(1.0, static_cast<double>(f.tokens.size()));
    return f.logprob / std::pow(len, static_cast<double>(opt.length_penalty));
  };
  const Finished* best = &finished[0];
  for (const Finished& f : finished) {
    if (score(f) > score(*best)) best = &f;
  }
  r.tokens = best->tokens;
  r.sum_logprob = best->logprob;
  r.avg_logprob = r.sum_logprob / static_cast<double>(r.tokens.size() + 1);
  return r;
}

}  // namespace duet::whisper
