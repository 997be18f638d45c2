// Silero VAD (the neural detector, on Duet's runtime) behind the VoiceActivity interface:
// 32 ms frames (512 samples at 16 kHz, 256 at 8 kHz), selected as "silero". The model is shared
// and immutable; this object holds one stream's LSTM state and audio context. Must never allocate
// per frame, and never serve two streams (one object per stream, one thread at a time).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "models/silero_vad.hpp"
#include "speech/vad.hpp"

namespace duet::speech {

class SileroVad final : public VoiceActivity {
 public:
  static constexpr std::string_view kModelName = "silero-vad";
  static constexpr std::string_view kModelFile = "silero_vad.gguf";

  // The converted model in the model store, when it is there.
  static std::optional<std::filesystem::path> default_model_path();
  // The store's model at `sample_rate` (16000 or 8000). Throws duet::Error naming
  // `build/duet models pull silero-vad` when the file is absent or the wrong size.
  static std::unique_ptr<SileroVad> open_default(int sample_rate);

  // Throws duet::Error for a null model or a rate the model has no branch for.
  SileroVad(std::shared_ptr<const models::SileroModel> model, int sample_rate);

  std::string name() const override { return "silero"; }
  int sample_rate() const override { return state_.sample_rate(); }
  int frame_samples() const override { return static_cast<int>(state_.frame_samples()); }
  float step(std::span<const float> frame) override;
  void reset() override { state_.reset(); }

 private:
  static const models::SileroModel& checked(const std::shared_ptr<const models::SileroModel>& m);
  std::shared_ptr<const models::SileroModel> model_;
  models::SileroState state_;
};

}  // namespace duet::speech
