// Echo cancellation, noise suppression and automatic gain control for the microphone signal,
// through WebRTC's audio processing module (Debian's libwebrtc-audio-processing). The far end is
// what Duet itself is playing, aligned to the same timeline as the microphone: frame k of `far`
// is what the speaker played while frame k of `near` was captured (the acoustic path's delay is
// for the canceller to find). Works on 10 ms mono frames at 8, 16, 32 or 48 kHz.
// Must never allocate per frame, and never pass the far end through to the output.
#pragma once

#include <memory>
#include <span>

namespace duet::audio {

struct EchoCancellerConfig {
  int sample_rate = 16000;
  bool echo_cancellation = true;
  bool noise_suppression = true;  // moderate level
  bool gain_control = false;      // adaptive digital gain toward a steady speech level
  int delay_hint_ms = 0;          // expected acoustic delay, a starting point for the search
};

class EchoCanceller {
 public:
  explicit EchoCanceller(const EchoCancellerConfig& config = {});
  ~EchoCanceller();
  EchoCanceller(const EchoCanceller&) = delete;
  EchoCanceller& operator=(const EchoCanceller&) = delete;

  // Samples in one 10 ms frame at the configured rate.
  int frame_samples() const;
  // Cleans one near-end frame into `out` given the far-end frame played at the same time (zeros
  // when nothing plays). All three spans hold exactly frame_samples() values in [-1, 1]
  // (non-finite values count as 0, values beyond full scale are clipped); throws duet::Error for
  // a wrong frame size or when WebRTC reports an error.
  void process(std::span<const float> near, std::span<const float> far, std::span<float> out);
  // Forgets the room (adapted filter, delay estimate, noise profile): a new stream.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duet::audio
