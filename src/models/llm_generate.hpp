// Streaming text generation on an LlmSession: sync the prompt into the KV cache (reusing the
// common prefix), then sample token by token, streaming complete UTF-8 text through a callback,
// until an end-of-generation token, a stop string, the token limit, or cancellation (noticed
// within one token). Must never hand the callback part of a UTF-8 character or text past a stop.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cancel.hpp"
#include "models/llm_model.hpp"
#include "text/sampler.hpp"

namespace duet::models {

struct GenerateOptions {
  int max_tokens = 256;
  text::SamplerConfig sampling;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_tokens;  // besides the vocabulary's end-of-generation tokens
};

enum class StopReason { EndOfGeneration, StopString, Length, Cancelled };
std::string_view stop_reason_name(StopReason r);

struct GenerateResult {
  std::string text;             // the reply, without the stop string or stop token
  std::vector<int32_t> tokens;  // the generated tokens (all but the last are in the KV cache)
  StopReason reason = StopReason::Length;
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;    // prompt tokens already in the cache (not recomputed)
  double prefill_ms = 0, decode_ms = 0;
};

// on_text receives each new piece of text as soon as it is final. After a cancel the cache holds
// the prompt and the tokens generated so far (truncate to roll back).
GenerateResult generate(LlmSession& session, std::span<const int32_t> prompt, const GenerateOptions& options,
                        const std::function<void(std::string_view)>& on_text = {},
                        const CancelToken& cancel = {});

}  // namespace duet::models
