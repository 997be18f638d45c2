// Whisper decoding as faster-whisper does it for one 30 s window: the prompt (previous text,
// start-of-transcript, language/task, no-timestamps), greedy search (with exact speculative
// verification of a draft), seeded sampling and beam search, all with suppress tokens,
// suppress-blank, timestamp rules and max initial timestamp, no-speech probability; temperature
// fallback; and the window loop (seek by timestamps, skip silent windows, condition on previous
// text) for audio of any length. Must never allocate per token once warmed up, and never emit
// special tokens as text.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cancel.hpp"
#include "models/whisper.hpp"

namespace duet::whisper {

struct DecodeOptions {
  bool timestamps = true;                // false: <|notimestamps|> (no timestamp tokens)
  int max_initial_timestamp_index = 50;  // 1.0 s
  bool suppress_blank = true;
  std::string language = "en";           // multilingual models only
  bool translate = false;                // multilingual models only
  int max_new_tokens = 224;
  std::vector<int32_t> previous;         // tokens of earlier text (conditioning), may be empty
  // Forced first tokens of the output (fed, not generated). With timestamps, a prefix that does
  // not start with a timestamp token gets <|0.00|> in front, as faster-whisper does.
  std::vector<int32_t> prefix;
  // Speculative draft: the tokens expected after the prefix (e.g. the previous hypothesis of a
  // stream). They go through the decoder in one batched pass; the longest prefix the decoding
  // would have chosen itself is accepted and decoding goes on from the first disagreement. The
  // result is the same as without a draft (greedy and sampling; beam search ignores it).
  std::vector<int32_t> draft;
  float temperature = 0.0f;    // > 0: sample from softmax(logits / temperature), seeded
  uint64_t seed = 0;
  int beam_size = 1;           // > 1 (temperature 0 only): beam search
  float patience = 1.0f;       // beam search ends after round(beam_size * patience) finished
  float length_penalty = 1.0f; // beam ranking score: sum_logprob / length^length_penalty
};

struct DecodeResult {
  std::vector<int32_t> tokens;  // generated tokens (after any prefix), without eot
  double sum_logprob = 0.0;
  double avg_logprob = 0.0;     // sum / (tokens + 1), as faster-whisper
  float no_speech_prob = 0.0f;
  float temperature = 0.0f;        // of the decoding that produced it (fallback)
  double compression_ratio = 0.0;  // of its text (set by decode_with_fallback)
  int64_t draft_accepted = 0;      // draft tokens taken over without sequential decoding
};

// Greedy decoding (or, with opt.temperature > 0, one seeded sample) of the audio last encoded
// into `state`, verifying opt.draft on the way.
DecodeResult decode_greedy(WhisperState& state, const DecodeOptions& opt, const CancelToken& cancel);
// Beam search of opt.beam_size hypotheses (openai-whisper's/faster-whisper's rules: each beam
// proposes beam_size + 1 tokens, finished hypotheses are collected until round(beam_size *
// patience) or until the best candidate of a step is finished (CTranslate2), ranked by
// sum_logprob / length^length_penalty).
DecodeResult decode_beam(WhisperState& state, const DecodeOptions& opt, const CancelToken& cancel);

// gzip-style compression ratio of text as faster-whisper computes it: bytes / zlib bytes.
double compression_ratio(std::string_view text);

// UTF-8 text of the text tokens in `tokens` (specials and timestamps skipped).
std::string tokens_to_text(const WhisperModel& model, std::span<const int32_t> tokens);

struct TranscribeOptions {
  DecodeOptions decode;
  bool condition_on_previous_text = true;
  float no_speech_threshold = 0.6f;
  float log_prob_threshold = -1.0f;
  // Variable audio context: the encoder sees max(min_frames, heard frames + pad_frames) mel
  // frames (at most 3000), the rest being zeros in the normalised domain as faster-whisper pads.
  // 3000 = the full context like the peer. Tiny models repeat themselves when the context ends
  // right after the speech, hence the defaults (measured on the test set, see bench/asr).
  int min_frames = 1000;
  int pad_frames = 200;
  // Temperature fallback (faster-whisper's defaults): a decoding is retried at the next
  // temperature when its compression ratio > compression_ratio_threshold or its avg_logprob <
  // log_prob_threshold, unless no_speech_prob > no_speech_threshold with that low logprob
  // (silence). Temperature 0 decodes with decode.beam_size; > 0 takes the best of `best_of`
  // seeded samples (seed from decode.seed). {0} alone turns fallback off.
  std::vector<float> temperatures = {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};
  float compression_ratio_threshold = 2.4f;  // <= 0: no compression check
  int best_of = 5;
  float prompt_reset_on_temperature = 0.5f;  // condition no further back than such a window
};

// Decodes the encoded window at each temperature of topt until one passes the thresholds (or
// returns the best by avg_logprob among those under the compression threshold, as faster-whisper).
DecodeResult decode_with_fallback(WhisperState& state, const TranscribeOptions& topt,
                                  const DecodeOptions& dopt, const CancelToken& cancel);

struct Segment {
  double start = 0.0, end = 0.0;  // seconds
  std::string text;
  std::vector<int32_t> tokens;
  float no_speech_prob = 0.0f;
  double avg_logprob = 0.0;
};

// Encodes frames [first, first + count) of mel f32 [n_mels, n_frames] into `state`, zero-padded to
// the variable context opt chooses (count must be 1..3000). `window` is caller scratch.
void encode_frames(WhisperState& state, std::span<const float> mel, int64_t n_frames, int64_t first,
                   int64_t count, const TranscribeOptions& opt, std::vector<float>& window,
                   const CancelToken& cancel);

// Transcribes normalised features mel f32 [n_mels, n_frames] (LogMel::features) window by window.
std::vector<Segment> transcribe(WhisperState& state, std::span<const float> mel, int64_t n_frames,
                                const TranscribeOptions& opt, const CancelToken& cancel);

}  // namespace duet::whisper
