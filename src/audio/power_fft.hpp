// A small power-of-two FFT for short-time power spectra (the voice features' 10 ms frames): the
// real input is packed as n/2 complex values, transformed by an iterative radix-2 FFT and split
// into the n/2 + 1 bins (half the work of a complex FFT of n); tables are built once. Whisper's
// front end keeps its own mixed-radix Fft (log_mel.hpp) because 400 is not a power of two.
// Must never allocate per transform, and never accept a length that is not a power of two.
#pragma once

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
  int half_ = 0;                      // n / 2: the length of the complex transform
  std::vector<int> reversed_;         // [half] bit-reversed index of each position
  std::vector<double> cos_, sin_;     // [half] cos and sin of -2 pi k / n
  std::vector<double> re_, im_;       // [half] the complex transform's work space
};

}  // namespace duet::audio
