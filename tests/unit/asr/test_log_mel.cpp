// The FFT against a direct DFT, and LogMel's framing: frame counts, chunk-size independence,
// non-finite input, and a pure tone landing in the right mel band.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "audio/log_mel.hpp"
#include "core/error.hpp"

namespace {

using duet::audio::Fft;
using duet::audio::LogMel;

TEST(Fft, MatchesDirectDft) {
  std::mt19937 rng(3);
  std::normal_distribution<double> g;
  for (int n : {1, 2, 3, 4, 5, 8, 12, 20, 100, 400}) {
    Fft fft(n);
    std::vector<std::complex<double>> x(n), y(n);
    for (auto& v : x) v = {g(rng), g(rng)};
    fft.forward(x.data(), y.data());
    for (int k = 0; k < n; ++k) {
      std::complex<double> s = 0;
      for (int j = 0; j < n; ++j) s += x[j] * std::polar(1.0, -2.0 * std::numbers::pi * j * k / n);
      EXPECT_NEAR(std::abs(y[k] - s), 0.0, 1e-9 * n) << "n=" << n << " k=" << k;
    }
  }
  EXPECT_THROW(Fft(7), duet::Error);
}

// Triangular test filters: mel m covers bins [2m, 2m+4].
std::vector<float> test_filters(int n_mels) {
  std::vector<float> f(static_cast<size_t>(n_mels) * LogMel::kBins, 0.0f);
  for (int m = 0; m < n_mels; ++m) {
    for (int k = 0; k < 5; ++k) {
      const int bin = 2 * m + k;
      if (bin < LogMel::kBins) f[m * LogMel::kBins + bin] = 1.0f - std::abs(k - 2) / 3.0f;
    }
  }
  return f;
}

TEST(LogMel, FrameCountsAndChunking) {
  const auto filters = test_filters(80);
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 0.1f);
  std::vector<float> audio(7919);
  for (float& v : audio) v = g(rng);
  LogMel whole(filters, 80);
  whole.push(audio);
  EXPECT_EQ(whole.n_frames(), 7919 / 160 + 1);
  std::vector<float> a, b;
  whole.features(a);
  LogMel chunked(filters, 80);
  for (size_t i = 0; i < audio.size(); i += 333) {
    chunked.push(std::span(audio).subspan(i, std::min<size_t>(333, audio.size() - i)));
  }
  chunked.features(b);
  EXPECT_EQ(a, b);
  chunked.reset();
  EXPECT_EQ(chunked.n_frames(), 1);
}

TEST(LogMel, NonFiniteSamplesCountAsZero) {
  const auto filters = test_filters(80);
  std::vector<float> x(4000, 0.25f), y = x;
  y[10] = NAN;
  y[20] = INFINITY;
  x[10] = 0.0f;
  x[20] = 0.0f;
  LogMel a(filters, 80), b(filters, 80);
  a.push(x);
  b.push(y);
  std::vector<float> fa, fb;
  a.features(fa);
  b.features(fb);
  EXPECT_EQ(fa, fb);
}

TEST(LogMel, ToneLandsInItsBand) {
  const auto filters = test_filters(80);
  // Bin 40 (1600 Hz at 16 kHz / 400) is the centre of mel 19.
  std::vector<float> x(16000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * std::sin(2.0 * std::numbers::pi * 1600.0 * i / 16000.0);
  LogMel mel(filters, 80);
  mel.push(x);
  std::vector<float> f;
  mel.features(f);
  const int64_t n = mel.n_frames();
  const int64_t t = n / 2;
  int best = 0;
  for (int m = 1; m < 80; ++m) {
    if (f[m * n + t] > f[best * n + t]) best = m;
  }
  EXPECT_EQ(best, 19);
}

TEST(LogMel, RejectsBadFilters) {
  std::vector<float> f(10);
  EXPECT_THROW(LogMel(f, 80), duet::Error);
}

}  // namespace
