// The compact prompt annotation of VoiceFeatures. Must never mention what is ordinary: an
// everyday utterance in a quiet room gives "".
#include <string>
#include <vector>

#include "audio/voice_features.hpp"

namespace duet::audio {

namespace {

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const auto& p : parts) {
    if (!s.empty()) s += sep;
    s += p;
  }
  return s;
}

const char* ordinal(int n) {
  static constexpr const char* kNames[] = {"first", "second", "third", "fourth", "fifth"};
  return n >= 0 && n < 5 ? kNames[n] : "another";
}

}  // namespace

std::string annotation(const VoiceFeatures& f) {
  std::vector<std::string> voice;
  const bool enough_speech = f.duration_s >= 0.8f && f.loudness_dbfs > -70.0f;
  if (enough_speech && f.speaking_rate_sps > 6.0f) voice.push_back("fast");
  if (enough_speech && f.speaking_rate_sps > 0.0f && f.speaking_rate_sps < 2.5f) {
    voice.push_back("slow");
  }
  // A steep end, or a climb of 3+ semitones on the last syllable of an end that is not falling
  // (a slope of exactly 0 means the end had too little voicing to measure: no claim then).
  const bool end_measured = f.pitch_slope_st_per_s != 0.0f;
  if (f.pitch_slope_st_per_s > 8.0f ||
      (end_measured && f.pitch_final_rise_st >= 3.0f && f.pitch_slope_st_per_s > -2.0f)) {
    voice.push_back("rising pitch");
  }
  if (f.pitch_slope_st_per_s < -40.0f) voice.push_back("falling pitch");
  if (f.pitch_vs_usual_st >= 4.0f) voice.push_back("raised pitch");
  if (f.pitch_vs_usual_st <= -4.0f) voice.push_back("lowered pitch");
  if (f.loudness_dbfs > -12.0f) voice.push_back("loud");
  if (f.loudness_dbfs > -70.0f && f.loudness_dbfs < -42.0f) voice.push_back("quiet");
  if (f.clipped_fraction > 0.001f) voice.push_back("clipped");
  if (f.hesitations > 0) voice.push_back("hesitant");
  if (f.pauses >= 3 || f.pause_seconds >= 1.5f) voice.push_back("long pauses");

  std::vector<std::string> groups;
  if (!voice.empty()) groups.push_back(join(voice, ", "));
  // A background 30 dB under the voice is not worth a mention, whatever it is.
  const bool faint_background = f.loudness_dbfs - f.background_dbfs >= 30.0f;
  if (f.background != BackgroundKind::Quiet && !faint_background) {
    groups.push_back(std::string("background: ") + background_kind_name(f.background));
  }
  if (f.speaker > 0 || f.speaker_changed) {
    groups.push_back(std::string(ordinal(f.speaker)) + " speaker");
  }
  if (groups.empty()) return "";
  std::string out = "[";
  out += join(groups, "; ");
  out += ']';
  return out;
}

}  // namespace duet::audio
