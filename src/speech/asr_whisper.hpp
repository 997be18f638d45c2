// Streaming speech recognition with Whisper: push 16 kHz mono PCM in chunks of any size; every
// `partial_interval_ms` of new audio a partial hypothesis is decoded; finish() gives the final
// text of the utterance and starts the next. The stable prefix is the words two consecutive
// partials agree on (LocalAgreement-2), less those heard in the last 2 s (a word is stable once
// Whisper has heard what follows it); once stable, those tokens are fed to the decoder as a
// forced prefix and never generated again; the rest of the latest hypothesis (a partial's or a
// peek's) is a speculative draft the decoder verifies in one batched pass (same result, fewer
// sequential steps). Audio beyond 30 s is committed window by window so memory stays bounded.
// One WhisperAsr per stream; the WhisperModel is shared.
// Must never block on anything but its own computation, and never drop confirmed text.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audio/log_mel.hpp"
#include "core/cancel.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"

namespace duet::speech {

struct AsrOptions {
  int partial_interval_ms = 300;  // audio between partial hypotheses; <= 0 disables partials
  // Decoding as offline; with timestamps on (the default) confirmed tokens may include timestamp
  // tokens, which keep the timestamp rules consistent and stop repetition loops.
  // Only its decode options, thresholds and audio context apply: the stream always decodes
  // greedily at temperature 0 (no temperature fallback, no beam search) for latency.
  whisper::TranscribeOptions transcribe;
  // Verify the previous hypothesis as a draft in one batched decoder pass (exact: same text).
  bool speculative = true;
};

struct AsrResult {
  std::string text;       // the whole utterance so far (final: all of it)
  std::string stable;     // prefix of text that will not change
  bool is_final = false;
  double audio_seconds = 0.0;  // audio of the utterance heard when this result was made
  double decode_seconds = 0.0; // partial/peek: time in the text decoder (not the encoder)
  int draft_accepted = 0;      // partial/peek: tokens taken from the draft without a decoder step
};

class WhisperAsr {
 public:
  WhisperAsr(std::shared_ptr<const whisper::WhisperModel> model, rt::ThreadPool* pool,
             AsrOptions options = {});

  // Appends samples (non-finite values count as 0). Returns a partial when one was due.
  std::optional<AsrResult> push(std::span<const float> pcm, const CancelToken& cancel);
  // Appends samples without decoding anything (the caller schedules partials itself).
  void append(std::span<const float> pcm, const CancelToken& cancel);
  // Decodes a partial hypothesis of the audio so far now (updating the stable prefix). After a
  // Cancelled the recogniser is as before the call.
  AsrResult partial(const CancelToken& cancel);
  // The final text of the audio so far, as finish() would give it, without ending the utterance:
  // more audio may follow (a speculative end of turn). Its words are the next decode's draft (a
  // look after this one, on a little more audio, then verifies them in one pass). After a
  // Cancelled nothing changed.
  AsrResult peek(const CancelToken& cancel);
  // Samples of the current utterance appended so far.
  int64_t samples() const { return total_samples_; }
  // Ends the utterance: decodes what is left and returns the final result; then resets.
  AsrResult finish(const CancelToken& cancel);
  // Drops the utterance in progress.
  void reset();

 private:
  // Decodes the pending audio with the confirmed tokens as prefix; returns the generated tokens.
  whisper::DecodeResult decode_pending(const CancelToken& cancel);
  void commit_window(const CancelToken& cancel);
  std::string text_of(const std::vector<int32_t>& generated) const;

  std::shared_ptr<const whisper::WhisperModel> model_;
  AsrOptions opt_;
  whisper::WhisperState state_;
  audio::LogMel mel_;
  std::vector<float> feats_, window_;
  std::string committed_text_;           // text of earlier 30 s windows of this utterance
  std::vector<int32_t> committed_tokens_;  // their tokens (decoder conditioning)
  std::vector<int32_t> confirmed_;       // stable tokens of the current window (forced prefix)
  std::vector<int32_t> last_hyp_;        // confirmed_ + the previous partial's generated tokens
  // confirmed_ + the tokens of the latest partial or peek: the next decode's draft. A look at the
  // transcript that follows another look (more silence heard, or the person went on) starts from
  // the newer words instead of the last partial's.
  std::vector<int32_t> draft_;
  double last_decode_s_ = 0.0;           // decoder time of the last decode_pending()
  int last_draft_accepted_ = 0;          // draft tokens it accepted
  int64_t since_partial_ = 0;            // samples since the last partial
  int64_t total_samples_ = 0;            // samples of the utterance (all windows)
};

}  // namespace duet::speech
