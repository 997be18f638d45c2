// Test helpers for the audio front end: real speech (pocketsphinx-testdata recordings, espeak-ng
// and the Piper voice, all at 16 kHz mono), mixing and delaying, and running a detector over a
// whole signal. Test-only; must never be linked into the product.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "core/cancel.hpp"
#include "speech/espeak_voice.hpp"
#include "speech/piper_voice.hpp"
#include "speech/vad.hpp"

namespace duet::test {

inline const std::filesystem::path kPocketsphinxData = "/usr/share/pocketsphinx/test/data";

// A pocketsphinx-testdata recording (path relative to its data folder) at 16 kHz mono, or
// nothing when the package is not installed.
inline std::optional<std::vector<float>> pocketsphinx_speech(const std::string& relative) {
  const auto path = kPocketsphinxData / relative;
  if (!std::filesystem::exists(path)) return std::nullopt;
  return resample(read_wav(path).to_mono(), 16000).samples;
}

// Speech from a voice, resampled to `rate` (espeak-ng speaks at 22050 Hz, Piper at 22050 too).
inline std::vector<float> speak(Voice& voice, const std::string& text, int rate = 16000) {
  const CancelToken cancel;
  return resample(voice.synthesize(text, {}, cancel).to_mono(), rate).samples;
}

inline std::vector<float> espeak_speech(const std::string& text, int rate = 16000) {
  EspeakVoice voice("espeak:en-us");
  return speak(voice, text, rate);
}

// The Piper voice from the model store, loaded once per test binary; null when not pulled.
inline PiperVoice* piper_voice() {
  static std::unique_ptr<PiperVoice> voice;
  if (!voice && PiperVoice::default_model_path()) voice = std::make_unique<PiperVoice>("piper", 2);
  return voice.get();
}

// Samples for `seconds` at `rate`.
inline size_t samples_for(double seconds, int rate = 16000) {
  return static_cast<size_t>(std::llround(seconds * rate));
}

// Quiet room noise: white noise at `rms` level, reproducible.
inline std::vector<float> room_noise(size_t count, float rms, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, rms);
  std::vector<float> out(count);
  for (float& v : out) v = gauss(rng);
  return out;
}

// Adds `src` scaled by `gain` into `dst` starting at sample `at` (grows dst when needed).
inline void mix_into(std::vector<float>& dst, std::span<const float> src, size_t at,
                     float gain = 1.0f) {
  if (dst.size() < at + src.size()) dst.resize(at + src.size(), 0.0f);
  for (size_t i = 0; i < src.size(); ++i) dst[at + i] += gain * src[i];
}

// Scales `x` so that its peak is `peak`.
inline std::vector<float> normalized(std::vector<float> x, float peak) {
  float m = 0.0f;
  for (const float v : x) m = std::max(m, std::fabs(v));
  if (m > 0.0f) {
    for (float& v : x) v *= peak / m;
  }
  return x;
}

inline double rms(std::span<const float> x) {
  double sum = 0.0;
  for (const float v : x) sum += static_cast<double>(v) * v;
  return x.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(x.size()));
}

// Runs `vad` over whole frames of `signal`; one probability per frame.
inline std::vector<float> run_vad(speech::VoiceActivity& vad, std::span<const float> signal) {
  const auto n = static_cast<size_t>(vad.frame_samples());
  std::vector<float> probs;
  for (size_t at = 0; at + n <= signal.size(); at += n) {
    probs.push_back(vad.step(signal.subspan(at, n)));
  }
  return probs;
}

// Fraction of frames in [from, to) (sample positions) whose probability is at least 0.5.
inline double active_fraction(std::span<const float> probs, int frame_samples, size_t from,
                              size_t to) {
  size_t active = 0, total = 0;
  for (size_t f = 0; f < probs.size(); ++f) {
    const size_t start = f * static_cast<size_t>(frame_samples);
    if (start < from || start + static_cast<size_t>(frame_samples) > to) continue;
    ++total;
    if (probs[f] >= 0.5f) ++active;
  }
  return total == 0 ? 0.0 : static_cast<double>(active) / static_cast<double>(total);
}

}  // namespace duet::test
