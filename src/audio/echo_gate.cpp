// Residual-echo gate: see echo_gate.hpp. Energies are mean squares over one frame.
#include "audio/echo_gate.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace duet::audio {
namespace {

float mean_square(std::span<const float> x) {
  double sum = 0.0;
  for (float v : x) sum += static_cast<double>(v) * v;
  return x.empty() ? 0.0f : static_cast<float>(sum / static_cast<double>(x.size()));
}

}  // namespace

EchoGate::EchoGate(const EchoGateConfig& config) : config_(config) {
  if (config.sample_rate <= 0 || config.frame_samples <= 0 || config.echo_window_ms <= 0 ||
      config.learning_ms < 0 || !(config.energy_margin >= 0.0f)) {
    fail("echo gate: invalid configuration (rate {}, frame {}, window {} ms, learning {} ms)",
         config.sample_rate, config.frame_samples, config.echo_window_ms, config.learning_ms);
  }
  learning_samples_ = static_cast<long>(config.learning_ms) * config.sample_rate / 1000;
  const long window = static_cast<long>(config.echo_window_ms) * config.sample_rate / 1000;
  far_energy_.assign(static_cast<size_t>(std::max(1L, window / config.frame_samples)), 0.0f);
}

bool EchoGate::process(std::span<const float> far, std::span<float> cleaned) {
  const auto frame = static_cast<size_t>(config_.frame_samples);
  if (far.size() != frame || cleaned.size() != frame) {
    fail("echo gate: frames must hold {} samples (far {}, cleaned {})", frame, far.size(),
         cleaned.size());
  }
  if (learned()) return false;
  const float far_now = mean_square(far);
  far_energy_[next_] = far_now;
  next_ = (next_ + 1) % far_energy_.size();
  const float active = config_.far_active_rms * config_.far_active_rms;
  if (far_now >= active) far_active_samples_ += static_cast<long>(frame);
  const float far_peak = *std::max_element(far_energy_.begin(), far_energy_.end());
  if (far_peak < active) return false;  // nothing played lately: nothing to echo
  if (mean_square(cleaned) >= config_.energy_margin * far_peak) return false;  // the person
  std::fill(cleaned.begin(), cleaned.end(), 0.0f);
  return true;
}

}  // namespace duet::audio
