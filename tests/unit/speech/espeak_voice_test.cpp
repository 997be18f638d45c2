// The espeak-ng voice: audible, plausibly timed speech; options take effect; bad text and names
// give clear errors; cancellation and concurrent use are safe. Must never assert exact audio
// beyond what espeak-ng guarantees (it adds random jitter, so not even identical runs match).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "speech/espeak_voice.hpp"

namespace duet {
namespace {

using namespace std::string_literals;

double rms(const AudioBuffer& audio) {
  double sum = 0.0;
  for (const float s : audio.samples) sum += static_cast<double>(s) * s;
  return audio.samples.empty() ? 0.0 : std::sqrt(sum / audio.samples.size());
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a duet::Error";
  return {};
}

// Median fundamental frequency over the loud 40 ms frames, from the autocorrelation peak
// between 60 and 500 Hz. Crude, but ample to tell a low voice from a high one.
double median_pitch_hz(const AudioBuffer& audio) {
  const auto frame = static_cast<size_t>(audio.sample_rate * 0.04);
  const auto min_lag = static_cast<size_t>(audio.sample_rate / 500);
  const auto max_lag = static_cast<size_t>(audio.sample_rate / 60);
  const double loud = rms(audio) * 1.5;
  std::vector<double> pitches;
  for (size_t start = 0; start + frame + max_lag < audio.samples.size(); start += frame) {
    const float* x = audio.samples.data() + start;
    double energy = 0.0;
    for (size_t i = 0; i < frame; ++i) energy += static_cast<double>(x[i]) * x[i];
    if (std::sqrt(energy / frame) < loud) continue;
    size_t best_lag = 0;
    double best = 0.0;
    for (size_t lag = min_lag; lag <= max_lag; ++lag) {
      double sum = 0.0;
      for (size_t i = 0; i < frame; ++i) sum += static_cast<double>(x[i]) * x[i + lag];
      if (sum > best) best = sum, best_lag = lag;
    }
    if (best_lag > 0) pitches.push_back(static_cast<double>(audio.sample_rate) / best_lag);
  }
  if (pitches.empty()) return 0.0;
  std::nth_element(pitches.begin(), pitches.begin() + pitches.size() / 2, pitches.end());
  return pitches[pitches.size() / 2];
}

constexpr double kSilenceFloor = 0.01;

TEST(EspeakVoice, DefaultVoiceNameAndRate) {
  EspeakVoice voice;
  EXPECT_EQ(voice.name(), "espeak:en-us");
  EXPECT_EQ(voice.sample_rate(), 22050);
  EXPECT_EQ(EspeakVoice("espeak:en+f3").name(), "espeak:en+f3");
}

TEST(EspeakVoice, SpeechIsAudibleAndPlausiblyTimed) {
  EspeakVoice voice;
  const std::string text = "The quick brown fox jumps over the lazy dog.";  // nine words
  const AudioBuffer audio = voice.synthesize(text, {}, CancelToken());
  EXPECT_EQ(audio.sample_rate, 22050);
  EXPECT_EQ(audio.channels, 1);
  EXPECT_GT(rms(audio), kSilenceFloor);
  EXPECT_GE(audio.duration_seconds(), 9 * 0.2);
  EXPECT_LE(audio.duration_seconds(), 9 * 1.0);
  for (const float s : audio.samples) ASSERT_TRUE(s >= -1.0f && s <= 1.0f);
}

TEST(EspeakVoice, LongerTextGivesLongerAudio) {
  EspeakVoice voice;
  const double short_seconds = voice.synthesize("Hello.", {}, CancelToken()).duration_seconds();
  const double long_seconds =
      voice.synthesize("Hello. This sentence is a good deal longer than the first one.", {},
                       CancelToken())
          .duration_seconds();
  EXPECT_GT(long_seconds, 2 * short_seconds);
}

TEST(EspeakVoice, SpeedAndVolumeTakeEffect) {
  EspeakVoice voice;
  const std::string text = "Counting one two three four five six seven.";
  SynthesisOptions slow;
  slow.words_per_minute = 100;
  SynthesisOptions fast;
  fast.words_per_minute = 350;
  EXPECT_GT(voice.synthesize(text, slow, CancelToken()).duration_seconds(),
            1.5 * voice.synthesize(text, fast, CancelToken()).duration_seconds());
  SynthesisOptions quiet;
  quiet.volume = 0.3f;
  EXPECT_LT(rms(voice.synthesize(text, quiet, CancelToken())),
            0.6 * rms(voice.synthesize(text, {}, CancelToken())));
}

TEST(EspeakVoice, PitchOptionAndFemaleVariantRaiseThePitch) {
  EspeakVoice voice;
  const std::string text = "A longer sentence gives the pitch estimate enough voiced sound.";
  SynthesisOptions low;
  low.pitch = 10;
  SynthesisOptions high;
  high.pitch = 90;
  const double low_hz = median_pitch_hz(voice.synthesize(text, low, CancelToken()));
  const double high_hz = median_pitch_hz(voice.synthesize(text, high, CancelToken()));
  EXPECT_GT(low_hz, 60.0);
  EXPECT_GT(high_hz, 1.3 * low_hz) << "low " << low_hz << " Hz, high " << high_hz << " Hz";
  const double female_hz =
      median_pitch_hz(EspeakVoice("espeak:en+f3").synthesize(text, {}, CancelToken()));
  const double male_hz = median_pitch_hz(voice.synthesize(text, {}, CancelToken()));
  EXPECT_GT(female_hz, 1.3 * male_hz) << "female " << female_hz << " Hz, male " << male_hz;
}

TEST(EspeakVoice, EmptyOrWhitespaceTextIsAnError) {
  EspeakVoice voice;
  for (const std::string& text : {""s, "   "s, " \n\t "s, "\xC2\xA0"s}) {
    const std::string message = error_of([&] { voice.synthesize(text, {}, CancelToken()); });
    EXPECT_NE(message.find("nothing to say"), std::string::npos) << message;
  }
}

TEST(EspeakVoice, InvalidUtf8IsReplacedNotFatal) {
  EspeakVoice voice;
  const std::string text = "hello \xFF\xFE\xC0\xAF world\0 again"s;
  const AudioBuffer audio = voice.synthesize(text, {}, CancelToken());
  EXPECT_GT(rms(audio), kSilenceFloor);
  EXPECT_THROW(voice.synthesize("\xFF\xFE", {}, CancelToken()), Error);  // nothing left to say
}

TEST(EspeakVoice, OptionsOutOfRangeAreErrors) {
  EspeakVoice voice;
  SynthesisOptions options;
  options.words_per_minute = 20;
  EXPECT_NE(error_of([&] { voice.synthesize("hi", options, CancelToken()); }).find("speed"),
            std::string::npos);
  options = {};
  options.pitch = 101;
  EXPECT_NE(error_of([&] { voice.synthesize("hi", options, CancelToken()); }).find("pitch"),
            std::string::npos);
  options = {};
  options.volume = NAN;
  EXPECT_NE(error_of([&] { voice.synthesize("hi", options, CancelToken()); }).find("volume"),
            std::string::npos);
}

TEST(EspeakVoice, BadVoiceNamesAreErrors) {
  EXPECT_NE(error_of([] { EspeakVoice("espeak:xx-nosuchvoice"); }).find("no voice"),
            std::string::npos);
  EXPECT_NE(error_of([] { EspeakVoice("espeak:../../etc/passwd"); }).find("not a valid name"),
            std::string::npos);
  EXPECT_THROW(EspeakVoice("espeak:"), Error);
  EXPECT_THROW(EspeakVoice("piper:en_US-amy"), Error);
  EXPECT_TRUE(EspeakVoice::is_espeak_name("espeak"));
  EXPECT_TRUE(EspeakVoice::is_espeak_name("espeak:de"));
  EXPECT_FALSE(EspeakVoice::is_espeak_name("espeaker"));
  EXPECT_FALSE(EspeakVoice::is_espeak_name("piper:x"));
}

TEST(EspeakVoice, AlreadyCancelledTokenThrowsCancelled) {
  EspeakVoice voice;
  CancelToken cancel;
  cancel.cancel();
  EXPECT_THROW(voice.synthesize("hello", {}, cancel), Cancelled);
}

TEST(EspeakVoice, CancellationStopsALongSynthesisAndTheVoiceStillWorks) {
  EspeakVoice voice;
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "This is sentence number " + std::to_string(i) + ". ";
  CancelToken cancel;
  std::thread canceller([cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancel.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(voice.synthesize(long_text, {}, cancel), Cancelled);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_GT(rms(voice.synthesize("Still here.", {}, CancelToken())), kSilenceFloor);
}

// espeak-ng adds random jitter, so runs are compared by length and pitch, not sample by sample.
TEST(EspeakVoice, ConcurrentUseKeepsEachVoiceIntact) {
  EspeakVoice female("espeak:en+f3");
  EspeakVoice male("espeak:en-us");
  const std::string text = "Two voices speaking at the same time, each in its own thread.";
  const AudioBuffer female_alone = female.synthesize(text, {}, CancelToken());
  const AudioBuffer male_alone = male.synthesize(text, {}, CancelToken());
  std::vector<AudioBuffer> female_runs(4);
  std::vector<AudioBuffer> male_runs(4);
  std::thread a([&] {
    for (AudioBuffer& run : female_runs) run = female.synthesize(text, {}, CancelToken());
  });
  std::thread b([&] {
    for (AudioBuffer& run : male_runs) run = male.synthesize(text, {}, CancelToken());
  });
  a.join();
  b.join();
  const auto same_voice = [](const AudioBuffer& run, const AudioBuffer& alone) {
    EXPECT_NEAR(run.duration_seconds(), alone.duration_seconds(), 0.05 * alone.duration_seconds());
    EXPECT_NEAR(median_pitch_hz(run), median_pitch_hz(alone), 0.1 * median_pitch_hz(alone));
    EXPECT_GT(rms(run), kSilenceFloor);
  };
  for (const AudioBuffer& run : female_runs) same_voice(run, female_alone);
  for (const AudioBuffer& run : male_runs) same_voice(run, male_alone);
}

}  // namespace
}  // namespace duet
