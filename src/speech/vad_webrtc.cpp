// WebrtcVad: 20 ms float frames -> 16-bit PCM -> WebRtcVad_Process(), whose 0/1 verdict is the
// probability. Must never allocate per frame or call the library with a frame it rejects.
#include "speech/vad_webrtc.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"
#include "speech/webrtc_vad_api.hpp"

namespace duet::speech {

struct WebrtcVad::Handle {
  WebRtcVadInst* vad = nullptr;
  Handle() : vad(WebRtcVad_Create()) {
    if (vad == nullptr) fail("webrtc VAD: WebRtcVad_Create failed");
  }
  ~Handle() { WebRtcVad_Free(vad); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

WebrtcVad::WebrtcVad(int sample_rate, int aggressiveness)
    : sample_rate_(sample_rate), aggressiveness_(aggressiveness) {
  if (sample_rate != 16000 && sample_rate != 8000) {
    fail("webrtc VAD: sample rate {} Hz is not supported (use 16000 or 8000; resample first)",
         sample_rate);
  }
  if (aggressiveness < 0 || aggressiveness > 3) {
    fail("webrtc VAD: aggressiveness {} is outside 0..3", aggressiveness);
  }
  pcm_.assign(static_cast<size_t>(frame_samples()), 0);
  if (WebRtcVad_ValidRateAndFrameLength(sample_rate_, pcm_.size()) != 0) {
    fail("webrtc VAD: the library rejects {} samples at {} Hz", pcm_.size(), sample_rate_);
  }
  handle_ = std::make_unique<Handle>();
  reset();
}

WebrtcVad::~WebrtcVad() = default;

std::string WebrtcVad::name() const { return fmt::format("webrtc:{}", aggressiveness_); }

float WebrtcVad::step(std::span<const float> frame) {
  if (frame.size() != pcm_.size()) {
    fail("webrtc VAD: frames must hold {} samples (20 ms at {} Hz); got {}", pcm_.size(),
         sample_rate_, frame.size());
  }
  for (size_t i = 0; i < frame.size(); ++i) {
    const float v = std::isfinite(frame[i]) ? std::clamp(frame[i], -1.0f, 1.0f) : 0.0f;
    pcm_[i] = static_cast<int16_t>(std::lround(v * 32767.0f));
  }
  const int verdict = WebRtcVad_Process(handle_->vad, sample_rate_, pcm_.data(), pcm_.size());
  if (verdict < 0) fail("webrtc VAD: WebRtcVad_Process failed");
  return verdict > 0 ? 1.0f : 0.0f;
}

void WebrtcVad::reset() {
  if (WebRtcVad_Init(handle_->vad) != 0 || WebRtcVad_set_mode(handle_->vad, aggressiveness_) != 0) {
    fail("webrtc VAD: initializing aggressiveness {} failed", aggressiveness_);
  }
}

}  // namespace duet::speech
