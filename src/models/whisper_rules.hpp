// Internals shared by Whisper's decoding strategies (greedy/sampling, beam search, fallback):
// the prompt layout and faster-whisper's logit rules. Not part of the public API; must never
// hold state between calls.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"

namespace duet::whisper::detail {

// The decoder input before any generated token: [<|startofprev|> previous...] <|startoftranscript|>
// [language task] [<|notimestamps|>] [<|0.00|>] [prefix...].
struct Prompt {
  std::vector<int32_t> tokens;
  int64_t sot_index = 0;     // position of <|startoftranscript|>
  int64_t before_prefix = 0; // first position the logit rules treat as sampled
  int64_t max_total = 0;     // positions the decoding may fill (prompt + new tokens)
};
Prompt build_prompt(const WhisperModel& m, const DecodeOptions& opt);

// Applies suppress tokens, suppress-blank, the timestamp rules and the max initial timestamp to
// logits, given `seq`, the tokens since the prompt's prefix start (forced prefix counts).
void apply_rules(const WhisperModel& m, const DecodeOptions& opt, std::span<const int32_t> seq,
                 std::span<float> logits);

// Feeds the prompt and `draft` (at the positions following the prompt) in one decoder pass; leaves
// the logits of the prompt's last token in state.logits(0) and of each draft token in rows
// 1..draft.size(). Returns the no-speech probability read at <|startoftranscript|> in that pass.
float feed_prompt(WhisperState& state, const Prompt& p, std::span<const int32_t> draft,
                  const CancelToken& cancel, int slot = 0);

}  // namespace duet::whisper::detail
