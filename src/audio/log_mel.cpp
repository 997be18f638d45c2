// Whisper's log-mel front end: the FFT, the incremental frame store and the normalisation.
// Must never read outside the audio it holds (reflection and zero padding are computed by index).
#include "audio/log_mel.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace duet::audio {

Fft::Fft(int n) : n_(n) {
  if (n <= 0) fail("Fft: length {} must be positive", n);
  int m = n;
  for (int p : {4, 2, 3, 5}) {
    while (m % p == 0) {
      factors_.push_back(p);
      m /= p;
    }
  }
  if (m != 1) fail("Fft: length {} has a prime factor above 5 ({})", n, m);
  if (factors_.empty()) factors_.push_back(1);
  twiddles_.resize(n);
  for (int k = 0; k < n; ++k) {
    double a = -2.0 * std::numbers::pi * k / n;
    twiddles_[k] = {std::cos(a), std::sin(a)};
  }
}

void Fft::forward(const std::complex<double>* in, std::complex<double>* out) const {
  if (n_ == 1) {
    out[0] = in[0];
    return;
  }
  step(in, 1, out, n_, 0);
}

// Decimation in time: splits the n inputs (taken with `stride`) into p interleaved sub-sequences of
// length m = n / p, transforms each into out[j*m .. j*m+m), then combines them with p-point DFTs.
void Fft::step(const std::complex<double>* in, int64_t stride, std::complex<double>* out, int n,
               int level) const {
  const int p = factors_[level];
  const int m = n / p;
  if (m == 1) {
    for (int j = 0; j < p; ++j) out[j] = in[j * stride];
  } else {
    for (int j = 0; j < p; ++j) step(in + j * stride, stride * p, out + j * m, m, level + 1);
  }
  const int64_t tw_step = n_ / n;  // twiddle w_n^x = twiddles_[x * tw_step mod n_]
  std::complex<double> t[5], y[5];
  for (int k = 0; k < m; ++k) {
    for (int j = 0; j < p; ++j) t[j] = out[j * m + k] * twiddles_[(j * k * tw_step) % n_];
    for (int q = 0; q < p; ++q) {
      std::complex<double> s = t[0];
      for (int j = 1; j < p; ++j) s += t[j] * twiddles_[((j * q * m) % n) * tw_step];
      y[q] = s;
    }
    for (int q = 0; q < p; ++q) out[q * m + k] = y[q];
  }
}

LogMel::LogMel(std::span<const float> filters, int n_mels) : n_mels_(n_mels), fft_(kNfft) {
  if (n_mels <= 0 || filters.size() != static_cast<size_t>(n_mels) * kBins) {
    fail("LogMel: mel filters hold {} values, expected {} mels x {} bins", filters.size(), n_mels,
         kBins);
  }
  filters_.assign(filters.begin(), filters.end());
  window_.resize(kNfft);
  for (int i = 0; i < kNfft; ++i) {
    // np.hanning(401)[:-1], as float32.
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / kNfft));
  }
  fft_in_.resize(kNfft);
  fft_out_.resize(kNfft);
  power_.resize(kBins);
}

void LogMel::reset() {
  audio_.clear();
  stable_.clear();
  n_stable_ = 0;
}

int64_t LogMel::n_frames() const { return n_samples() / kHop + 1; }

float LogMel::sample_padded(int64_t i) const {
  // Padded index i -> index into x' = audio + 160 zeros (length L), numpy "reflect" padding.
  const int64_t n = n_samples();
  const int64_t len = n + kHop;
  int64_t j = i - kNfft / 2;
  if (len == 1) {
    j = 0;
  } else {
    while (j < 0 || j >= len) {
      if (j < 0) j = -j;
      if (j >= len) j = 2 * (len - 1) - j;
    }
  }
  return j < n ? audio_[j] : 0.0f;
}

void LogMel::frame(int64_t t, float* dst) {
  const int64_t start = t * kHop;
  const int64_t n = n_samples();
  if (start >= kNfft / 2 && start + kNfft - kNfft / 2 <= n) {
    const float* x = audio_.data() + (start - kNfft / 2);
    for (int i = 0; i < kNfft; ++i) fft_in_[i] = {static_cast<double>(x[i] * window_[i]), 0.0};
  } else {
    for (int i = 0; i < kNfft; ++i) {
      fft_in_[i] = {static_cast<double>(sample_padded(start + i) * window_[i]), 0.0};
    }
  }
  fft_.forward(fft_in_.data(), fft_out_.data());
  for (int k = 0; k < kBins; ++k) {
    const auto c = std::complex<float>(fft_out_[k]);  // faster-whisper rounds to complex64
    power_[k] = c.real() * c.real() + c.imag() * c.imag();
  }
  for (int m = 0; m < n_mels_; ++m) {
    const float* f = filters_.data() + static_cast<size_t>(m) * kBins;
    double s = 0.0;
    for (int k = 0; k < kBins; ++k) s += static_cast<double>(f[k]) * power_[k];
    dst[m] = static_cast<float>(std::log10(std::max(s, 1e-10)));
  }
}

void LogMel::push(std::span<const float> samples) {
  const size_t old = audio_.size();
  audio_.resize(old + samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const float v = samples[i];
    audio_[old + i] = std::isfinite(v) ? v : 0.0f;
  }
  // Frame t is final once it no longer reaches the (growing) end: t*160 + 200 <= n.
  const int64_t n = n_samples();
  const int64_t last_stable = n >= kNfft / 2 ? (n - kNfft / 2) / kHop : -1;
  if (last_stable + 1 > n_stable_) {
    stable_.resize(static_cast<size_t>(last_stable + 1) * n_mels_);
    for (int64_t t = n_stable_; t <= last_stable; ++t) frame(t, stable_.data() + t * n_mels_);
    n_stable_ = last_stable + 1;
  }
}

void LogMel::features(std::vector<float>& out) { features_from(0, out); }

void LogMel::features_from(int64_t first, std::vector<float>& out) {
  const int64_t total = n_frames();
  first = std::clamp<int64_t>(first, 0, total);
  const int64_t n_stable = std::min(n_stable_, total);
  tail_.resize(static_cast<size_t>(total - n_stable) * n_mels_);
  for (int64_t t = n_stable; t < total; ++t) frame(t, tail_.data() + (t - n_stable) * n_mels_);
  auto raw = [&](int64_t t) {
    return t < n_stable ? stable_.data() + t * n_mels_ : tail_.data() + (t - n_stable) * n_mels_;
  };
  float mx = -1e30f;
  for (int64_t t = 0; t < total; ++t) {
    const float* r = raw(t);
    for (int m = 0; m < n_mels_; ++m) mx = std::max(mx, r[m]);
  }
  const float floor_v = mx - 8.0f;
  const int64_t cols = total - first;
  out.resize(static_cast<size_t>(cols) * n_mels_);
  for (int64_t t = first; t < total; ++t) {
    const float* r = raw(t);
    for (int m = 0; m < n_mels_; ++m) {
      out[static_cast<size_t>(m) * cols + (t - first)] = (std::max(r[m], floor_v) + 4.0f) / 4.0f;
    }
  }
}

}  // namespace duet::audio
