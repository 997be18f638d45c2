// The always-available fallback voice: formant synthesis through libespeak-ng, 22050 Hz mono.
// Selected as "espeak" (American English) or "espeak:<espeak-ng voice>", e.g. "espeak:en-us",
// "espeak:de", "espeak:en+f3" (voice plus variant).
//
// libespeak-ng keeps its state in process globals. Every call into it, here and in the Piper
// phonemizer (piper_phonemize.cpp), is made while holding the one process-wide lock that
// lock_espeak_engine() returns: EspeakVoice objects are safe to use from any thread, but syntheses
// run one at a time. Must never call libespeak-ng without that lock.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "speech/voice.hpp"

namespace duet {

// Takes the process-wide libespeak-ng lock, starting espeak-ng on first use (its data comes from
// the directory in DUET_ESPEAK_DATA, the parent of espeak-ng-data, when that is set; otherwise
// the system's). Throws duet::Error when espeak-ng cannot start. Hold the lock for every espeak_*
// call and release it before doing anything slow.
std::unique_lock<std::mutex> lock_espeak_engine();

class EspeakVoice final : public Voice {
 public:
  static constexpr std::string_view kDefaultVoice = "en-us";

  // True for "espeak" and "espeak:<anything>", the names this class answers to.
  static bool is_espeak_name(std::string_view voice_name);

  // Starts libespeak-ng on first use and checks that the voice exists. Throws duet::Error for a
  // name that is not an espeak name, an unknown voice, or missing espeak-ng data.
  explicit EspeakVoice(std::string_view voice_name = "espeak");

  std::string name() const override;
  int sample_rate() const override { return sample_rate_; }

  // Options: words_per_minute 80..450 (default 175), pitch 0..100, volume 0..2. Cancellation is
  // checked each time espeak hands over a block of audio (every few tens of milliseconds of
  // speech). Invalid UTF-8 bytes are read as spaces.
  AudioBuffer synthesize(std::string_view text, const SynthesisOptions& options,
                         const CancelToken& cancel) override;

 private:
  std::string espeak_voice_;  // the name libespeak-ng knows, e.g. "en-us" or "en+f3"
  int sample_rate_ = 0;
};

}  // namespace duet
