// Residual-echo gate for the canceller's learning period: until Duet has played enough audio for
// the echo canceller to find the acoustic path, its output still carries Duet's own voice, which
// the voice activity detector would take for the person. While learning, a cleaned frame weaker
// than the loudest far-end frame of the recent echo window (scaled by a margin) is silenced. After
// that the canceller is trusted and frames pass untouched.
// Must never touch frames once learning is over, and never look ahead in time.
#pragma once

#include <span>
#include <vector>

namespace duet::audio {

struct EchoGateConfig {
  int sample_rate = 16000;
  int frame_samples = 160;       // the canceller's 10 ms frame
  int echo_window_ms = 300;      // how far back an echo can come from
  int learning_ms = 1500;        // far-end audio the canceller needs before it is trusted
  float energy_margin = 0.5f;    // a frame below margin x the far-end peak energy is echo
  float far_active_rms = 1e-3f;  // far-end frames quieter than this count as silence
};

class EchoGate {
 public:
  explicit EchoGate(const EchoGateConfig& config = {});

  // Gates one cleaned frame in place, given the far-end frame played at the same time. Both hold
  // exactly frame_samples values. Returns true when the frame was silenced as echo.
  bool process(std::span<const float> far, std::span<float> cleaned);
  // True once the canceller has heard enough far end to be trusted.
  bool learned() const { return far_active_samples_ >= learning_samples_; }

 private:
  EchoGateConfig config_;
  long learning_samples_;
  long far_active_samples_ = 0;
  std::vector<float> far_energy_;  // mean square of the recent far-end frames (a ring)
  size_t next_ = 0;
};

}  // namespace duet::audio
