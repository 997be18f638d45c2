// ReplySpeaker: Piper streaming or phrase-at-a-time synthesis with word marks.
// Must never drop text: every pushed word is spoken or the reply was cancelled.
#include "dialog/reply_speaker.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "speech/speech_text.hpp"

namespace duet::dialog {

ReplySpeaker::ReplySpeaker(Voice& voice, int output_rate)
    : voice_(voice), output_rate_(output_rate), onset_(output_rate) {
  if (auto* piper = dynamic_cast<PiperVoice*>(&voice)) {
    PiperControls controls;
    controls.output_rate = output_rate;
    piper_ = piper->stream(controls);
  }
}

void ReplySpeaker::push_text(std::string_view text) {
  if (piper_) {
    piper_->push_text(text);
  } else {
    splitter_.push(text);
  }
}

void ReplySpeaker::finish() {
  finished_ = true;
  if (piper_) piper_->finish();
}

bool ReplySpeaker::done() const {
  if (piper_) return piper_->done();
  return finished_ && splitter_.empty();
}

std::optional<SpokenChunk> ReplySpeaker::next_chunk(const CancelToken& cancel) {
  while (auto chunk = next_voiced_chunk(cancel)) {
    onset_.apply(chunk->samples, chunk->words);
    if (!chunk->samples.empty()) return chunk;
  }
  return std::nullopt;
}

std::optional<SpokenChunk> ReplySpeaker::next_voiced_chunk(const CancelToken& cancel) {
  if (piper_) {
    auto chunk = piper_->next_chunk(cancel);
    if (!chunk) return std::nullopt;
    SpokenChunk out;
    out.samples = std::move(chunk->samples);
    for (auto& w : chunk->words) out.words.push_back({std::move(w.word), w.start_sample});
    return out;
  }
  while (true) {
    auto phrase = splitter_.next(finished_);
    if (!phrase) return std::nullopt;
    const std::string cleaned = replace_invalid_utf8(*phrase);
    if (is_blank_text(cleaned)) continue;
    AudioBuffer audio;
    try {
      audio = voice_.synthesize(cleaned, {}, cancel);
    } catch (const Error&) {
      continue;  // nothing speakable in this phrase (only symbols): skip it, keep the reply going
    }
    if (audio.sample_rate != output_rate_) audio = resample(audio.to_mono(), output_rate_);
    SpokenChunk out;
    out.samples = std::move(audio.samples);
    // Word starts spread over the phrase in proportion to the words' lengths.
    std::vector<std::string> words;
    size_t letters = 0;
    std::string cur;
    for (char c : cleaned + " ") {
      if (c == ' ' || c == '\n' || c == '\t') {
        if (!cur.empty()) {
          letters += cur.size() + 1;
          words.push_back(std::move(cur));
        }
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    size_t before = 0;
    for (auto& w : words) {
      const auto at = static_cast<int64_t>(out.samples.size() * before / std::max<size_t>(1, letters));
      before += w.size() + 1;
      out.words.push_back({std::move(w), emitted_ + at});
    }
    emitted_ += static_cast<int64_t>(out.samples.size());
    return out;
  }
}

}  // namespace duet::dialog
