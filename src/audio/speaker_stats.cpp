// Voice summaries and their distance. Must never index a summary of the wrong size: mismatched or
// empty summaries are infinitely far apart.
#include "audio/speaker_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace duet::audio {

namespace {
constexpr size_t kSize = 2 + kCepstra;
constexpr float kPitchScale = 4.0f;    // semitones that count as one unit
constexpr float kCepstrumScale = 3.0f; // dB (rms over coefficients) that count as one unit
constexpr float kMaxWeight = 1500.0f;
}  // namespace

std::vector<float> voice_statistics(const SpectralFrames& f, std::span<const float> f0_hz,
                                    float pitch_median_hz, std::span<const double> noise) {
  std::vector<float> out;
  if (!(pitch_median_hz > 0)) return out;
  std::vector<double> sums(kCepstra, 0.0);
  float clean_mel[kMelBands], clean_cep[kCepstra];
  int voiced = 0;
  const int frames = std::min(f.n_frames, static_cast<int>(f0_hz.size()));
  for (int t = 0; t < frames; ++t) {
    if (!(f0_hz[t] > 0)) continue;
    const float* c = f.cepstrum.data() + static_cast<size_t>(t) * kCepstra;
    if (noise.size() == static_cast<size_t>(kMelBands)) {
      const float* mel = f.mel_db.data() + static_cast<size_t>(t) * kMelBands;
      for (int m = 0; m < kMelBands; ++m) {
        const double p = std::pow(10.0, mel[m] / 10.0);
        clean_mel[m] = power_db(std::max(p - noise[m], 0.05 * p));
      }
      mel_cepstrum(clean_mel, clean_cep);
      c = clean_cep;
    }
    for (int i = 0; i < kCepstra; ++i) sums[i] += c[i];
    ++voiced;
  }
  if (voiced < kMinVoicedFrames) return out;
  out.resize(kSize);
  out[0] = static_cast<float>(voiced);
  out[1] = static_cast<float>(12.0 * std::log2(pitch_median_hz / 100.0));
  for (int i = 0; i < kCepstra; ++i) out[2 + i] = static_cast<float>(sums[i] / voiced);
  return out;
}

float voice_distance(std::span<const float> a, std::span<const float> b) {
  if (a.size() != kSize || b.size() != kSize) return std::numeric_limits<float>::infinity();
  const double dp = (a[1] - b[1]) / kPitchScale;
  double cep = 0.0;
  for (size_t i = 2; i < kSize; ++i) cep += static_cast<double>(a[i] - b[i]) * (a[i] - b[i]);
  const double dc = std::sqrt(cep / kCepstra) / kCepstrumScale;
  const double d = std::sqrt(dp * dp + dc * dc);
  return std::isfinite(d) ? static_cast<float>(d) : std::numeric_limits<float>::infinity();
}

void merge_voice(std::vector<float>& voice, std::span<const float> next) {
  if (next.size() != kSize) return;
  if (voice.size() != kSize) {
    voice.assign(next.begin(), next.end());
    return;
  }
  const double w0 = std::min(voice[0], kMaxWeight), w1 = next[0];
  const double total = w0 + w1;
  if (!(total > 0)) return;
  for (size_t i = 1; i < kSize; ++i) {
    voice[i] = static_cast<float>((voice[i] * w0 + next[i] * w1) / total);
  }
  voice[0] = static_cast<float>(std::min(total, static_cast<double>(kMaxWeight)));
}

}  // namespace duet::audio
