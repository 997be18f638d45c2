// Whisper decoding as faster-whisper does it for one 30 s window: the prompt (previous text,
// start-of-transcript, language/task, no-timestamps), greedy search with suppress tokens,
// suppress-blank, timestamp rules and max initial timestamp, no-speech probability; and the
// window loop (seek by timestamps, skip silent windows, condition on previous text) for audio of
// any length. Must never allocate per token once warmed up, and never emit special tokens as text.
#pragma once
#include <cstdint>
#include <span>
#include <string>
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
};

struct DecodeResult {
  std::vector<int32_t> tokens;  // generated tokens (after any prefix), without eot
  double sum_logprob = 0.0;
  double avg_logprob = 0.0;     // sum / (tokens + 1), as faster-whisper
  float no_speech_prob = 0.0f;
};

// Greedy decoding of the audio last encoded into `state`.
DecodeResult decode_greedy(WhisperState& state, const DecodeOptions& opt, const CancelToken& cancel);

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
};

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
