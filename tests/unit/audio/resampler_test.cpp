// The resampler keeps a sine's frequency and level across common rate pairs, gives the exact
// expected length, and streams (any chunking) to the same result as one-shot conversion.
// Must never assert on timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "audio/resampler.hpp"
#include "core/error.hpp"
#include "test_signals.hpp"

namespace duet {
namespace {

struct RatePair {
  int from;
  int to;
  double tone;  // Hz, below both Nyquist limits
};

class ResamplerKeepsSine : public ::testing::TestWithParam<RatePair> {};

// The middle of a signal, away from the converter's start and end transients.
std::span<const float> middle(const std::vector<float>& samples) {
  const size_t edge = samples.size() / 10;
  return std::span<const float>(samples).subspan(edge, samples.size() - 2 * edge);
}

void expect_same_tone(std::span<const float> samples, int rate, double tone, double level_rms) {
  EXPECT_NEAR(test::zero_crossing_frequency(samples, rate), tone, tone * 1e-3);
  EXPECT_NEAR(test::rms(samples), level_rms, level_rms * 0.01);
}

TEST_P(ResamplerKeepsSine, MonoFrequencyLevelAndLength) {
  const auto [from, to, tone] = GetParam();
  const AudioBuffer input{from, 1, test::sine(tone, from, 1.0, 0.5)};
  const AudioBuffer output = resample(input, to);
  EXPECT_EQ(output.sample_rate, to);
  EXPECT_EQ(output.channels, 1);
  EXPECT_EQ(output.frames(), static_cast<size_t>(to));  // one second in, one second out
  expect_same_tone(middle(output.samples), to, tone, 0.5 / std::sqrt(2.0));
  // The tail is real signal drained from the filter, not padding: the last 5% keeps the level.
  const size_t tail = output.frames() / 20;
  const auto last = std::span<const float>(output.samples).subspan(output.frames() - tail, tail);
  const double level = 0.5 / std::sqrt(2.0);
  EXPECT_NEAR(test::rms(last.first(tail - tail / 5)), level, level * 0.02);
  EXPECT_GT(test::rms(last.last(tail / 5)), 0.3);
}

TEST_P(ResamplerKeepsSine, StereoChannelsStayApart) {
  const auto [from, to, tone] = GetParam();
  const std::vector<float> left = test::sine(tone, from, 0.5, 0.5);
  const std::vector<float> right = test::sine(tone / 2, from, 0.5, 0.25);
  AudioBuffer input{from, 2, {}};
  for (size_t i = 0; i < left.size(); ++i) {
    input.samples.push_back(left[i]);
    input.samples.push_back(right[i]);
  }
  const AudioBuffer output = resample(input, to, ResampleQuality::Medium);
  ASSERT_EQ(output.channels, 2);
  expect_same_tone(middle(test::channel_of(output, 0)), to, tone, 0.5 / std::sqrt(2.0));
  expect_same_tone(middle(test::channel_of(output, 1)), to, tone / 2, 0.25 / std::sqrt(2.0));
}

TEST_P(ResamplerKeepsSine, StreamingMatchesOneShot) {
  const auto [from, to, tone] = GetParam();
  const std::vector<float> input = test::sine(tone, from, 0.5, 0.7);
  const AudioBuffer one_shot = resample(AudioBuffer{from, 1, input}, to);

  Resampler streaming(from, to, 1);
  std::vector<float> streamed;
  std::mt19937 rng(from + to);
  std::uniform_int_distribution<size_t> chunk(0, 700);
  for (size_t offset = 0; offset < input.size();) {
    const size_t take = std::min(chunk(rng), input.size() - offset);
    streaming.push(std::span<const float>(input).subspan(offset, take), streamed);
    offset += take;
  }
  streaming.flush(streamed);
  ASSERT_EQ(streamed.size(), one_shot.samples.size());
  float worst = 0.0f;
  for (size_t i = 0; i < streamed.size(); ++i) {
    worst = std::max(worst, std::abs(streamed[i] - one_shot.samples[i]));
  }
  EXPECT_LT(worst, 1e-4f);
}

INSTANTIATE_TEST_SUITE_P(CommonRates, ResamplerKeepsSine,
                         ::testing::Values(RatePair{16000, 24000, 440.0},
                                           RatePair{44100, 16000, 1000.0},
                                           RatePair{48000, 22050, 3000.0},
                                           RatePair{24000, 16000, 250.0},
                                           RatePair{22050, 48000, 5000.0}),
                         [](const auto& param_info) {
                           return std::to_string(param_info.param.from) + "_to_" +
                                  std::to_string(param_info.param.to);
                         });

TEST(Resampler, FastQualityStillKeepsTheTone) {
  const AudioBuffer input{48000, 1, test::sine(1000.0, 48000, 1.0, 0.5)};
  const AudioBuffer output = resample(input, 16000, ResampleQuality::Fast);
  expect_same_tone(middle(output.samples), 16000, 1000.0, 0.5 / std::sqrt(2.0));
}

TEST(Resampler, RemovesContentAboveTheNewNyquist) {
  const AudioBuffer input{48000, 1, test::sine(12000.0, 48000, 0.5, 0.5)};
  const AudioBuffer output = resample(input, 16000);  // 12 kHz > 8 kHz Nyquist
  EXPECT_LT(test::rms(middle(output.samples)), 0.005);
}

TEST(Resampler, SameRateIsAnExactCopy) {
  const AudioBuffer input{16000, 2, {0.1f, -0.2f, 0.3f, -0.4f}};
  EXPECT_EQ(resample(input, 16000).samples, input.samples);
  Resampler pass(16000, 16000, 2);
  std::vector<float> out;
  EXPECT_EQ(pass.push(input.samples, out), 2u);
  EXPECT_EQ(pass.flush(out), 0u);
  EXPECT_EQ(out, input.samples);
}

TEST(Resampler, EmptyInputGivesEmptyOutput) {
  EXPECT_TRUE(resample(AudioBuffer{16000, 1, {}}, 24000).samples.empty());
  Resampler resampler(16000, 24000, 1);
  std::vector<float> out;
  EXPECT_EQ(resampler.push({}, out), 0u);
  EXPECT_EQ(resampler.flush(out), 0u);
}

TEST(Resampler, CanBeReusedAfterFlush) {
  const std::vector<float> input = test::sine(440.0, 16000, 0.2, 0.5);
  Resampler resampler(16000, 24000, 1);
  std::vector<float> first;
  resampler.push(input, first);
  resampler.flush(first);
  std::vector<float> second;
  resampler.push(input, second);
  resampler.flush(second);
  EXPECT_EQ(first, second);
}

TEST(Resampler, MovedResamplerKeepsWorking) {
  Resampler original(16000, 24000, 1);
  Resampler moved = std::move(original);
  std::vector<float> out;
  moved.push(test::sine(440.0, 16000, 0.1, 0.5), out);
  moved.flush(out);
  EXPECT_EQ(out.size(), 2400u);
}

TEST(Resampler, RejectsBadParameters) {
  EXPECT_THROW(Resampler(0, 16000, 1), Error);
  EXPECT_THROW(Resampler(16000, 900000, 1), Error);
  EXPECT_THROW(Resampler(16000, 24000, 3), Error);
  EXPECT_THROW(Resampler(100, 30000, 1), Error);  // ratio 300 > 256
  EXPECT_THROW(resample(AudioBuffer{0, 1, {0.0f}}, 16000), Error);
  Resampler stereo(16000, 24000, 2);
  std::vector<float> out;
  const std::vector<float> odd(3, 0.0f);
  EXPECT_THROW(stereo.push(odd, out), Error);
}

}  // namespace
}  // namespace duet
