// Acoustic end of speech from 10 ms frame energy (see speech_offset.hpp). Must never allocate
// per frame, and never look ahead in time.
#include "audio/speech_offset.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace duet::audio {
namespace {

constexpr double kSilentMeanSquare = 1e-10;  // -100 dB: digital silence

}  // namespace

SpeechOffset::SpeechOffset(const SpeechOffsetConfig& config) : config_(config) {
  if (config_.sample_rate < 8000 || config_.sample_rate > 192000) {
    fail("speech offset: sample rate {} Hz is outside 8000..192000", config_.sample_rate);
  }
  if (config_.frame_ms < 1 || config_.frame_ms > 100) {
    fail("speech offset: frame of {} ms is outside 1..100", config_.frame_ms);
  }
  frame_samples_ = static_cast<int64_t>(config_.sample_rate) * config_.frame_ms / 1000;
}

void SpeechOffset::push(std::span<const float> pcm) {
  for (float s : pcm) {
    const double v = std::isfinite(s) ? static_cast<double>(s) : 0.0;
    acc_ += v * v;
    if (++filled_ == frame_samples_) {
      step(acc_ / static_cast<double>(frame_samples_));
      acc_ = 0.0;
      filled_ = 0;
    }
  }
}

void SpeechOffset::begin_utterance() {
  level_db_ = -100.0f;
  heard_ = false;
  quiet_frames_ = 0;
}

void SpeechOffset::step(double mean_square) {
  const auto db = static_cast<float>(10.0 * std::log10(std::max(mean_square, kSilentMeanSquare)));
  const float frame_s = static_cast<float>(config_.frame_ms) / 1000.0f;
  // The floor drops to any quieter frame at once and rises slowly, so speech barely lifts it.
  if (!have_floor_ || db < floor_db_) {
    floor_db_ = db;
    have_floor_ = true;
  } else {
    floor_db_ = std::min(db, floor_db_ + config_.floor_rise_db_per_s * frame_s);
  }
  level_db_ = std::max(db, level_db_ - config_.level_decay_db_per_s * frame_s);
  if (db >= floor_db_ + config_.min_snr_db) heard_ = true;
  const bool quiet = db < std::max(level_db_ - config_.drop_db, floor_db_ + config_.above_floor_db);
  quiet_frames_ = quiet ? quiet_frames_ + 1 : 0;
}

int SpeechOffset::quiet_ms() const {
  if (!heard_ || level_db_ - floor_db_ < config_.min_snr_db) return 0;
  return quiet_frames_ * config_.frame_ms;
}

}  // namespace duet::audio
