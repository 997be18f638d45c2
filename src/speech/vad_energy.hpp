// A plain energy detector behind the VoiceActivity interface: the frame's level (after a DC
// blocking high-pass) against a noise floor that falls fast and rises slowly, mapped to a smooth
// probability by a logistic curve of the signal-to-floor ratio. No model, no library; the
// fallback when nothing better is available and a yardstick for the others. 20 ms frames at
// 8 or 16 kHz, selected as "energy". Must never allocate per frame or keep audio.
#pragma once

#include <span>
#include <string>

#include "speech/vad.hpp"

namespace duet::speech {

class EnergyVad final : public VoiceActivity {
 public:
  // Throws duet::Error for a rate other than 8000/16000.
  explicit EnergyVad(int sample_rate = 16000);

  std::string name() const override { return "energy"; }
  int sample_rate() const override { return sample_rate_; }
  int frame_samples() const override { return sample_rate_ / 50; }
  float step(std::span<const float> frame) override;
  void reset() override;

  // The last frame's level and the noise floor, in dBFS (for tests and diagnostics).
  float level_db() const { return level_db_; }
  float noise_floor_db() const { return floor_db_; }

 private:
  int sample_rate_;
  float hp_coeff_;          // one-pole DC blocker pole
  float hp_prev_in_ = 0.0f;
  float hp_prev_out_ = 0.0f;
  float level_db_ = -100.0f;
  float floor_db_ = -100.0f;
  bool primed_ = false;     // the floor has been seeded by the first frame
  float prob_ = 0.0f;
};

}  // namespace duet::speech
