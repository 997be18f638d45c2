// Pitch summary, pauses, syllable nuclei and hesitations over 10 ms frames. Must never index
// outside the frame arrays: every loop is bounded by the shortest of the inputs.
#include "audio/prosody.hpp"

#include <algorithm>
#include <cmath>

namespace duet::audio {

namespace {

float percentile(std::vector<float> values, float q) {
  if (values.empty()) return 0.0f;
  const auto k = static_cast<size_t>(std::clamp(q, 0.0f, 1.0f) * (values.size() - 1) + 0.5f);
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

float semitones(float hz) { return 12.0f * std::log2(hz / 100.0f); }

// Calls fn(begin, end) for each run of voiced frames (f0 > 0) in f0[0, n), in order.
template <typename Fn>
void for_each_voiced_run(std::span<const float> f0, int n, Fn&& fn) {
  for (int t = 0; t < n;) {
    if (!(f0[t] > 0)) {
      ++t;
      continue;
    }
    int end = t;
    while (end < n && f0[end] > 0) ++end;
    fn(t, end);
    t = end;
  }
}

}  // namespace

PitchSummary summarize_pitch(std::vector<float>& f0, double frame_seconds) {
  PitchSummary s;
  const int n = static_cast<int>(f0.size());
  // Drop voiced runs shorter than three frames (clicks, noise bursts).
  for_each_voiced_run(f0, n, [&](int t, int end) {
    if (end - t < 3) std::fill(f0.begin() + t, f0.begin() + end, 0.0f);
  });
  std::vector<float> voiced;
  for (float v : f0) {
    if (v > 0) voiced.push_back(v);
  }
  if (voiced.size() < 3) return s;
  const float rough = percentile(voiced, 0.5f);
  voiced.clear();
  // Octave errors fold back once; anything still far off the voice's median (a fricative or a
  // burst taken for voicing) is dropped.
  for (float& v : f0) {
    if (!(v > 0)) continue;
    if (v > 1.8f * rough) v *= 0.5f;
    else if (v < 0.55f * rough) v *= 2.0f;
    if (v > 1.8f * rough || v < 0.55f * rough) {
      v = 0.0f;
      continue;
    }
    voiced.push_back(v);
  }
  s.voiced_frames = static_cast<int>(voiced.size());
  s.median_hz = percentile(voiced, 0.5f);
  s.low_hz = percentile(voiced, 0.1f);
  s.high_hz = percentile(voiced, 0.9f);

  // Least-squares slope of semitones against time over the last 0.3 s before the last voiced frame
  // (the terminal rise of a question or fall of a statement).
  int last = n - 1;
  while (last >= 0 && !(f0[last] > 0)) --last;
  const int span = std::max(1, static_cast<int>(0.3 / frame_seconds));
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int count = 0;
  for (int t = std::max(0, last - span); t <= last; ++t) {
    if (!(f0[t] > 0)) continue;
    const double x = t * frame_seconds, y = semitones(f0[t]);
    sx += x, sy += y, sxx += x * x, sxy += x * y;
    ++count;
  }
  if (count >= 6) {
    const double den = count * sxx - sx * sx;
    if (den > 1e-12) {
      const double slope = (count * sxy - sx * sy) / den;
      if (std::isfinite(slope)) {
        s.slope_st_per_s = static_cast<float>(std::clamp(slope, -200.0, 200.0));
      }
    }
  }
  // Terminal rise: a question often dips, then climbs on its last syllable.
  const int rise_span = std::max(1, static_cast<int>(0.5 / frame_seconds));
  std::vector<float> tail;
  for (int t = std::max(0, last - rise_span); t <= last; ++t) {
    if (f0[t] > 0) tail.push_back(semitones(f0[t]));
  }
  if (tail.size() >= 8) {
    float lowest = 1e9f;
    for (size_t i = 1; i + 1 < tail.size(); ++i) {
      float a = tail[i - 1], b = tail[i], c = tail[i + 1];
      lowest = std::min(lowest, std::max(std::min(a, b), std::min(std::max(a, b), c)));
    }
    std::vector<float> end(tail.end() - 4, tail.end());
    s.final_rise_st = std::max(0.0f, percentile(end, 0.5f) - lowest);
  }
  return s;
}

PauseSummary find_pauses(const std::vector<bool>& speech, double frame_seconds) {
  PauseSummary p;
  const int n = static_cast<int>(speech.size());
  for (int t = 0; t < n; ++t) {
    if (speech[t]) {
      if (p.first_speech < 0) p.first_speech = t;
      p.last_speech = t;
    }
  }
  if (p.first_speech < 0) return p;
  const int min_gap = static_cast<int>(std::ceil(0.2 / frame_seconds - 1e-9));
  int gap = 0;
  for (int t = p.first_speech; t <= p.last_speech; ++t) {
    if (!speech[t]) {
      ++gap;
      continue;
    }
    if (gap >= min_gap) {
      ++p.pauses;
      p.pause_seconds += static_cast<float>(gap * frame_seconds);
    }
    gap = 0;
  }
  return p;
}

int count_syllable_nuclei(const SpectralFrames& f, const std::vector<bool>& speech,
                          std::span<const float> f0) {
  const int n =
      std::min({f.n_frames, static_cast<int>(speech.size()), static_cast<int>(f0.size())});
  if (n < 5) return 0;
  // 50 ms moving average of the vowel-band level.
  std::vector<float> env(n);
  for (int t = 0; t < n; ++t) {
    double s = 0;
    int c = 0;
    for (int j = std::max(0, t - 2); j <= std::min(n - 1, t + 2); ++j) s += f.vowel_db[j], ++c;
    env[t] = static_cast<float>(s / c);
  }
  std::vector<float> speech_env;
  for (int t = 0; t < n; ++t) {
    if (speech[t]) speech_env.push_back(env[t]);
  }
  if (speech_env.empty()) return 0;
  const float floor_db = percentile(speech_env, 0.95f) - 25.0f;
  // A nucleus is voiced nearby, or at least vowel-like: most of its energy in the vowel band
  // (YIN misses some fast or creaky vowels; fricatives and bursts fail this).
  auto vowel_like = [&](int t) {
    if (f.level_db[t] - f.vowel_db[t] < 3.0f) return true;
    for (int j = std::max(0, t - 2); j <= std::min(n - 1, t + 2); ++j) {
      if (f0[j] > 0) return true;
    }
    return false;
  };
  int count = 0;
  float prev_value = 0, dip = 1e9f;
  bool have_prev = false;
  for (int t = 0; t < n; ++t) {
    dip = std::min(dip, env[t]);
    const bool is_peak = (t == 0 || env[t] >= env[t - 1]) && (t + 1 >= n || env[t] > env[t + 1]);
    if (!is_peak || !speech[t] || env[t] < floor_db || !vowel_like(t)) continue;
    if (!have_prev) {
      have_prev = true;
      prev_value = env[t];
      count = 1;
      dip = env[t];
      continue;
    }
    if (env[t] - dip >= 2.0f && prev_value - dip >= 2.0f) {
      ++count;
      prev_value = env[t];
      dip = env[t];
    } else if (env[t] > prev_value) {
      prev_value = env[t];
      dip = env[t];
    }
  }
  return count;
}

int count_hesitations(const SpectralFrames& f, std::span<const float> f0) {
  const int n = std::min(f.n_frames, static_cast<int>(f0.size()));
  const int min_len = static_cast<int>(0.4 / f.seconds(1));
  int found = 0;
  for_each_voiced_run(f0, n, [&](int t, int end) {
    if (end - t >= min_len) {
      // Slide a min_len window over the run; one flat, steady window makes a hesitation.
      for (int a = t; a + min_len <= end; a += min_len / 4) {
        std::vector<float> st;
        for (int j = a; j < a + min_len; ++j) st.push_back(semitones(f0[j]));
        const float med = percentile(st, 0.5f);
        int within = 0;
        for (float v : st) within += std::fabs(v - med) <= 1.0f ? 1 : 0;
        double change = 0;
        for (int j = a + 1; j < a + min_len; ++j) {
          const float* c0 = f.cepstrum.data() + static_cast<size_t>(j - 1) * kCepstra;
          const float* c1 = f.cepstrum.data() + static_cast<size_t>(j) * kCepstra;
          double d = 0;
          for (int i = 0; i < kCepstra; ++i) d += (c1[i] - c0[i]) * (c1[i] - c0[i]);
          change += std::sqrt(d / kCepstra);
        }
        change /= (min_len - 1);
        if (within >= 0.9 * min_len && change < 1.5) {
          ++found;
          break;
        }
      }
    }
  });
  return found;
}

}  // namespace duet::audio
