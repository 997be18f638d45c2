// A small power-of-two FFT for short-time power spectra (the voice features' 10 ms frames):
// iterative radix-2, bit-reversal and twiddle tables built once. Whisper's front end keeps its own
// mixed-radix Fft (log_mel.hpp) because 400 is not a power of two.
// Must never allocate per transform, and never accept a length that is not a power of two.
#pragma once

#include <complex>
#include <vector>

namespace duet::audio {

class PowerFft {
 public:
  explicit PowerFft(int n);  // throws duet::Error unless n is a power of two in 2..65536
  int size() const { return n_; }
  // power[k] = |sum_j x[j] exp(-2 pi i j k / n)|^2 for k = 0..n/2 (x holds n real values).
  void power(const float* x, float* power);

 private:
  int n_ = 0;
  std::vector<int> reversed_;                  // bit-reversed index of each position
  std::vector<std::complex<double>> twiddle_;  // exp(-2 pi i k / n), k < n / 2
  std::vector<std::complex<double>> work_;     // [n]
};

}  // namespace duet::audio
