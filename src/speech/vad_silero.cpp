// SileroVad: the model store's Silero VAD file, and the VoiceActivity adapter over
// models::silero_forward. Must never allocate in step().
#include "speech/vad_silero.hpp"

#include <system_error>
#include <utility>

#include "core/error.hpp"
#include "store/model_store.hpp"

namespace duet::speech {

std::optional<std::filesystem::path> SileroVad::default_model_path() {
  std::error_code ec;
  const std::filesystem::path p =
      store::ModelStore::default_dir() / std::string(kModelName) / std::string(kModelFile);
  if (std::filesystem::is_regular_file(p, ec)) return p;
  return std::nullopt;
}

std::unique_ptr<SileroVad> SileroVad::open_default(int sample_rate) {
  if (sample_rate != 16000 && sample_rate != 8000) {
    fail("Silero VAD runs at 16000 or 8000 Hz, not {} (resample first)", sample_rate);
  }
  // require() checks presence and size, and names `build/duet models pull silero-vad` when either
  // fails.
  const store::ModelStore store(store::ModelStore::default_dir());
  const std::filesystem::path path =
      with_context("Silero VAD", [&] { return store.require(kModelName, kModelFile); });
  return std::make_unique<SileroVad>(models::SileroModel::load(path), sample_rate);
}

const models::SileroModel& SileroVad::checked(const std::shared_ptr<const models::SileroModel>& m) {
  if (m == nullptr) fail("silero: no model");
  return *m;
}

SileroVad::SileroVad(std::shared_ptr<const models::SileroModel> model, int sample_rate)
    : model_(std::move(model)), state_(checked(model_), sample_rate) {}

float SileroVad::step(std::span<const float> frame) {
  return models::silero_forward(*model_, state_, frame);
}

}  // namespace duet::speech
