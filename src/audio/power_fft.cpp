// Iterative radix-2 FFT for power spectra. Must never index outside its tables: every loop runs
// over the length fixed at construction.
#include "audio/power_fft.hpp"

#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace duet::audio {

PowerFft::PowerFft(int n) : n_(n) {
  if (n < 2 || n > 65536 || (n & (n - 1)) != 0) {
    fail("PowerFft: length {} is not a power of two in 2..65536", n);
  }
  int bits = 0;
  while ((1 << bits) < n) ++bits;
  reversed_.resize(n);
  for (int i = 0; i < n; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    reversed_[i] = r;
  }
  twiddle_.resize(n / 2);
  for (int k = 0; k < n / 2; ++k) {
    const double a = -2.0 * std::numbers::pi * k / n;
    twiddle_[k] = {std::cos(a), std::sin(a)};
  }
  work_.resize(n);
}

void PowerFft::power(const float* x, float* power) {
  for (int i = 0; i < n_; ++i) work_[reversed_[i]] = {static_cast<double>(x[i]), 0.0};
  for (int len = 2; len <= n_; len *= 2) {
    const int half = len / 2;
    const int step = n_ / len;
    for (int start = 0; start < n_; start += len) {
      for (int k = 0; k < half; ++k) {
        const std::complex<double> t = work_[start + k + half] * twiddle_[k * step];
        const std::complex<double> u = work_[start + k];
        work_[start + k] = u + t;
        work_[start + k + half] = u - t;
      }
    }
  }
  for (int k = 0; k <= n_ / 2; ++k) power[k] = static_cast<float>(std::norm(work_[k]));
}

}  // namespace duet::audio
