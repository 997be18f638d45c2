// open_voice_activity(): picks a voice activity detector by name. Must never fall back silently
// from an explicit choice: only "auto" chooses, and an unknown name is an error that lists the
// choices.
#include <string>

#include "core/error.hpp"
#include "speech/vad.hpp"
#include "speech/vad_energy.hpp"
#include "speech/vad_silero.hpp"
#include "speech/vad_webrtc.hpp"

namespace duet::speech {

std::unique_ptr<VoiceActivity> open_voice_activity(std::string_view name, int sample_rate) {
  if (sample_rate != 16000 && sample_rate != 8000) {
    fail("voice activity detection runs at 16000 or 8000 Hz, not {}; resample first", sample_rate);
  }
  if (name == "auto") {
    if (SileroVad::default_model_path()) return SileroVad::open_default(sample_rate);
    return std::make_unique<WebrtcVad>(sample_rate, 2);
  }
  if (name == "silero") return SileroVad::open_default(sample_rate);
  if (name == "energy") return std::make_unique<EnergyVad>(sample_rate);
  if (name.substr(0, 6) == "webrtc") {
    int aggressiveness = 2;
    if (name.size() > 6) {
      if (name[6] != ':' || name.size() != 8 || name[7] < '0' || name[7] > '3') {
        fail("bad VAD name '{}': use webrtc or webrtc:0 .. webrtc:3 (aggressiveness)", name);
      }
      aggressiveness = name[7] - '0';
    }
    return std::make_unique<WebrtcVad>(sample_rate, aggressiveness);
  }
  fail("unknown voice activity detector '{}'; choose auto, silero, webrtc[:0-3] or energy", name);
}

}  // namespace duet::speech
