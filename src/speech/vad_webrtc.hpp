// WebRTC's classic voice activity detector (a GMM over six sub-band energies, from Debian's
// libwebrtc-audio-processing) behind the VoiceActivity interface: 20 ms frames at 8 or 16 kHz,
// a hard 0/1 decision per frame, aggressiveness 0 (most permissive) to 3 (least).
// Selected as "webrtc" or "webrtc:<0-3>". Must never be shared between streams or threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "speech/vad.hpp"

namespace duet::speech {

class WebrtcVad final : public VoiceActivity {
 public:
  // Throws duet::Error for a rate other than 8000/16000 or aggressiveness outside 0..3.
  explicit WebrtcVad(int sample_rate = 16000, int aggressiveness = 2);
  ~WebrtcVad() override;
  WebrtcVad(const WebrtcVad&) = delete;
  WebrtcVad& operator=(const WebrtcVad&) = delete;

  std::string name() const override;
  int sample_rate() const override { return sample_rate_; }
  int frame_samples() const override { return sample_rate_ / 50; }
  float step(std::span<const float> frame) override;
  void reset() override;
  int aggressiveness() const { return aggressiveness_; }

 private:
  struct Handle;
  int sample_rate_;
  int aggressiveness_;
  std::unique_ptr<Handle> handle_;
  std::vector<int16_t> pcm_;  // the frame as 16-bit PCM, sized once
};

}  // namespace duet::speech
