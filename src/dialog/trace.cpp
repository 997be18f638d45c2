// TurnTrace to JSON. Must never invent a milestone: absent ones are left out.
#include "dialog/trace.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

namespace duet::dialog {

double TurnTrace::voice_to_voice_ms() const {
  const double end = voice_end_ms >= 0 ? voice_end_ms : speech_end_ms;
  if (first_audio_ms < 0 || end < 0) return -1;
  return first_audio_ms - end;
}

std::string TurnTrace::to_json() const {
  nlohmann::ordered_json j;
  j["turn"] = turn;
  j["mode"] = mode;
  const auto put = [&](const char* key, double v) {
    if (v >= 0) j[key] = std::round(v * 10.0) / 10.0;
  };
  put("speech_start_ms", speech_start_ms);
  put("speech_end_ms", speech_end_ms);
  put("voice_end_ms", voice_end_ms);
  put("look_start_ms", look_start_ms);
  put("look_text_ms", look_text_ms);
  put("look_tone_ms", look_tone_ms);
  put("speculative_start_ms", speculative_start_ms);
  put("final_transcript_ms", final_transcript_ms);
  put("first_token_ms", first_token_ms);
  put("first_tts_chunk_ms", first_tts_chunk_ms);
  put("first_audio_ms", first_audio_ms);
  if (voice_to_voice_ms() >= 0) {
    j["voice_to_voice_ms"] = std::round(voice_to_voice_ms() * 10.0) / 10.0;
  }
  j["rollbacks"] = rollbacks;
  j["looks"] = looks;
  j["early_look"] = early_look;
  if (!end_pitch.empty()) j["end_pitch"] = end_pitch;
  j["interrupted"] = interrupted;
  j["transcript"] = transcript;
  j["annotation"] = annotation;
  j["reply"] = reply;
  j["prompt_tokens"] = prompt_tokens;
  j["reused_tokens"] = reused_tokens;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace duet::dialog
