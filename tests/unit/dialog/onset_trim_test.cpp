// Specification of OnsetTrim: an answer starts at its first audible sound, word marks follow the
// audio, and nothing audible (nor any pause after the onset) is ever cut.
#include "dialog/onset_trim.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace duet::dialog {
namespace {

constexpr int kRate = 16000;

// `quiet_ms` of faint hiss (-70 dBFS), then `tone_ms` of a loud 220 Hz tone.
std::vector<float> quiet_then_tone(int quiet_ms, int tone_ms) {
  std::vector<float> x;
  for (int i = 0; i < quiet_ms * kRate / 1000; ++i) x.push_back(i % 2 ? 3e-4f : -3e-4f);
  for (int i = 0; i < tone_ms * kRate / 1000; ++i) {
    x.push_back(0.5f * static_cast<float>(std::sin(2 * M_PI * 220.0 * i / kRate)));
  }
  return x;
}

TEST(OnsetTrim, CutsTheQuietLeadToAFewMilliseconds) {
  OnsetTrim trim(kRate);
  auto x = quiet_then_tone(50, 100);
  const std::vector<float> tone(x.begin() + 50 * 16, x.end());
  std::vector<WordMark> words = {{"hello", 800}, {"there", 1600}};
  trim.apply(x, words);
  // 3 ms margin kept before the first audible 2 ms window.
  EXPECT_EQ(trim.trimmed(), 800 - 48);
  ASSERT_EQ(x.size(), tone.size() + 48);
  // Every audible sample is kept, unchanged.
  for (size_t i = 0; i < tone.size(); ++i) ASSERT_EQ(x[48 + i], tone[i]) << i;
  EXPECT_EQ(x[0], 0.0f);  // faded in
  EXPECT_EQ(words[0].start_sample, 48);
  EXPECT_EQ(words[1].start_sample, 1600 - 752);
}

TEST(OnsetTrim, LeavesAnAnswerThatStartsAudibleUntouched) {
  OnsetTrim trim(kRate);
  auto x = quiet_then_tone(0, 50);
  const auto before = x;
  std::vector<WordMark> words = {{"yes", 0}};
  trim.apply(x, words);
  EXPECT_EQ(x, before);
  EXPECT_EQ(trim.trimmed(), 0);
  EXPECT_EQ(words[0].start_sample, 0);
}

TEST(OnsetTrim, AQuietFirstChunkComesBackEmptyAndItsWordsMoveToTheNext) {
  OnsetTrim trim(kRate);
  auto first = quiet_then_tone(20, 0);
  std::vector<WordMark> w1 = {{"well", 100}};
  trim.apply(first, w1);
  EXPECT_TRUE(first.empty());
  EXPECT_TRUE(w1.empty());
  auto second = quiet_then_tone(10, 40);  // continues the answer at sample 320
  std::vector<WordMark> w2 = {{"then", 320 + 200}};
  trim.apply(second, w2);
  ASSERT_EQ(w2.size(), 2u);
  EXPECT_EQ(w2[0].word, "well");
  EXPECT_EQ(w2[0].start_sample, 0);
  EXPECT_EQ(w2[1].word, "then");
  EXPECT_EQ(w2[1].start_sample, 320 + 200 - trim.trimmed());
  EXPECT_EQ(trim.trimmed(), 320 + 160 - 48);
}

TEST(OnsetTrim, NeverTouchesPausesAfterTheOnset) {
  OnsetTrim trim(kRate);
  auto a = quiet_then_tone(30, 30);
  std::vector<WordMark> none;
  trim.apply(a, none);
  const int64_t cut = trim.trimmed();
  auto pause = quiet_then_tone(200, 30);  // a pause between phrases
  const auto before = pause;
  std::vector<WordMark> w = {{"next", 5000}};
  trim.apply(pause, w);
  EXPECT_EQ(pause, before);
  EXPECT_EQ(trim.trimmed(), cut);
  EXPECT_EQ(w[0].start_sample, 5000 - cut);  // marks still count from the trimmed start
}

TEST(OnsetTrim, CutsAtMostAFewHundredMilliseconds) {
  OnsetTrim trim(kRate);
  auto x = quiet_then_tone(1000, 50);
  std::vector<WordMark> words;
  trim.apply(x, words);
  EXPECT_EQ(trim.trimmed(), kRate * 3 / 10);
  EXPECT_EQ(x.size(), static_cast<size_t>((1000 + 50) * 16 - kRate * 3 / 10));
}

}  // namespace
}  // namespace duet::dialog
