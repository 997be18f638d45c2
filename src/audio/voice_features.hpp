// Paralinguistic features of an utterance from signal processing alone (no neural model): pitch
// (YIN) median, range and slope, loudness, speaking rate, pauses and hesitations; the background's
// level and kind (steady noise, music, babble) from spectral features of the audio around speech;
// and a speaker-change signal from simple voice statistics compared with earlier utterances.
// Summed up as a compact annotation for the LLM's prompt, such as
// "[fast, rising pitch, loud; background: music; second speaker]".
// Must never fail on odd audio (silence, NaN, clipping, DC): it reports what it can measure.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace duet::audio {

enum class BackgroundKind { Quiet, SteadyNoise, Music, Babble };
const char* background_kind_name(BackgroundKind kind);  // "quiet", "noise", "music", "babble"

struct VoiceFeatures {
  // Pitch over voiced frames, in Hz (0 when nothing was voiced).
  float pitch_median_hz = 0, pitch_low_hz = 0, pitch_high_hz = 0;  // 10th/90th percentiles
  float pitch_slope_st_per_s = 0;  // semitones per second over the last part of the utterance
  float pitch_final_rise_st = 0;   // rise of the last syllable over the lowest pitch before it
  float voiced_fraction = 0;       // voiced frames / all frames
  float loudness_dbfs = -120;      // RMS level of the speech frames
  float clipped_fraction = 0;      // samples at or beyond full scale / all samples
  float speaking_rate_sps = 0;     // syllable nuclei per second of speech
  int pauses = 0;                  // silent gaps of 200 ms or more inside the utterance
  float pause_seconds = 0;
  int hesitations = 0;             // long, flat, steady-pitch voiced stretches ("uhh", "umm")
  float background_dbfs = -120;    // level of the non-speech audio
  BackgroundKind background = BackgroundKind::Quiet;
  int speaker = 0;                 // 0 = first voice heard in the stream, 1 = another, ...
  bool speaker_changed = false;    // differs from the previous utterance's speaker
  float pitch_vs_usual_st = 0;     // median pitch against this speaker's earlier utterances
  float duration_s = 0;
};

// Holds the stream's history (background statistics, the voices heard so far); one per stream.
class VoiceFeatureAnalyzer {
 public:
  explicit VoiceFeatureAnalyzer(int sample_rate = 16000);

  // Audio heard outside speech (any size), for the background's level and kind.
  void observe_background(std::span<const float> pcm);
  // Analyzes one utterance (mono at the analyzer's rate; beyond a minute only the last minute is
  // measured) and updates the speaker history.
  VoiceFeatures analyze(std::span<const float> utterance);
  void reset();

 private:
  // The background's measures, kept until more background arrives (a turn looked at again
  // after a pause inside it finds the same background).
  struct BackgroundCache {
    bool valid = false;
    bool present = false;         // enough background was heard to measure it
    float level_dbfs = -120;
    BackgroundKind kind = BackgroundKind::Quiet;
    std::vector<double> noise_mel;  // mean mel power, for the voice statistics
  };
  const BackgroundCache& measured_background();

  int sample_rate_;
  std::vector<float> background_;          // recent non-speech audio (bounded)
  BackgroundCache background_cache_;
  std::vector<std::vector<float>> voices_;  // a statistics vector per speaker heard
  int last_speaker_ = -1;
};

// The compact prompt annotation: only what stands out ("[fast, rising pitch, loud; background:
// music; second speaker]"); an empty string when everything is ordinary.
std::string annotation(const VoiceFeatures& features);

}  // namespace duet::audio
