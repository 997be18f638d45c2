// Short-time spectra for the voice features, on PowerFft.
// Must never read outside the signal (frames past either end see zeros) or emit NaN/Inf.
#include "audio/spectral_frames.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "audio/power_fft.hpp"
#include "core/error.hpp"

namespace duet::audio {

float power_db(double power) {
  if (!(power > 1e-12)) return kFloorDb;
  return std::max(kFloorDb, static_cast<float>(10.0 * std::log10(power)));
}

std::vector<float> clean_signal(std::span<const float> pcm, int sample_rate) {
  std::vector<float> out(pcm.size());
  const double pole = std::exp(-2.0 * std::numbers::pi * 20.0 / std::max(sample_rate, 1));
  // Start the high-pass from the first finite value so a DC offset does not ring at the start.
  double prev_in = 0.0;
  for (const float v : pcm) {
    if (std::isfinite(v)) {
      prev_in = std::clamp(static_cast<double>(v), -4.0, 4.0);
      break;
    }
  }
  double prev_out = 0.0;
  for (size_t i = 0; i < pcm.size(); ++i) {
    const float v = pcm[i];
    const double x = std::isfinite(v) ? std::clamp(static_cast<double>(v), -4.0, 4.0) : 0.0;
    prev_out = x - prev_in + pole * prev_out;
    prev_in = x;
    out[i] = static_cast<float>(prev_out);
  }
  return out;
}

namespace {

double hz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// Triangular mel filters, [kMelBands, n_bins], from 80 Hz to min(7600 Hz, 0.47 * rate).
std::vector<float> mel_filters(int sample_rate, int n_fft, int n_bins) {
  const double low = hz_to_mel(80.0);
  const double high = hz_to_mel(std::min(7600.0, 0.47 * sample_rate));
  std::vector<double> edges(kMelBands + 2);
  for (int i = 0; i < kMelBands + 2; ++i) {
    edges[i] = mel_to_hz(low + (high - low) * i / (kMelBands + 1));
  }
  std::vector<float> filters(static_cast<size_t>(kMelBands) * n_bins, 0.0f);
  const double bin_hz = static_cast<double>(sample_rate) / n_fft;
  for (int m = 0; m < kMelBands; ++m) {
    const double a = edges[m], b = edges[m + 1], c = edges[m + 2];
    for (int k = 0; k < n_bins; ++k) {
      const double f = k * bin_hz;
      double w = 0.0;
      if (f > a && f <= b) w = (f - a) / (b - a);
      if (f > b && f < c) w = (c - f) / (c - b);
      filters[static_cast<size_t>(m) * n_bins + k] = static_cast<float>(w);
    }
  }
  return filters;
}

}  // namespace

void mel_cepstrum(const float* mel_db, float* cepstrum) {
  // The DCT-II basis, computed once (immutable afterwards).
  static const std::array<double, kCepstra * kMelBands> basis = [] {
    std::array<double, kCepstra * kMelBands> b{};
    for (int c = 1; c <= kCepstra; ++c) {
      for (int m = 0; m < kMelBands; ++m) {
        b[(c - 1) * kMelBands + m] = std::cos(std::numbers::pi * c * (m + 0.5) / kMelBands);
      }
    }
    return b;
  }();
  for (int c = 1; c <= kCepstra; ++c) {
    const double* row = basis.data() + (c - 1) * kMelBands;
    double s = 0.0;
    for (int m = 0; m < kMelBands; ++m) s += mel_db[m] * row[m];
    cepstrum[c - 1] = static_cast<float>(s * std::sqrt(2.0 / kMelBands));
  }
}

std::vector<double> mean_mel_power(const SpectralFrames& f) {
  if (f.n_frames <= 0) return {};
  std::vector<double> mean(kMelBands, 0.0);
  for (int t = 0; t < f.n_frames; ++t) {
    for (int m = 0; m < kMelBands; ++m) {
      mean[m] += std::pow(10.0, f.mel_db[static_cast<size_t>(t) * kMelBands + m] / 10.0);
    }
  }
  for (double& v : mean) v /= f.n_frames;
  return mean;
}

SpectralFrames analyze_frames(std::span<const float> clean, int sample_rate) {
  if (sample_rate < 4000 || sample_rate > 192000) {
    fail("voice features: sample rate {} Hz is outside 4000..192000", sample_rate);
  }
  SpectralFrames f;
  f.sample_rate = sample_rate;
  f.hop = std::max(1, sample_rate / 100);
  f.n_fft = 64;
  while (f.n_fft < sample_rate / 40) f.n_fft *= 2;
  f.n_bins = f.n_fft / 2 + 1;
  const auto n = static_cast<int64_t>(clean.size());
  f.n_frames = static_cast<int>((n + f.hop - 1) / f.hop);
  f.power.assign(static_cast<size_t>(f.n_frames) * f.n_bins, 0.0f);
  f.level_db.assign(f.n_frames, kFloorDb);
  f.vowel_db.assign(f.n_frames, kFloorDb);
  f.mel_db.assign(static_cast<size_t>(f.n_frames) * kMelBands, kFloorDb);
  f.cepstrum.assign(static_cast<size_t>(f.n_frames) * kCepstra, 0.0f);

  std::vector<double> window(f.n_fft);
  double window_power = 0.0;
  for (int i = 0; i < f.n_fft; ++i) {
    window[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * (i + 0.5) / f.n_fft);
    window_power += window[i] * window[i];
  }
  const std::vector<float> filters = mel_filters(sample_rate, f.n_fft, f.n_bins);
  // Each triangle's non-zero bins [first, last): the band sums skip the zeros.
  std::vector<int> first(kMelBands, 0), last(kMelBands, 0);
  for (int m = 0; m < kMelBands; ++m) {
    const float* w = filters.data() + static_cast<size_t>(m) * f.n_bins;
    int k = 0;
    while (k < f.n_bins && w[k] == 0.0f) ++k;
    first[m] = k;
    for (int j = k; j < f.n_bins; ++j) {
      if (w[j] != 0.0f) last[m] = j + 1;
    }
  }
  const auto vowel_lo = static_cast<int>(std::ceil(300.0 / f.bin_hz()));
  const auto vowel_hi = std::min(f.n_bins - 1, static_cast<int>(2500.0 / f.bin_hz()));
  PowerFft fft(f.n_fft);
  std::vector<float> in(f.n_fft);
  for (int t = 0; t < f.n_frames; ++t) {
    const int64_t start = static_cast<int64_t>(t) * f.hop + f.hop / 2 - f.n_fft / 2;
    double sum_sq = 0.0;
    for (int i = 0; i < f.n_fft; ++i) {
      const int64_t j = start + i;
      const double x = (j >= 0 && j < n) ? clean[j] * window[i] : 0.0;
      sum_sq += x * x;
      in[i] = static_cast<float>(x);
    }
    f.level_db[t] = power_db(sum_sq / window_power);
    float* p = f.power.data() + static_cast<size_t>(t) * f.n_bins;
    fft.power(in.data(), p);
    // Scaled so that the bins sum (over both halves) to the frame's windowed mean square.
    const auto scale = static_cast<float>(1.0 / (window_power * f.n_fft));
    for (int k = 0; k < f.n_bins; ++k) p[k] *= scale;
    double vowel = 0.0;
    for (int k = vowel_lo; k <= vowel_hi; ++k) vowel += p[k];
    f.vowel_db[t] = power_db(2.0 * vowel);
    float* mel = f.mel_db.data() + static_cast<size_t>(t) * kMelBands;
    for (int m = 0; m < kMelBands; ++m) {
      const float* w = filters.data() + static_cast<size_t>(m) * f.n_bins;
      double s = 0.0;
      for (int k = first[m]; k < last[m]; ++k) s += static_cast<double>(w[k]) * p[k];
      mel[m] = power_db(s);
    }
    mel_cepstrum(mel, f.cepstrum.data() + static_cast<size_t>(t) * kCepstra);
  }
  return f;
}

}  // namespace duet::audio
