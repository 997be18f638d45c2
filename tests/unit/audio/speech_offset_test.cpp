// SpeechOffset: the acoustic end of speech comes within a frame of the voice stopping, in a quiet
// room and over steady noise; nothing is reported before speech, in a room too noisy to tell, or
// while the voice goes on; a new utterance forgets the last; bad samples and settings are handled.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

#include "audio/speech_offset.hpp"
#include "core/error.hpp"
#include "test_signals.hpp"

namespace duet::audio {
namespace {

constexpr int kRate = 16000;

std::vector<float> noise(std::mt19937& rng, double seconds, float amplitude) {
  std::normal_distribution<float> g(0.0f, amplitude);
  std::vector<float> v(static_cast<size_t>(seconds * kRate));
  for (auto& s : v) s = g(rng);
  return v;
}

void mix(std::vector<float>& into, const std::vector<float>& more) {
  for (size_t i = 0; i < into.size() && i < more.size(); ++i) into[i] += more[i];
}

TEST(SpeechOffset, QuietRunStartsWhenTheVoiceStopsInAQuietRoom) {
  SpeechOffset off;
  off.push(std::vector<float>(kRate / 2, 0.0f));
  off.begin_utterance();
  off.push(test::sine(220.0, kRate, 1.0, 0.3));
  EXPECT_EQ(off.quiet_ms(), 0);
  off.push(std::vector<float>(kRate * 45 / 1000, 0.0f));  // 45 ms of silence: 4 whole quiet frames
  EXPECT_EQ(off.quiet_ms(), 40);
  off.push(std::vector<float>(kRate / 10, 0.0f));
  EXPECT_EQ(off.quiet_ms(), 140);
}

TEST(SpeechOffset, EndOverSteadyNoiseIsFound) {
  std::mt19937 rng(7);
  SpeechOffset off;
  off.push(noise(rng, 1.0, 0.002f));  // about -54 dBFS of room
  off.begin_utterance();
  std::vector<float> voice = test::sine(180.0, kRate, 1.0, 0.2);
  mix(voice, noise(rng, 1.0, 0.002f));
  off.push(voice);
  EXPECT_EQ(off.quiet_ms(), 0);
  off.push(noise(rng, 0.05, 0.002f));
  EXPECT_GE(off.quiet_ms(), 40);
  EXPECT_LE(off.quiet_ms(), 50);
  EXPECT_LT(off.noise_floor_db(), -50.0f);
  EXPECT_GT(off.speech_level_db(), -25.0f);
}

TEST(SpeechOffset, NothingBeforeSpeechNorInARoomTooNoisyToTell) {
  std::mt19937 rng(3);
  SpeechOffset off;
  off.push(std::vector<float>(kRate, 0.0f));
  EXPECT_EQ(off.quiet_ms(), 0) << "silence alone is no end of speech";

  SpeechOffset loud_room;
  loud_room.push(noise(rng, 1.0, 0.05f));
  loud_room.begin_utterance();
  std::vector<float> voice = test::sine(200.0, kRate, 1.0, 0.1);  // about 7 dB over the room
  mix(voice, noise(rng, 1.0, 0.05f));
  loud_room.push(voice);
  loud_room.push(noise(rng, 0.3, 0.05f));
  EXPECT_EQ(loud_room.quiet_ms(), 0) << "too little contrast to trust the energy";
}

TEST(SpeechOffset, ShortDipsInsideSpeechEndTheRun) {
  SpeechOffset off;
  off.push(std::vector<float>(kRate / 4, 0.0f));
  off.begin_utterance();
  off.push(test::sine(200.0, kRate, 0.5, 0.3));
  off.push(std::vector<float>(kRate * 30 / 1000, 0.0f));
  EXPECT_EQ(off.quiet_ms(), 30);
  off.push(test::sine(200.0, kRate, 0.2, 0.3));
  EXPECT_EQ(off.quiet_ms(), 0) << "the voice went on";
}

TEST(SpeechOffset, NewUtteranceForgetsTheLastOnesLevel) {
  SpeechOffset off;
  off.push(std::vector<float>(kRate / 4, 0.0f));
  off.begin_utterance();
  off.push(test::sine(200.0, kRate, 0.5, 0.5));
  off.push(std::vector<float>(kRate / 2, 0.0f));
  EXPECT_GT(off.quiet_ms(), 0);
  off.begin_utterance();
  EXPECT_EQ(off.quiet_ms(), 0);
  // A much softer voice: 26 dB under the last one, yet its own end is found.
  off.push(test::sine(200.0, kRate, 0.5, 0.025));
  EXPECT_EQ(off.quiet_ms(), 0);
  off.push(std::vector<float>(kRate / 20, 0.0f));
  EXPECT_EQ(off.quiet_ms(), 50);
}

TEST(SpeechOffset, NonFiniteSamplesCountAsSilenceAndBadSettingsAreRejected) {
  SpeechOffset off;
  off.push(std::vector<float>(kRate / 4, 0.0f));
  off.begin_utterance();
  off.push(test::sine(200.0, kRate, 0.3, 0.3));
  off.push(std::vector<float>(kRate / 10, std::numeric_limits<float>::quiet_NaN()));
  EXPECT_EQ(off.quiet_ms(), 100);
  off.push(std::vector<float>(kRate / 10, std::numeric_limits<float>::infinity()));
  EXPECT_EQ(off.quiet_ms(), 200);

  EXPECT_THROW(SpeechOffset(SpeechOffsetConfig{.sample_rate = 100}), Error);
  EXPECT_THROW(SpeechOffset(SpeechOffsetConfig{.frame_ms = 0}), Error);
}

}  // namespace
}  // namespace duet::audio
