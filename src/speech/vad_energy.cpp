// EnergyVad: DC-blocked RMS level in dBFS, a minimum-following noise floor, and a logistic map
// of level-above-floor to probability, lightly smoothed. Must never allocate per frame, never
// divide by zero or take the log of zero (digital silence sits at the -100 dBFS clamp).
#include "speech/vad_energy.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace duet::speech {

namespace {

constexpr float kMinDb = -100.0f;
constexpr float kFloorFallPerFrame = 0.3f;   // fraction of the gap closed when the level drops
constexpr float kFloorRiseDbPerFrame = 0.05f;  // 2.5 dB/s: speech barely lifts it
constexpr float kSpeechSnrDb = 10.0f;        // level above floor at which p = 0.5
constexpr float kSnrSlopeDb = 2.0f;          // logistic width
constexpr float kQuietDb = -55.0f;           // frames quieter than this are never speech
constexpr float kSmoothing = 0.5f;           // weight of the previous probability

}  // namespace

EnergyVad::EnergyVad(int sample_rate) : sample_rate_(sample_rate) {
  if (sample_rate != 16000 && sample_rate != 8000) {
    fail("energy VAD: sample rate {} Hz is not supported (use 16000 or 8000; resample first)",
         sample_rate);
  }
  // Pole for a ~60 Hz corner: removes DC offset and rumble, keeps the voice band.
  hp_coeff_ = std::exp(-2.0f * 3.14159265f * 60.0f / static_cast<float>(sample_rate));
}

float EnergyVad::step(std::span<const float> frame) {
  if (frame.size() != static_cast<size_t>(frame_samples())) {
    fail("energy VAD: frames must hold {} samples (20 ms at {} Hz); got {}", frame_samples(),
         sample_rate_, frame.size());
  }
  double sum = 0.0;
  for (const float raw : frame) {
    const float x = std::isfinite(raw) ? std::clamp(raw, -1.0f, 1.0f) : 0.0f;
    const float y = x - hp_prev_in_ + hp_coeff_ * hp_prev_out_;
    hp_prev_in_ = x;
    hp_prev_out_ = y;
    sum += static_cast<double>(y) * y;
  }
  const double mean_square = sum / static_cast<double>(frame.size());
  level_db_ = mean_square > 1e-10 ? static_cast<float>(10.0 * std::log10(mean_square)) : kMinDb;
  level_db_ = std::max(level_db_, kMinDb);

  if (!primed_) {
    floor_db_ = level_db_;
    primed_ = true;
  } else if (level_db_ < floor_db_) {
    floor_db_ += kFloorFallPerFrame * (level_db_ - floor_db_);
  } else {
    floor_db_ = std::min(level_db_, floor_db_ + kFloorRiseDbPerFrame);
  }

  const float snr = level_db_ - floor_db_;
  float p = 1.0f / (1.0f + std::exp(-(snr - kSpeechSnrDb) / kSnrSlopeDb));
  if (level_db_ < kQuietDb) {
    p *= 0.2f * std::clamp((level_db_ - kMinDb) / (kQuietDb - kMinDb), 0.0f, 1.0f);
  }
  prob_ = kSmoothing * prob_ + (1.0f - kSmoothing) * p;
  return prob_;
}

void EnergyVad::reset() {
  hp_prev_in_ = 0.0f;
  hp_prev_out_ = 0.0f;
  level_db_ = kMinDb;
  floor_db_ = kMinDb;
  primed_ = false;
  prob_ = 0.0f;
}

}  // namespace duet::speech
