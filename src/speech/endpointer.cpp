// Endpointer: a per-frame state machine over detector probabilities.
//   idle -> candidate  when a frame reaches the threshold (the candidate's first sample is noted);
//   candidate -> idle  when a frame falls under the release threshold before min_speech_ms;
//   candidate -> speech once the run reaches min_speech_ms (SpeechStarted at the noted sample);
//   speech -> idle     once hangover_ms have passed under the release threshold (SpeechStopped
//                      at the end of the last frame that was at or above it).
// Adaptive mode averages the probability of frames under the threshold (what the room produces)
// and lifts both thresholds to stay clear above it. Must never allocate per frame once warmed
// up, never report a stop without its start, and never place an utterance's audio before the
// previous utterance's end.
#include "speech/endpointer.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace duet::speech {

namespace {

constexpr float kAdaptiveMargin = 0.3f;     // threshold sits this far above the room's floor
constexpr float kAdaptiveMaxThreshold = 0.95f;
constexpr float kFloorSeconds = 1.0f;       // time constant of the room-probability average

void validate(const EndpointerConfig& c) {
  if (!(c.threshold > 0.0f && c.threshold <= 1.0f)) {
    fail("endpointer: threshold {} is outside (0, 1]", c.threshold);
  }
  if (!(c.release_threshold >= 0.0f && c.release_threshold <= c.threshold)) {
    fail("endpointer: release_threshold {} must lie in [0, threshold {}]", c.release_threshold,
         c.threshold);
  }
  if (c.min_speech_ms < 0 || c.prefix_padding_ms < 0 || c.hangover_ms < 0 ||
      c.min_speech_ms > 60000 || c.prefix_padding_ms > 60000 || c.hangover_ms > 60000) {
    fail("endpointer: min_speech_ms {}, prefix_padding_ms {} and hangover_ms {} must lie in "
         "0..60000", c.min_speech_ms, c.prefix_padding_ms, c.hangover_ms);
  }
}

}  // namespace

Endpointer::Endpointer(std::unique_ptr<VoiceActivity> vad, EndpointerConfig config)
    : vad_(std::move(vad)), config_(config) {
  if (!vad_) fail("endpointer: no voice activity detector given");
  if (vad_->frame_samples() <= 0 || vad_->sample_rate() <= 0) {
    fail("endpointer: detector '{}' reports frame size {} at {} Hz", vad_->name(),
         vad_->frame_samples(), vad_->sample_rate());
  }
  validate(config_);
  pending_.reserve(static_cast<size_t>(vad_->frame_samples()));
}

void Endpointer::set_config(const EndpointerConfig& config) {
  validate(config);
  config_ = config;
}

int64_t Endpointer::ms_to_samples(int ms) const {
  return static_cast<int64_t>(ms) * vad_->sample_rate() / 1000;
}

float Endpointer::current_threshold() const {
  if (!config_.adaptive) return config_.threshold;
  return std::clamp(noise_floor_ + kAdaptiveMargin, config_.threshold,
                    std::max(config_.threshold, kAdaptiveMaxThreshold));
}

int Endpointer::silence_ms() const {
  const int64_t frame_end = frames_done_ * vad_->frame_samples();
  const int64_t silent = std::max<int64_t>(0, frame_end - last_speech_end_);
  return static_cast<int>(silent * 1000 / vad_->sample_rate());
}

std::vector<EndpointEvent> Endpointer::push(std::span<const float> pcm) {
  std::vector<EndpointEvent> events;
  const auto frame = static_cast<size_t>(vad_->frame_samples());
  size_t used = 0;
  if (!pending_.empty()) {
    const size_t take = std::min(frame - pending_.size(), pcm.size());
    pending_.insert(pending_.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(take));
    used = take;
    position_ += static_cast<int64_t>(take);
    if (pending_.size() < frame) return events;
    step_frame(pending_, events);
    pending_.clear();
  }
  while (pcm.size() - used >= frame) {
    position_ += static_cast<int64_t>(frame);
    step_frame(pcm.subspan(used, frame), events);
    used += frame;
  }
  pending_.insert(pending_.end(), pcm.begin() + static_cast<std::ptrdiff_t>(used), pcm.end());
  position_ += static_cast<int64_t>(pcm.size() - used);
  return events;
}

void Endpointer::step_frame(std::span<const float> frame, std::vector<EndpointEvent>& events) {
  float p = vad_->step(frame);
  p = std::isfinite(p) ? std::clamp(p, 0.0f, 1.0f) : 0.0f;
  last_prob_ = p;
  const int64_t n = vad_->frame_samples();
  const int64_t frame_start = frames_done_ * n;
  const int64_t frame_end = frame_start + n;
  ++frames_done_;

  const float threshold = current_threshold();
  const float release =
      std::min(threshold, config_.release_threshold + (threshold - config_.threshold));

  if (config_.adaptive && p < threshold) {
    // Frames under the threshold are the room (pauses, noise, weak onsets), in or out of an
    // utterance; averaging only those keeps real speech from lifting the threshold, and lets a
    // noise burst that was taken for speech end once the threshold has risen above it.
    const float frame_s = static_cast<float>(n) / static_cast<float>(vad_->sample_rate());
    noise_floor_ += (1.0f - std::exp(-frame_s / kFloorSeconds)) * (p - noise_floor_);
  }

  if (in_speech_) {
    if (p >= release) {
      last_speech_end_ = frame_end;
    } else if (frame_end - last_speech_end_ >= ms_to_samples(config_.hangover_ms)) {
      events.push_back({EndpointEvent::Kind::SpeechStopped, last_speech_end_, audio_start_});
      previous_end_ = last_speech_end_;
      in_speech_ = false;
      candidate_start_ = -1;
    }
    return;
  }

  if (candidate_start_ < 0) {
    if (p < threshold) return;
    candidate_start_ = frame_start;
  } else if (p < release) {
    candidate_start_ = -1;  // too short: a click, a cough, a burst of noise
    return;
  }
  last_speech_end_ = frame_end;
  if (frame_end - candidate_start_ >= ms_to_samples(config_.min_speech_ms)) {
    in_speech_ = true;
    audio_start_ = std::max({int64_t{0}, previous_end_,
                             candidate_start_ - ms_to_samples(config_.prefix_padding_ms)});
    events.push_back({EndpointEvent::Kind::SpeechStarted, candidate_start_, audio_start_});
  }
}

void Endpointer::reset() {
  vad_->reset();
  pending_.clear();
  position_ = 0;
  frames_done_ = 0;
  in_speech_ = false;
  candidate_start_ = -1;
  last_speech_end_ = 0;
  last_prob_ = 0.0f;
  noise_floor_ = 0.0f;
  audio_start_ = 0;
  previous_end_ = 0;
}

}  // namespace duet::speech
