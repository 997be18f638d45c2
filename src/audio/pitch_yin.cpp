// YIN pitch tracking per 10 ms frame; rates of 48 kHz and more are low-passed and decimated first
// (to 24-48 kHz, ample for a 500 Hz ceiling). The difference function is computed lazily, up to
// the lag the threshold search settles on. Must never read outside the signal:
// lags that would reach past either end see zeros.
#include "audio/pitch_yin.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace duet::audio {

namespace {

// Every factor-th sample after a windowed-sinc low-pass at 0.45 / factor cycles per sample (90% of
// the decimated rate's Nyquist frequency).
std::vector<float> decimate(std::span<const float> x, int factor) {
  if (factor <= 1) return {x.begin(), x.end()};
  const int half = 4 * factor;
  std::vector<float> taps(2 * half + 1);
  const double cutoff = 0.45 / factor;
  double sum = 0.0;
  for (int i = -half; i <= half; ++i) {
    const double sinc = i == 0 ? 2.0 * cutoff
                               : std::sin(2.0 * std::numbers::pi * cutoff * i) /
                                     (std::numbers::pi * i);
    const double window = 0.54 + 0.46 * std::cos(std::numbers::pi * i / (half + 1));
    taps[i + half] = static_cast<float>(sinc * window);
    sum += sinc * window;
  }
  for (float& t : taps) t = static_cast<float>(t / sum);
  const auto n = static_cast<int64_t>(x.size());
  std::vector<float> out(static_cast<size_t>((n + factor - 1) / factor));
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t centre = static_cast<int64_t>(k) * factor;
    float acc = 0.0f;
    for (int i = -half; i <= half; ++i) {
      const int64_t j = centre + i;
      if (j >= 0 && j < n) acc += taps[i + half] * x[j];
    }
    out[k] = acc;
  }
  return out;
}

// sum_j (x_j - x_{j+tau})^2 for j < width, with independent partial sums the compiler can keep in
// vector lanes.
float difference(const float* x, int tau, int width) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= width; j += 8) {
    for (int k = 0; k < 8; ++k) {
      const float d = x[j + k] - x[j + k + tau];
      s[k] += d * d;
    }
  }
  float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; j < width; ++j) {
    const float d = x[j] - x[j + tau];
    total += d * d;
  }
  return total;
}

}  // namespace

PitchTrack track_pitch(std::span<const float> clean, int sample_rate, int hop, int frames,
                       const std::vector<bool>& analyse, const PitchOptions& options) {
  PitchTrack track;
  track.f0_hz.assign(std::max(frames, 0), 0.0f);
  track.aperiodicity.assign(std::max(frames, 0), 1.0f);
  if (frames <= 0 || sample_rate <= 0 || hop <= 0) return track;
  bool any = analyse.empty();
  for (size_t t = 0; t < analyse.size() && !any; ++t) any = analyse[t];
  if (!any) return track;
  const int factor = std::max(1, sample_rate / 24000);
  const double rate = static_cast<double>(sample_rate) / factor;
  const std::vector<float> signal = decimate(clean, factor);
  const int width = std::max(8, static_cast<int>(options.window_seconds * rate));
  const int tau_min = std::max(2, static_cast<int>(rate / options.max_hz));
  const int tau_max = std::max(tau_min + 2, static_cast<int>(rate / options.min_hz) + 1);
  const auto n = static_cast<int64_t>(signal.size());
  std::vector<float> x(static_cast<size_t>(width + tau_max + 1));
  std::vector<double> d(static_cast<size_t>(tau_max + 2));
  for (int t = 0; t < frames; ++t) {
    if (!analyse.empty() && (t >= static_cast<int>(analyse.size()) || !analyse[t])) continue;
    const int64_t centre = (static_cast<int64_t>(t) * hop + hop / 2) / factor;
    const int64_t start = centre - (width + tau_max) / 2;
    for (size_t i = 0; i < x.size(); ++i) {
      const int64_t j = start + static_cast<int64_t>(i);
      x[i] = (j >= 0 && j < n) ? signal[j] : 0.0f;
    }
    // Cumulative mean normalised difference: d'(tau) = d(tau) * tau / sum_{k<=tau} d(k), computed
    // only as far as the search reads it (a clear dip ends the search early; d' up to a lag never
    // depends on later lags, so the result is the same as computing them all).
    int done = 0;
    double running = 0.0;
    const auto extend = [&](int upto) {
      while (done < upto) {
        ++done;
        const double dt = difference(x.data(), done, width);
        running += dt;
        d[done] = running > 1e-20 ? dt * done / running : 1.0;
      }
    };
    d[0] = 0.0;
    int best = -1;
    double best_value = 1.0;
    for (int tau = tau_min; tau < tau_max; ++tau) {
      extend(tau);
      if (d[tau] < options.threshold) {
        for (; tau + 1 < tau_max; ++tau) {
          extend(tau + 1);
          if (!(d[tau + 1] < d[tau])) break;
        }
        best = tau;
        best_value = d[tau];
        break;
      }
    }
    if (best < 0) {
      // No dip under the threshold: accept the deepest one when it is still clearly periodic
      // (breathy or fast-changing voicing).
      extend(tau_max);
      for (int tau = tau_min; tau < tau_max; ++tau) {
        if (d[tau] < best_value) best_value = d[tau], best = tau;
      }
      if (best < 0 || best_value >= options.fallback_threshold) continue;
    }
    extend(std::min(best + 1, tau_max));
    // Parabolic interpolation around the dip.
    double lag = best;
    if (best > 1 && best < tau_max) {
      const double a = d[best - 1], b = d[best], c = d[best + 1];
      const double denom = a - 2.0 * b + c;
      if (denom > 1e-12) lag = best + std::clamp(0.5 * (a - c) / denom, -0.5, 0.5);
    }
    const double f0 = rate / lag;
    if (!std::isfinite(f0) || f0 < options.min_hz || f0 > options.max_hz) continue;
    track.f0_hz[t] = static_cast<float>(f0);
    track.aperiodicity[t] = static_cast<float>(std::clamp(best_value, 0.0, 1.0));
  }
  return track;
}

}  // namespace duet::audio
