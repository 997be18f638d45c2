// Background level and kind from short-time spectra. Must never divide by zero or emit NaN: every
// ratio is guarded and empty input yields the default (quiet) estimate.
#include "audio/background_kind.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace duet::audio {

const char* background_kind_name(BackgroundKind kind) {
  switch (kind) {
    case BackgroundKind::Quiet: return "quiet";
    case BackgroundKind::SteadyNoise: return "noise";
    case BackgroundKind::Music: return "music";
    case BackgroundKind::Babble: return "babble";
  }
  return "quiet";
}

namespace {

constexpr float kQuietDbfs = -58.0f;
constexpr int kPeakLag = 3;  // frames between the spectra compared for peak persistence

// Tonal peaks of one spectrum in bins [lo, hi): local maxima over +-2 bins standing 10 dB above
// the median of +-12 bins around them.
void find_peaks(const float* p, int lo, int hi, std::vector<int>& peaks, std::vector<float>& tmp) {
  peaks.clear();
  for (int k = lo; k < hi; ++k) {
    bool is_max = true;
    for (int j = k - 2; j <= k + 2 && is_max; ++j) {
      if (j != k && j >= lo && j < hi && p[j] > p[k]) is_max = false;
    }
    if (!is_max || p[k] <= 1e-12f) continue;
    tmp.clear();
    for (int j = std::max(lo, k - 12); j < std::min(hi, k + 13); ++j) tmp.push_back(p[j]);
    std::nth_element(tmp.begin(), tmp.begin() + tmp.size() / 2, tmp.end());
    if (p[k] > 10.0f * tmp[tmp.size() / 2]) peaks.push_back(k);
  }
}

// The frames' mean power (dB) and the level from which a frame carries sound (digital silence
// inside the background is skipped).
std::pair<float, float> level_and_active_db(const SpectralFrames& f) {
  double mean_power = 0.0;
  for (int t = 0; t < f.n_frames; ++t) mean_power += std::pow(10.0, f.level_db[t] / 10.0);
  const float level = power_db(mean_power / std::max(f.n_frames, 1));
  return {level, std::max(kQuietDbfs - 10.0f, level - 30.0f)};
}

}  // namespace

std::vector<bool> sounding_frames(const SpectralFrames& f) {
  std::vector<bool> out(std::max(f.n_frames, 0), false);
  if (f.n_frames <= 0) return out;
  const float active_db = level_and_active_db(f).second;
  for (int t = 0; t < f.n_frames; ++t) out[t] = f.level_db[t] >= active_db;
  return out;
}

BackgroundEstimate estimate_background(const SpectralFrames& f, std::span<const float> f0_hz) {
  BackgroundEstimate e;
  if (f.n_frames <= 0) return e;
  const auto [level_dbfs, active_db] = level_and_active_db(f);
  e.level_dbfs = level_dbfs;
  const int lo = std::max(1, static_cast<int>(100.0f / f.bin_hz()));
  const int hi = std::min(f.n_bins - 1, static_cast<int>(6000.0f / f.bin_hz()));
  if (hi - lo < 16) return e;

  double flatness_sum = 0.0, flux_sum = 0.0, tonal_sum = 0.0;
  int active = 0, flux_frames = 0, peaks_total = 0, peaks_kept = 0, periodic = 0;
  std::vector<std::vector<int>> history(kPeakLag + 1);
  std::vector<float> tmp;
  std::vector<float> smoothed;
  // The band in dB, of this frame and of the previous sounding one (for the flux).
  std::vector<float> band_db(hi - lo), previous_db(hi - lo);
  for (int t = 0; t < f.n_frames; ++t) {
    const float* p = f.spectrum(t);
    std::vector<int>& peaks = history[t % (kPeakLag + 1)];
    if (f.level_db[t] < active_db) {
      peaks.clear();
      continue;
    }
    ++active;
    if (t < static_cast<int>(f0_hz.size()) && f0_hz[t] > 0) ++periodic;
    double log_sum = 0.0, sum = 0.0;
    for (int k = lo; k < hi; ++k) {
      const double v = std::max(static_cast<double>(p[k]), 1e-14);
      log_sum += std::log(v);
      sum += v;
      band_db[k - lo] = power_db(p[k]);
    }
    const double arith = sum / (hi - lo);
    flatness_sum += arith > 0 ? std::exp(log_sum / (hi - lo)) / arith : 0.0;
    if (t > 0 && f.level_db[t - 1] >= active_db) {
      double flux = 0.0;
      for (int k = 0; k < hi - lo; ++k) flux += std::max(0.0f, band_db[k] - previous_db[k]);
      flux_sum += flux / (hi - lo);
      ++flux_frames;
    }
    find_peaks(p, lo, hi, peaks, tmp);
    double tonal = 0.0;
    for (int k : peaks) tonal += p[k - 1] + p[k] + p[k + 1];
    tonal_sum += sum > 0 ? std::min(1.0, tonal / sum) : 0.0;
    if (t >= kPeakLag) {
      const std::vector<int>& before = history[(t - kPeakLag) % (kPeakLag + 1)];
      for (int k : peaks) {
        ++peaks_total;
        for (int j : before) {
          if (j == k) {
            ++peaks_kept;
            break;
          }
        }
      }
    }
    smoothed.push_back(f.level_db[t]);
    band_db.swap(previous_db);
  }
  if (active < 10) {
    if (e.level_dbfs >= kQuietDbfs) e.kind = BackgroundKind::SteadyNoise;
    return e;
  }
  e.flatness = static_cast<float>(flatness_sum / active);
  e.tonal_fraction = static_cast<float>(tonal_sum / active);
  e.periodic_fraction = static_cast<float>(periodic) / active;
  e.flux = flux_frames > 0 ? static_cast<float>(flux_sum / flux_frames) : 0.0f;
  e.tonal_persistence = peaks_total > 0 ? static_cast<float>(peaks_kept) / peaks_total : 0.0f;
  // Level modulation over 50 ms averages (syllables and notes, not frame-to-frame jitter).
  std::vector<double> blocks;
  for (size_t i = 0; i + 5 <= smoothed.size(); i += 5) {
    double s = 0.0;
    for (size_t j = i; j < i + 5; ++j) s += smoothed[j];
    blocks.push_back(s / 5.0);
  }
  if (blocks.size() >= 2) {
    double mean = 0.0, var = 0.0;
    for (double b : blocks) mean += b;
    mean /= static_cast<double>(blocks.size());
    for (double b : blocks) var += (b - mean) * (b - mean);
    e.modulation_db = static_cast<float>(std::sqrt(var / static_cast<double>(blocks.size())));
  }

  // Thresholds measured on white, pink and brown noise, mains hum, synthetic chords (alone and
  // under noise), five espeak-ng voices at once and single real and synthetic talkers.
  if (e.level_dbfs < kQuietDbfs) {
    e.kind = BackgroundKind::Quiet;
  } else if (e.tonal_persistence >= 0.25f && e.tonal_fraction >= 0.2f && e.modulation_db >= 0.8f) {
    e.kind = BackgroundKind::Music;  // steady partials that change now and then (notes)
  } else if (e.periodic_fraction >= 0.15f && e.modulation_db >= 1.5f) {
    e.kind = BackgroundKind::Babble;  // voiced, syllable-modulated, drifting harmonics
  } else {
    e.kind = BackgroundKind::SteadyNoise;
  }
  return e;
}

}  // namespace duet::audio
