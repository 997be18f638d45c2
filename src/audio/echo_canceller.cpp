// EchoCanceller on WebRTC's AudioProcessing (libwebrtc-audio-processing 0.3): the far end goes
// through ProcessReverseStream() right before the near frame it was played against goes through
// ProcessStream(). The extended filter and delay-agnostic mode let the canceller find acoustic
// delays up to ~128 ms on its own. Must never allocate per frame (all buffers are sized once) and
// never hand the far end, or anything but the processed near end, to the caller.
#include "audio/echo_canceller.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <webrtc/common.h>
#include <webrtc/modules/audio_processing/include/audio_processing.h>

#include "core/error.hpp"

namespace duet::audio {

namespace {

bool is_supported_rate(int rate) {
  return rate == 8000 || rate == 16000 || rate == 32000 || rate == 48000;
}

// Copies `in` into `out`, reading non-finite values as 0 and clipping to [-1, 1].
void sanitize(std::span<const float> in, std::vector<float>& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    const float v = in[i];
    out[i] = std::isfinite(v) ? std::clamp(v, -1.0f, 1.0f) : 0.0f;
  }
}

// WebRTC status codes below zero are errors, except the "parameter truncated" warning.
void check(int status, const char* what) {
  if (status != webrtc::AudioProcessing::kNoError &&
      status != webrtc::AudioProcessing::kBadStreamParameterWarning) {
    fail("echo canceller: WebRTC {} failed with code {}", what, status);
  }
}

}  // namespace

struct EchoCanceller::Impl {
  EchoCancellerConfig config;
  std::unique_ptr<webrtc::AudioProcessing> apm;
  webrtc::StreamConfig stream;
  int frame = 0;
  std::vector<float> near_in, far_in, far_out, near_out;

  explicit Impl(const EchoCancellerConfig& c) : config(c), stream(c.sample_rate, 1) {
    frame = c.sample_rate / 100;
    near_in.assign(static_cast<size_t>(frame), 0.0f);
    far_in.assign(static_cast<size_t>(frame), 0.0f);
    far_out.assign(static_cast<size_t>(frame), 0.0f);
    near_out.assign(static_cast<size_t>(frame), 0.0f);
    create();
  }

  void create() {
    webrtc::Config extra;
    extra.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(true));
    extra.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(true));
    // The "experimental" AGC drives an analog microphone volume, which Duet does not control.
    extra.Set<webrtc::ExperimentalAgc>(new webrtc::ExperimentalAgc(false));
    apm.reset(webrtc::AudioProcessing::Create(extra));
    if (!apm) fail("echo canceller: WebRTC AudioProcessing::Create failed");

    webrtc::ProcessingConfig processing = {{stream, stream, stream, stream}};
    check(apm->Initialize(processing), "Initialize");
    check(apm->high_pass_filter()->Enable(true), "high-pass filter");

    auto* aec = apm->echo_cancellation();
    check(aec->enable_drift_compensation(false), "drift compensation");
    check(aec->set_suppression_level(webrtc::EchoCancellation::kHighSuppression),
          "echo suppression level");
    check(aec->Enable(config.echo_cancellation), "echo cancellation");

    auto* ns = apm->noise_suppression();
    check(ns->set_level(webrtc::NoiseSuppression::kModerate), "noise suppression level");
    check(ns->Enable(config.noise_suppression), "noise suppression");

    auto* agc = apm->gain_control();
    if (config.gain_control) {
      check(agc->set_mode(webrtc::GainControl::kAdaptiveDigital), "gain control mode");
      check(agc->set_target_level_dbfs(3), "gain control target");
      check(agc->set_compression_gain_db(9), "gain control compression");
      check(agc->enable_limiter(true), "gain control limiter");
    }
    check(agc->Enable(config.gain_control), "gain control");
  }
};

EchoCanceller::EchoCanceller(const EchoCancellerConfig& config) {
  if (!is_supported_rate(config.sample_rate)) {
    fail("echo canceller: sample rate {} Hz is not supported (use 8000, 16000, 32000 or 48000; "
         "resample first)", config.sample_rate);
  }
  if (config.delay_hint_ms < 0 || config.delay_hint_ms > 500) {
    fail("echo canceller: delay_hint_ms {} is outside 0..500", config.delay_hint_ms);
  }
  impl_ = std::make_unique<Impl>(config);
}

EchoCanceller::~EchoCanceller() = default;

int EchoCanceller::frame_samples() const { return impl_->frame; }

void EchoCanceller::process(std::span<const float> near, std::span<const float> far,
                            std::span<float> out) {
  Impl& s = *impl_;
  const auto n = static_cast<size_t>(s.frame);
  if (near.size() != n || far.size() != n || out.size() != n) {
    fail("echo canceller: frames must hold {} samples (10 ms at {} Hz); got near {}, far {}, "
         "out {}", s.frame, s.config.sample_rate, near.size(), far.size(), out.size());
  }
  sanitize(near, s.near_in);
  sanitize(far, s.far_in);

  const float* far_src[] = {s.far_in.data()};
  float* far_dst[] = {s.far_out.data()};
  check(s.apm->ProcessReverseStream(far_src, s.stream, s.stream, far_dst), "ProcessReverseStream");

  if (s.config.echo_cancellation) {
    // Far frame k and near frame k share a timeline; the acoustic delay is left to the
    // delay-agnostic estimator, seeded with the hint.
    check(s.apm->set_stream_delay_ms(s.config.delay_hint_ms), "set_stream_delay_ms");
  }
  const float* near_src[] = {s.near_in.data()};
  float* near_dst[] = {s.near_out.data()};
  check(s.apm->ProcessStream(near_src, s.stream, s.stream, near_dst), "ProcessStream");

  for (size_t i = 0; i < n; ++i) {
    const float v = s.near_out[i];
    out[i] = std::isfinite(v) ? std::clamp(v, -1.0f, 1.0f) : 0.0f;
  }
}

void EchoCanceller::reset() {
  // A fresh module forgets the adapted filter, the delay estimate and the noise profile.
  impl_->create();
}

}  // namespace duet::audio
