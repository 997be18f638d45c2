// The interface every text-to-speech voice implements (espeak-ng today, Piper neural voices
// later), so callers can pick a voice by name and never care which engine is behind it.
// Must never grow engine-specific knobs: anything here has to make sense for every voice.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "audio/audio_buffer.hpp"
#include "core/cancel.hpp"

namespace duet {

struct SynthesisOptions {
  // Speaking rate in words per minute; unset means the voice's natural rate.
  std::optional<int> words_per_minute;
  // Base pitch on a 0..100 scale, 50 being the voice's normal pitch; unset means normal.
  std::optional<int> pitch;
  // Linear loudness factor in 0..2, 1 being the voice's normal level.
  float volume = 1.0f;
};

class Voice {
 public:
  virtual ~Voice() = default;

  // The name the voice is selected by, e.g. "espeak:en-us".
  virtual std::string name() const = 0;
  // The rate synthesize() produces, in Hz.
  virtual int sample_rate() const = 0;

  // Speaks UTF-8 `text` into a mono buffer at sample_rate(). Throws duet::Error for text with
  // nothing to say or options the voice cannot honour, and duet::Cancelled (discarding any
  // partial audio) once `cancel` is raised. Each implementation states whether calls may overlap.
  virtual AudioBuffer synthesize(std::string_view text, const SynthesisOptions& options,
                                 const CancelToken& cancel) = 0;
};

}  // namespace duet
