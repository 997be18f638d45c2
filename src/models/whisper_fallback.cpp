// Temperature fallback as faster-whisper does it: decode at temperature 0 (greedy or beam), and
// retry at each higher temperature (best of N seeded samples) while the result looks like a
// hallucination (too compressible) or is too unlikely, unless it is silence. Must never return a
// result of a temperature it did not try, and never pick by anything but faster-whisper's rules.
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "models/whisper_decode.hpp"

namespace duet::whisper {
namespace {

std::string strip(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  size_t b = 0, e = s.size();
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// The ranking score of a hypothesis: sum_logprob / length^length_penalty.
double score(const DecodeResult& r, float length_penalty) {
  const double len = std::max<double>(1.0, static_cast<double>(r.tokens.size()));
  return r.sum_logprob / std::pow(len, static_cast<double>(length_penalty));
}

DecodeResult decode_at(WhisperState& state, const TranscribeOptions& topt, DecodeOptions dopt,
                       float temperature, size_t t_index, const CancelToken& cancel) {
  dopt.temperature = temperature;
  if (temperature <= 0.0f) {
    return dopt.beam_size > 1 ? decode_beam(state, dopt, cancel) : decode_greedy(state, dopt, cancel);
  }
  dopt.draft.clear();
  DecodeResult best;
  bool have = false;
  const uint64_t base = dopt.seed * 1000003ull + t_index * 1009ull;
  for (int i = 0; i < std::max(1, topt.best_of); ++i) {
    dopt.seed = base + static_cast<uint64_t>(i);
    DecodeResult r = decode_greedy(state, dopt, cancel);
    if (!have || score(r, dopt.length_penalty) > score(best, dopt.length_penalty)) {
      best = std::move(r);
      have = true;
    }
  }
  return best;
}

}  // namespace

double compression_ratio(std::string_view text) {
  if (text.empty()) return 0.0;
  uLongf out_len = compressBound(static_cast<uLong>(text.size()));
  std::string out(out_len, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &out_len,
                           reinterpret_cast<const Bytef*>(text.data()),
                           static_cast<uLong>(text.size()), Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) fail("whisper: zlib compress2 failed ({}) on {} bytes", rc, text.size());
  return static_cast<double>(text.size()) / static_cast<double>(out_len);
}

DecodeResult decode_with_fallback(WhisperState& state, const TranscribeOptions& topt,
                                  const DecodeOptions& dopt, const CancelToken& cancel) {
  const std::vector<float> zero{0.0f};
  const std::vector<float>& temps = topt.temperatures.empty() ? zero : topt.temperatures;
  std::vector<DecodeResult> tried;
  tried.reserve(temps.size());
  for (size_t ti = 0; ti < temps.size(); ++ti) {
    DecodeResult r = decode_at(state, topt, dopt, temps[ti], ti, cancel);
    r.compression_ratio = compression_ratio(strip(tokens_to_text(state.model(), r.tokens)));
    const bool repetitive = topt.compression_ratio_threshold > 0.0f &&
                            r.compression_ratio > topt.compression_ratio_threshold;
    const bool unlikely = r.avg_logprob < topt.log_prob_threshold;
    const bool silence = topt.no_speech_threshold > 0.0f &&
                         r.no_speech_prob > topt.no_speech_threshold && unlikely;
    if (silence || (!repetitive && !unlikely)) return r;
    tried.push_back(std::move(r));
  }
  // All failed: the likeliest of those under the compression threshold (or of all).
  const DecodeResult* best = nullptr;
  for (int pass = 0; pass < 2 && !best; ++pass) {
    for (const DecodeResult& r : tried) {
      const bool ok = pass == 1 || topt.compression_ratio_threshold <= 0.0f ||
                      r.compression_ratio <= topt.compression_ratio_threshold;
      if (ok && (!best || r.avg_logprob > best->avg_logprob)) best = &r;
    }
  }
  DecodeResult out = *best;
  out.temperature = temps.back();  // faster-whisper reports the last temperature tried
  return out;
}

}  // namespace duet::whisper
