// Power spectra of real frames by a half-length complex FFT. Must never index outside its tables:
// every loop runs over the length fixed at construction.
#include "audio/power_fft.hpp"

#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace duet::audio {

PowerFft::PowerFft(int n) : n_(n), half_(n / 2) {
  if (n < 2 || n > 65536 || (n & (n - 1)) != 0) {
    fail("PowerFft: length {} is not a power of two in 2..65536", n);
  }
  int bits = 0;
  while ((1 << bits) < half_) ++bits;
  reversed_.resize(half_);
  for (int i = 0; i < half_; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    reversed_[i] = r;
  }
  cos_.resize(half_);
  sin_.resize(half_);
  for (int k = 0; k < half_; ++k) {
    const double a = -2.0 * std::numbers::pi * k / n;
    cos_[k] = std::cos(a);
    sin_[k] = std::sin(a);
  }
  re_.resize(half_);
  im_.resize(half_);
}

void PowerFft::power(const float* x, float* power) {
  // z[j] = x[2j] + i x[2j+1], transformed in place (radix 2, twiddles exp(-2 pi i k / half) are
  // every other entry of the length-n table).
  const int m = half_;
  for (int j = 0; j < m; ++j) {
    re_[reversed_[j]] = x[2 * j];
    im_[reversed_[j]] = x[2 * j + 1];
  }
  for (int len = 2; len <= m; len *= 2) {
    const int half = len / 2;
    const int step = 2 * (m / len);
    for (int start = 0; start < m; start += len) {
      for (int k = 0; k < half; ++k) {
        const int a = start + k, b = a + half;
        const double wr = cos_[k * step], wi = sin_[k * step];
        const double tr = re_[b] * wr - im_[b] * wi;
        const double ti = re_[b] * wi + im_[b] * wr;
        re_[b] = re_[a] - tr;
        im_[b] = im_[a] - ti;
        re_[a] += tr;
        im_[a] += ti;
      }
    }
  }
  // X[k] = E[k] + W^k O[k], with E = (Z[k] + conj Z[m-k]) / 2 the even samples' transform and
  // O = (Z[k] - conj Z[m-k]) / 2i the odd samples'; X[m] = E[0] - O[0].
  const double r0 = re_[0], i0 = im_[0];
  power[0] = static_cast<float>((r0 + i0) * (r0 + i0));
  power[m] = static_cast<float>((r0 - i0) * (r0 - i0));
  for (int k = 1; k < m; ++k) {
    const double zr = re_[k], zi = im_[k], cr = re_[m - k], ci = -im_[m - k];
    const double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
    const double orr = 0.5 * (zi - ci), oi = -0.5 * (zr - cr);
    const double xr = er + cos_[k] * orr - sin_[k] * oi;
    const double xi = ei + cos_[k] * oi + sin_[k] * orr;
    power[k] = static_cast<float>(xr * xr + xi * xi);
  }
}

}  // namespace duet::audio
