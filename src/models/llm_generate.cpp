// generate(): the sampling loop over LlmSession with StreamDecoder (UTF-8 safe pieces) and
// StopStrings (stops split across tokens).
#include "models/llm_generate.hpp"

#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "text/stop_strings.hpp"
#include "text/stream_decoder.hpp"
#include "text/unicode.hpp"

namespace duet::models {

std::string_view stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::EndOfGeneration: return "eog";
    case StopReason::StopString: return "stop_string";
    case StopReason::Length: return "length";
    case StopReason::Cancelled: return "cancelled";
  }
  return "?";
}

GenerateResult generate(LlmSession& session, std::span<const int32_t> prompt, const GenerateOptions& options,
                        const std::function<void(std::string_view)>& on_text, const CancelToken& cancel) {
  using clock = std::chrono::steady_clock;
  const auto& tokenizer = session.model().tokenizer();
  GenerateResult result;
  result.prompt_tokens = static_cast<int64_t>(prompt.size());
  result.reused_tokens = std::min(session.common_prefix(prompt), result.prompt_tokens - 1);

  text::Sampler sampler(options.sampling, static_cast<size_t>(session.model().config().n_vocab));
  for (int32_t t : prompt) sampler.accept(t);
  text::StreamDecoder decoder(tokenizer);
  text::StopStrings stops(options.stop_strings);
  // Pieces from StreamDecoder hold whole characters; bytes that are not UTF-8 at all (a model can
  // emit stray byte tokens) become U+FFFD so consumers (TTS, JSON) always get valid text.
  std::string clean;
  auto emit = [&](std::string_view piece) {
    if (piece.empty()) return;
    clean.clear();
    for (size_t at = 0; at < piece.size();) text::utf8_append(clean, text::utf8_decode_one(piece, at));
    result.text.append(clean);
    if (on_text) on_text(clean);
  };

  const auto t0 = clock::now();
  std::span<const float> logits;
  try {
    logits = session.sync(prompt, cancel);
  } catch (const Cancelled&) {
    result.reason = StopReason::Cancelled;
    return result;
  }
  const auto t1 = clock::now();
  result.prefill_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();

  result.reason = StopReason::Length;
  for (int i = 0; i < options.max_tokens; ++i) {
    if (cancel.cancelled()) {
      result.reason = StopReason::Cancelled;
      break;
    }
    const int32_t token = sampler.sample(logits);
    if (tokenizer.is_eog(token) ||
        std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) != options.stop_tokens.end()) {
      result.reason = StopReason::EndOfGeneration;
      break;
    }
    sampler.accept(token);
    result.tokens.push_back(token);
    const auto r = stops.push(decoder.push(token));
    emit(r.text);
    if (r.stopped) {
      result.reason = StopReason::StopString;
      break;
    }
    if (i + 1 == options.max_tokens) break;
    try {
      const int32_t one[1] = {token};
      logits = session.decode(one, cancel);
    } catch (const Cancelled&) {
      result.reason = StopReason::Cancelled;
      break;
    }
  }
  if (result.reason != StopReason::StopString) {
    // A reply cut by the token limit can end inside a character: drop that incomplete tail.
    std::string rest = decoder.flush();
    rest.resize(text::utf8_complete_prefix(rest));
    auto r = stops.push(rest);
    emit(r.text);
    if (!r.stopped) emit(stops.flush());
  }
  result.decode_ms = std::chrono::duration<double, std::milli>(clock::now() - t1).count();
  return result;
}

}  // namespace duet::models
