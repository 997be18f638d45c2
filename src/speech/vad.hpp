// The interface every voice activity detector implements (Silero on the runtime, WebRTC's VAD,
// a plain energy detector), so the endpointer and the conversation engine pick one by name and
// never care which is behind it. A detector eats fixed-size mono frames at its own rate and says
// how likely each one holds speech. Must never allocate per frame or keep audio beyond the
// recurrent state it needs; one detector object serves one stream.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace duet::speech {

class VoiceActivity {
 public:
  virtual ~VoiceActivity() = default;

  // "silero", "webrtc" or "energy" (with its settings, e.g. "webrtc:2").
  virtual std::string name() const = 0;
  // 16000 or 8000: the rate frames must be at (callers resample).
  virtual int sample_rate() const = 0;
  // Samples per step() call at sample_rate(), e.g. 512 at 16 kHz for Silero (32 ms).
  virtual int frame_samples() const = 0;

  // Probability in [0, 1] that `frame` (exactly frame_samples() values, nominally in [-1, 1];
  // non-finite values count as 0) holds speech. Throws duet::Error for a wrong frame size.
  virtual float step(std::span<const float> frame) = 0;
  // Forgets the recurrent state (a new stream).
  virtual void reset() = 0;
};

// Opens a detector by name at `sample_rate` (16000 or 8000): "silero" (the model store's Silero
// VAD; throws duet::Error naming `duet models pull silero-vad` when absent), "webrtc[:0-3]"
// (aggressiveness), "energy". "auto" is Silero when its model is present, else WebRTC.
std::unique_ptr<VoiceActivity> open_voice_activity(std::string_view name, int sample_rate = 16000);

}  // namespace duet::speech
