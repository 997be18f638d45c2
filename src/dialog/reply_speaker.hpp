// The voice stage of a reply: text arrives in pieces from the LLM, audio leaves in chunks at the
// session's output rate with the start of every word marked, so playout can tell which words the
// person heard. Piper voices stream phrase by phrase through PiperStream; other voices (espeak)
// speak each phrase whole, with word starts spread over the phrase by length.
// Must never be used from two threads at once, and never emit audio for text not pushed.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "audio/resampler.hpp"
#include "core/cancel.hpp"
#include "dialog/frame.hpp"
#include "dialog/onset_trim.hpp"
#include "speech/phrase_splitter.hpp"
#include "speech/piper_voice.hpp"
#include "speech/voice.hpp"

namespace duet::dialog {

struct SpokenChunk {
  std::vector<float> samples;   // mono at the output rate
  std::vector<WordMark> words;  // words starting in this chunk (positions from the reply start)
};

class ReplySpeaker {
 public:
  // `voice` must outlive the speaker.
  ReplySpeaker(Voice& voice, int output_rate);
  void push_text(std::string_view text);
  void finish();
  // The next chunk, or nullopt when nothing can be spoken yet (or all was). The answer's leading
  // quiet is cut (OnsetTrim), so its first chunk starts at its first audible sound. Throws Cancelled.
  std::optional<SpokenChunk> next_chunk(const CancelToken& cancel);
  bool done() const;

 private:
  std::optional<SpokenChunk> next_voiced_chunk(const CancelToken& cancel);  // as the voice made it

  Voice& voice_;
  int output_rate_;
  std::unique_ptr<PiperStream> piper_;  // Piper voices
  PhraseSplitter splitter_;             // other voices
  bool finished_ = false;
  int64_t emitted_ = 0;                 // output samples so far (other voices)
  OnsetTrim onset_;
};

}  // namespace duet::dialog
