// EspeakVoice over libespeak-ng in AUDIO_OUTPUT_SYNCHRONOUS mode: espeak_Synth() returns when the
// whole text is spoken, having passed the audio block by block to a callback that appends it to
// the caller's buffer (found through the event's user_data, so no global buffer is needed).
// Must never call any espeak_* function without holding the lock from lock_espeak() (also handed
// out to the Piper phonemizer as lock_espeak_engine()).
#include "speech/espeak_voice.hpp"

#include <espeak-ng/speak_lib.h>

#include <cmath>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "speech/speech_text.hpp"

namespace duet {
namespace {

constexpr std::string_view kNamePrefix = "espeak";
constexpr int kMinWordsPerMinute = espeakRATE_MINIMUM;
constexpr int kMaxWordsPerMinute = espeakRATE_MAXIMUM;
constexpr int kNormalWordsPerMinute = espeakRATE_NORMAL;
constexpr int kNormalPitch = 50;
constexpr int kNormalVolume = 100;  // espeak's 0..200 scale

// What the synthesis callback writes into; lives on the synthesizing thread's stack.
struct SynthesisSink {
  std::vector<float>* samples = nullptr;
  const CancelToken* cancel = nullptr;
  bool cancelled = false;
};

int collect_samples(short* wav, int sample_count, espeak_EVENT* events) {
  auto* sink = events != nullptr ? static_cast<SynthesisSink*>(events->user_data) : nullptr;
  if (sink == nullptr) return 1;  // not one of our syntheses: stop it
  if (sink->cancel->cancelled()) {
    sink->cancelled = true;
    return 1;
  }
  if (wav != nullptr && sample_count > 0) {
    for (int i = 0; i < sample_count; ++i) sink->samples->push_back(wav[i] / 32768.0f);
  }
  return 0;
}

// The guard for libespeak-ng's process-global state (the one global in Duet, see the header).
// Returns the held lock; `sample_rate` receives espeak's output rate.
std::unique_lock<std::mutex> lock_espeak(int& sample_rate) {
  static std::mutex espeak_mutex;
  static int initialized_rate = 0;  // guarded by espeak_mutex; 0 until espeak started
  std::unique_lock lock(espeak_mutex);
  if (initialized_rate <= 0) {
    const char* data_dir = std::getenv("DUET_ESPEAK_DATA");  // read once, before espeak starts
    if (data_dir != nullptr && *data_dir == '\0') data_dir = nullptr;
    const int rate =
        espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_dir, espeakINITIALIZE_DONT_EXIT);
    if (rate <= 0) {
      fail("espeak-ng could not start (its voice data is missing?); install it with: "
           "apt-get install espeak-ng-data");
    }
    espeak_SetSynthCallback(&collect_samples);
    initialized_rate = rate;
  }
  sample_rate = initialized_rate;
  return lock;
}

bool is_safe_voice_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '+';
    if (!ok) return false;
  }
  return true;
}

void select_voice(const std::string& espeak_voice) {
  if (espeak_SetVoiceByName(espeak_voice.c_str()) != EE_OK) {
    fail("espeak-ng has no voice '{}'; list them with: espeak-ng --voices (variants: "
         "espeak-ng --voices=variant), e.g. --voice espeak:en-us or espeak:en+f3",
         espeak_voice);
  }
}

void check_options(const SynthesisOptions& options) {
  if (options.words_per_minute &&
      (*options.words_per_minute < kMinWordsPerMinute ||
       *options.words_per_minute > kMaxWordsPerMinute)) {
    fail("espeak: speed {} words/min is outside {}..{}", *options.words_per_minute,
         kMinWordsPerMinute, kMaxWordsPerMinute);
  }
  if (options.pitch && (*options.pitch < 0 || *options.pitch > 100)) {
    fail("espeak: pitch {} is outside 0..100 (50 is normal)", *options.pitch);
  }
  if (!(options.volume >= 0.0f && options.volume <= 2.0f)) {
    fail("espeak: volume {} is outside 0..2 (1 is normal)", options.volume);
  }
}

void apply_options(const SynthesisOptions& options) {
  espeak_SetParameter(espeakRATE, options.words_per_minute.value_or(kNormalWordsPerMinute), 0);
  espeak_SetParameter(espeakPITCH, options.pitch.value_or(kNormalPitch), 0);
  espeak_SetParameter(espeakVOLUME,
                      static_cast<int>(std::lround(options.volume * kNormalVolume)), 0);
}

}  // namespace

std::unique_lock<std::mutex> lock_espeak_engine() {
  int rate = 0;
  return lock_espeak(rate);
}

bool EspeakVoice::is_espeak_name(std::string_view voice_name) {
  if (!voice_name.starts_with(kNamePrefix)) return false;
  const std::string_view rest = voice_name.substr(kNamePrefix.size());
  return rest.empty() || rest.front() == ':';
}

EspeakVoice::EspeakVoice(std::string_view voice_name) {
  if (!is_espeak_name(voice_name)) {
    fail("'{}' is not an espeak voice name; use espeak or espeak:<voice>, e.g. espeak:en-us",
         voice_name);
  }
  const std::string_view rest = voice_name.substr(kNamePrefix.size());
  espeak_voice_ = rest.empty() ? std::string(kDefaultVoice) : std::string(rest.substr(1));
  if (!is_safe_voice_name(espeak_voice_)) {
    fail("espeak voice '{}' is not a valid name (letters, digits, '-', '_', '+' only), e.g. "
         "espeak:en-us or espeak:en+f3",
         espeak_voice_);
  }
  const auto lock = lock_espeak(sample_rate_);
  select_voice(espeak_voice_);
}

std::string EspeakVoice::name() const { return std::string(kNamePrefix) + ":" + espeak_voice_; }

AudioBuffer EspeakVoice::synthesize(std::string_view text, const SynthesisOptions& options,
                                    const CancelToken& cancel) {
  const std::string cleaned = replace_invalid_utf8(text);
  if (is_blank_text(cleaned)) fail("nothing to say: the text is empty or only whitespace");
  check_options(options);
  if (cancel.cancelled()) throw Cancelled{};

  AudioBuffer audio{sample_rate_, 1, {}};
  SynthesisSink sink{&audio.samples, &cancel, false};
  {
    int rate = 0;
    const auto lock = lock_espeak(rate);
    select_voice(espeak_voice_);
    apply_options(options);
    const espeak_ERROR status = espeak_Synth(cleaned.c_str(), cleaned.size() + 1, 0, POS_CHARACTER,
                                             0, espeakCHARS_UTF8, nullptr, &sink);
    if (sink.cancelled) throw Cancelled{};
    if (status != EE_OK) fail("espeak-ng failed to synthesize the text (error {})", +status);
  }
  if (audio.samples.empty()) {
    fail("espeak-ng produced no audio for the text (nothing pronounceable in it?)");
  }
  return audio;
}

}  // namespace duet
