// Test clips with known properties for the voice-feature tests: espeak-ng speech with a chosen
// voice, rate and pitch; real recordings from pocketsphinx-testdata; white noise, synthetic music
// (harmonic notes and chords), babble (several espeak voices at once) and a steady synthetic
// vowel ("uhh"), all 16 kHz mono. Test-only; must never be linked into the product.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "core/cancel.hpp"
#include "speech/espeak_voice.hpp"

namespace duet::test::clips {

inline constexpr int kRate = 16000;

inline std::vector<float> espeak(const std::string& text, const std::string& voice = "espeak:en-us",
                                 std::optional<int> wpm = std::nullopt,
                                 std::optional<int> pitch = std::nullopt) {
  EspeakVoice v(voice);
  SynthesisOptions options;
  options.words_per_minute = wpm;
  options.pitch = pitch;
  const CancelToken cancel;
  return resample(v.synthesize(text, options, cancel).to_mono(), kRate).samples;
}

// A pocketsphinx-testdata recording at 16 kHz, or nothing when the package is absent.
inline std::optional<std::vector<float>> recording(const std::string& relative) {
  const std::filesystem::path path =
      std::filesystem::path("/usr/share/pocketsphinx/test/data") / relative;
  if (!std::filesystem::exists(path)) return std::nullopt;
  return resample(read_wav(path).to_mono(), kRate).samples;
}

inline size_t samples(double seconds) { return static_cast<size_t>(std::llround(seconds * kRate)); }

inline std::vector<float> silence(double seconds) { return std::vector<float>(samples(seconds)); }

inline std::vector<float> white_noise(double seconds, float rms, unsigned seed = 11) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, rms);
  std::vector<float> out(samples(seconds));
  for (float& v : out) v = gauss(rng);
  return out;
}

// A chord progression: three notes at a time, each with five harmonics (1/k), 0.5 s per chord
// with a short attack and a gentle decay; peak about `level`.
inline std::vector<float> music(double seconds, float level) {
  const double chords[4][3] = {{261.63, 329.63, 392.0}, {220.0, 261.63, 329.63},
                               {174.61, 220.0, 261.63}, {196.0, 246.94, 293.66}};
  std::vector<float> out(samples(seconds));
  const size_t per_chord = samples(0.5);
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t c = (i / per_chord) % 4;
    const double local = static_cast<double>(i % per_chord) / kRate;
    const double env = std::min(1.0, local / 0.01) * std::exp(-1.5 * local);
    const double t = static_cast<double>(i) / kRate;
    double v = 0.0;
    for (double f : chords[c]) {
      for (int k = 1; k <= 5; ++k) v += std::sin(2.0 * std::numbers::pi * f * k * t) / k;
    }
    out[i] = static_cast<float>(level * env * v / 6.0);
  }
  return out;
}

// Adds `src` scaled by `gain` into `dst` at sample `at` (grows dst when needed).
inline void mix_into(std::vector<float>& dst, std::span<const float> src, size_t at, float gain) {
  if (dst.size() < at + src.size()) dst.resize(at + src.size(), 0.0f);
  for (size_t i = 0; i < src.size(); ++i) dst[at + i] += gain * src[i];
}

inline std::vector<float> concat(std::initializer_list<std::vector<float>> parts) {
  std::vector<float> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline float rms(std::span<const float> x) {
  double s = 0.0;
  for (float v : x) s += static_cast<double>(v) * v;
  return x.empty() ? 0.0f : static_cast<float>(std::sqrt(s / x.size()));
}

// Several espeak voices talking at once, looped to `seconds`, scaled to `level` RMS.
inline std::vector<float> babble(double seconds, float level) {
  const char* texts[] = {
      "The committee met on Tuesday to discuss the budget for the coming year.",
      "I told her that the train would be late again because of the weather.",
      "Please remember to bring the documents when you come to the office tomorrow.",
      "We walked along the river until the sun went down behind the hills.",
      "Nobody knew where the old map had been hidden after the fire."};
  const char* voices[] = {"espeak:en-us", "espeak:en+f3", "espeak:en+m3", "espeak:en+f4",
                          "espeak:en+m1"};
  std::vector<float> out(samples(seconds));
  for (int v = 0; v < 5; ++v) {
    const std::vector<float> talk = espeak(texts[v], voices[v]);
    if (talk.empty()) continue;
    size_t pos = samples(0.23 * v);
    for (size_t i = 0; i < out.size(); ++i) out[i] += talk[(i + pos) % talk.size()];
  }
  const float r = rms(out);
  if (r > 0) {
    for (float& v : out) v *= level / r;
  }
  return out;
}

// A steady "uhh": a 110 Hz glottal pulse train through three vowel formants, `seconds` long.
inline std::vector<float> steady_vowel(double seconds, float level, double f0 = 110.0) {
  std::vector<float> src(samples(seconds));
  double phase = 0.0;
  for (size_t i = 0; i < src.size(); ++i) {
    phase += f0 / kRate;
    if (phase >= 1.0) phase -= 1.0;
    src[i] = static_cast<float>(phase < 0.02 ? 1.0 : 0.0) - 0.02f;
  }
  std::vector<float> out(src.size(), 0.0f);
  for (const auto& [freq, bw] : {std::pair{600.0, 80.0}, {1200.0, 100.0}, {2500.0, 150.0}}) {
    const double r = std::exp(-std::numbers::pi * bw / kRate);
    const double a1 = 2 * r * std::cos(2 * std::numbers::pi * freq / kRate), a2 = -r * r;
    double y1 = 0, y2 = 0;
    for (size_t i = 0; i < src.size(); ++i) {
      const double y = src[i] + a1 * y1 + a2 * y2;
      y2 = y1;
      y1 = y;
      out[i] += static_cast<float>(y);
    }
  }
  const float r = rms(out);
  const size_t ramp = samples(0.03);
  for (size_t i = 0; i < out.size(); ++i) {
    const double g = std::min({1.0, static_cast<double>(i) / ramp,
                               static_cast<double>(out.size() - i) / ramp});
    out[i] = static_cast<float>(r > 0 ? out[i] * level / r * g : 0.0);
  }
  return out;
}

}  // namespace duet::test::clips
