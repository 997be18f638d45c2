// VoiceFeatureAnalyzer on clips with known properties: real and espeak-ng speech at different
// pitches and rates, questions against statements, noise, music and babble behind speech, one
// voice against two, hesitations and pauses; and odd audio (NaN, DC, clipping, silence) that must
// never break it. Must never depend on exact values: espeak-ng adds jitter, so every check is an
// ordering or a wide band.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "audio/power_fft.hpp"
#include "audio/voice_features.hpp"
#include "core/error.hpp"
#include "voice_clips.hpp"

namespace duet::audio {
namespace {

namespace clips = duet::test::clips;

void print(const std::string& label, const VoiceFeatures& f) {
  std::cout << "[features] " << label << ": pitch " << f.pitch_median_hz << " (" << f.pitch_low_hz
            << ".." << f.pitch_high_hz << ") slope " << f.pitch_slope_st_per_s << " st/s, rise "
            << f.pitch_final_rise_st << " st, voiced "
            << f.voiced_fraction << ", loud " << f.loudness_dbfs << " dBFS, rate "
            << f.speaking_rate_sps << " syl/s, pauses " << f.pauses << " (" << f.pause_seconds
            << " s), hesitations " << f.hesitations << ", background "
            << background_kind_name(f.background) << " " << f.background_dbfs << " dBFS, speaker "
            << f.speaker << (f.speaker_changed ? " (changed)" : "") << " -> '" << annotation(f)
            << "'\n";
}

VoiceFeatures analyze_once(const std::vector<float>& pcm, const std::string& label) {
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  const VoiceFeatures f = analyzer.analyze(pcm);
  print(label, f);
  return f;
}

bool finite(const VoiceFeatures& f) {
  for (float v : {f.pitch_median_hz, f.pitch_low_hz, f.pitch_high_hz, f.pitch_slope_st_per_s,
                  f.voiced_fraction, f.loudness_dbfs, f.speaking_rate_sps, f.pause_seconds,
                  f.background_dbfs, f.duration_s, f.clipped_fraction, f.pitch_vs_usual_st}) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string kSentence = "The quick brown fox jumps over the lazy dog near the river bank.";

TEST(PowerFft, SineLandsInItsBinAndEnergyIsKept) {
  PowerFft fft(512);
  std::vector<float> x(512), p(257);
  double energy = 0;
  for (int i = 0; i < 512; ++i) {
    x[i] = static_cast<float>(0.5 * std::cos(2 * std::numbers::pi * 40 * i / 512.0) + 0.1);
    energy += static_cast<double>(x[i]) * x[i];
  }
  fft.power(x.data(), p.data());
  EXPECT_NEAR(p[40], 128.0 * 128.0, 1.0);   // (0.5 * 512 / 2)^2
  EXPECT_NEAR(p[0], 51.2 * 51.2, 0.1);      // (0.1 * 512)^2
  double sum = p[0] + p[256];
  for (int k = 1; k < 256; ++k) sum += 2.0 * p[k];
  EXPECT_NEAR(sum / 512.0, energy, 1e-3 * energy);  // Parseval
  EXPECT_THROW(PowerFft(400), duet::Error);
}

TEST(PowerFft, MatchesTheDefinitionAtEverySize) {
  // An irregular real signal against the DFT written out, for lengths from 2 to 1024.
  for (int n = 2; n <= 1024; n *= 2) {
    std::vector<float> x(n), p(n / 2 + 1);
    for (int i = 0; i < n; ++i) x[i] = static_cast<float>(std::sin(0.7 * i * i + 1.3) + 0.25);
    PowerFft(n).power(x.data(), p.data());
    for (int k = 0; k <= n / 2; ++k) {
      double re = 0, im = 0;
      for (int i = 0; i < n; ++i) {
        re += x[i] * std::cos(2 * std::numbers::pi * i * k / n);
        im -= x[i] * std::sin(2 * std::numbers::pi * i * k / n);
      }
      const double expected = re * re + im * im;
      EXPECT_NEAR(p[k], expected, 1e-4 * (1.0 + expected)) << "n=" << n << " k=" << k;
    }
  }
}

TEST(VoiceFeatures, AnnotationListsOnlyWhatStandsOut) {
  VoiceFeatures ordinary;
  ordinary.duration_s = 2.0f;
  ordinary.loudness_dbfs = -24.0f;
  ordinary.speaking_rate_sps = 4.0f;
  ordinary.pitch_median_hz = 120.0f;
  EXPECT_EQ(annotation(ordinary), "");
  EXPECT_EQ(annotation(VoiceFeatures{}), "");

  VoiceFeatures busy = ordinary;
  busy.speaking_rate_sps = 7.0f;
  busy.pitch_slope_st_per_s = 20.0f;
  busy.loudness_dbfs = -6.0f;
  busy.background = BackgroundKind::Music;
  busy.background_dbfs = -30.0f;
  busy.speaker = 1;
  busy.speaker_changed = true;
  EXPECT_EQ(annotation(busy), "[fast, rising pitch, loud; background: music; second speaker]");
  VoiceFeatures faint = ordinary;
  faint.background = BackgroundKind::SteadyNoise;
  faint.background_dbfs = -56.0f;  // 32 dB under the voice
  EXPECT_EQ(annotation(faint), "");
  EXPECT_STREQ(background_kind_name(BackgroundKind::Babble), "babble");
  EXPECT_STREQ(background_kind_name(BackgroundKind::SteadyNoise), "noise");
}

TEST(VoiceFeatures, OddAudioNeverBreaksIt) {
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<std::vector<float>> odd = {
      {},
      {0.5f},
      clips::silence(1.0),
      std::vector<float>(16000, nan),
      std::vector<float>(16000, inf),
      std::vector<float>(16000, 0.7f),   // DC
      std::vector<float>(16000, 40.0f),  // far beyond full scale
  };
  std::vector<float> clipped = clips::espeak(kSentence);
  for (float& v : clipped) v = std::clamp(v * 30.0f, -1.0f, 1.0f);
  odd.push_back(clipped);
  std::vector<float> holes = clips::espeak(kSentence);
  for (size_t i = 0; i < holes.size(); i += 97) holes[i] = nan;
  odd.push_back(holes);
  for (size_t i = 0; i < odd.size(); ++i) {
    analyzer.observe_background(odd[i]);
    const VoiceFeatures f = analyzer.analyze(odd[i]);
    EXPECT_TRUE(finite(f)) << "clip " << i;
    EXPECT_GE(f.voiced_fraction, 0.0f);
    EXPECT_LE(f.voiced_fraction, 1.0f);
    (void)annotation(f);
  }
  const VoiceFeatures silent = VoiceFeatureAnalyzer(clips::kRate).analyze(clips::silence(1.0));
  EXPECT_EQ(silent.pitch_median_hz, 0.0f);
  EXPECT_EQ(annotation(silent), "");
  const VoiceFeatures loud = VoiceFeatureAnalyzer(clips::kRate).analyze(clipped);
  print("clipped", loud);
  EXPECT_TRUE(has(annotation(loud), "clipped"));
  EXPECT_TRUE(has(annotation(loud), "loud"));
}

TEST(VoiceFeatures, RefusesUnusableSampleRates) {
  EXPECT_THROW(VoiceFeatureAnalyzer(0), duet::Error);
  EXPECT_THROW(VoiceFeatureAnalyzer(1000), duet::Error);
  VoiceFeatureAnalyzer narrow(8000);
  const AudioBuffer wide{clips::kRate, 1, clips::espeak(kSentence)};
  const VoiceFeatures f = narrow.analyze(resample(wide, 8000).samples);
  print("8 kHz", f);
  EXPECT_GT(f.pitch_median_hz, 60.0f);
  EXPECT_GT(f.speaking_rate_sps, 1.0f);
}

TEST(VoiceFeatures, RealRecordingIsOrdinarySpeech) {
  const auto speech = clips::recording("librivox/sense_and_sensibility_01_austen_64kb-0870.wav");
  if (!speech) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  const VoiceFeatures f = analyze_once(*speech, "librivox");
  EXPECT_GT(f.pitch_median_hz, 70.0f);
  EXPECT_LT(f.pitch_median_hz, 300.0f);
  EXPECT_LT(f.pitch_low_hz, f.pitch_median_hz);
  EXPECT_GT(f.pitch_high_hz, f.pitch_median_hz);
  EXPECT_GT(f.speaking_rate_sps, 2.0f);
  EXPECT_LT(f.speaking_rate_sps, 7.0f);
  EXPECT_GT(f.voiced_fraction, 0.2f);
  EXPECT_FALSE(has(annotation(f), "fast"));
  EXPECT_FALSE(has(annotation(f), "slow"));
  // The same reader's other sentences: read speech in a quiet room, nothing to remark on.
  for (const char* id : {"0880", "0890", "0920", "0930"}) {
    const auto more = clips::recording(
        std::string("librivox/sense_and_sensibility_01_austen_64kb-") + id + ".wav");
    ASSERT_TRUE(more);
    const VoiceFeatures g = analyze_once(*more, id);
    EXPECT_EQ(g.hesitations, 0) << id;
    EXPECT_EQ(annotation(g), "") << id;
  }
}

TEST(VoiceFeatures, HigherVoiceHasHigherPitch) {
  const VoiceFeatures low =
      analyze_once(clips::espeak(kSentence, "espeak:en-us", {}, 15), "pitch 15");
  const VoiceFeatures high =
      analyze_once(clips::espeak(kSentence, "espeak:en-us", {}, 85), "pitch 85");
  ASSERT_GT(low.pitch_median_hz, 0.0f);
  EXPECT_GT(12.0 * std::log2(high.pitch_median_hz / low.pitch_median_hz), 3.0);
}

TEST(VoiceFeatures, FasterSpeechHasHigherRateAndIsFlagged) {
  const VoiceFeatures slow = analyze_once(clips::espeak(kSentence, "espeak:en-us", 120), "120 wpm");
  const VoiceFeatures normal =
      analyze_once(clips::espeak(kSentence, "espeak:en-us", 175), "175 wpm");
  const VoiceFeatures fast = analyze_once(clips::espeak(kSentence, "espeak:en-us", 300), "300 wpm");
  EXPECT_LT(slow.speaking_rate_sps, normal.speaking_rate_sps);
  EXPECT_LT(normal.speaking_rate_sps, fast.speaking_rate_sps);
  EXPECT_GT(fast.speaking_rate_sps / slow.speaking_rate_sps, 1.6f);
  EXPECT_TRUE(has(annotation(fast), "fast"));
  EXPECT_FALSE(has(annotation(slow), "fast"));
  EXPECT_FALSE(has(annotation(normal), "fast"));
}

TEST(VoiceFeatures, QuestionRisesAndStatementDoesNot) {
  const VoiceFeatures question =
      analyze_once(clips::espeak("Are you coming home tonight?"), "question");
  const VoiceFeatures statement =
      analyze_once(clips::espeak("I am coming home tonight."), "statement");
  const VoiceFeatures short_q = analyze_once(clips::espeak("Is it?"), "is it?");
  const VoiceFeatures short_s = analyze_once(clips::espeak("It is."), "it is.");
  EXPECT_GT(question.pitch_slope_st_per_s, statement.pitch_slope_st_per_s + 5.0f);
  EXPECT_GT(short_q.pitch_slope_st_per_s, short_s.pitch_slope_st_per_s + 5.0f);
  EXPECT_GT(question.pitch_final_rise_st, 3.0f);
  EXPECT_LT(statement.pitch_final_rise_st, 2.0f);
  // espeak-ng's "Is it?" barely rises (about half a semitone); it only stops falling.
  EXPECT_FALSE(has(annotation(short_s), "rising pitch"));
  EXPECT_TRUE(has(annotation(question), "rising pitch"));
  EXPECT_FALSE(has(annotation(statement), "rising pitch"));
  EXPECT_LT(statement.pitch_slope_st_per_s, 0.0f);
}

TEST(VoiceFeatures, QuietBackgroundIsNotMentioned) {
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  analyzer.observe_background(clips::white_noise(1.0, 0.0003f));
  const VoiceFeatures f = analyzer.analyze(clips::espeak(kSentence));
  print("quiet room", f);
  EXPECT_EQ(f.background, BackgroundKind::Quiet);
  EXPECT_FALSE(has(annotation(f), "background"));
}

// Speech over a background, with `seconds` of the background alone heard first.
VoiceFeatures over_background(const std::vector<float>& background, const std::string& label) {
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  const size_t lead = clips::samples(2.0);
  analyzer.observe_background(std::span(background).first(lead));
  std::vector<float> speech = clips::espeak(kSentence);
  clips::mix_into(speech, std::span(background).subspan(lead, speech.size()), 0, 1.0f);
  const VoiceFeatures f = analyzer.analyze(speech);
  print(label, f);
  return f;
}

TEST(VoiceFeatures, WhiteNoiseBackgroundIsNoise) {
  const VoiceFeatures f = over_background(clips::white_noise(8.0, 0.01f), "white noise");
  EXPECT_EQ(f.background, BackgroundKind::SteadyNoise);
  EXPECT_NEAR(f.background_dbfs, -40.0f, 3.0f);
  EXPECT_TRUE(has(annotation(f), "background: noise"));
}

TEST(VoiceFeatures, MusicBackgroundIsMusic) {
  const VoiceFeatures f = over_background(clips::music(8.0, 0.05f), "music");
  EXPECT_EQ(f.background, BackgroundKind::Music);
  EXPECT_TRUE(has(annotation(f), "background: music"));
}

TEST(VoiceFeatures, SeveralVoicesBehindAreBabble) {
  const VoiceFeatures f = over_background(clips::babble(8.0, 0.01f), "babble");
  EXPECT_EQ(f.background, BackgroundKind::Babble);
  EXPECT_TRUE(has(annotation(f), "background: babble"));
}

TEST(VoiceFeatures, VoicesStayApartInNoise) {
  const auto reader = clips::recording("librivox/sense_and_sensibility_01_austen_64kb-0880.wav");
  if (!reader) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  const std::vector<float> noise = clips::white_noise(20.0, 0.006f);
  auto noisy = [&](std::vector<float> x, size_t at) {
    for (size_t i = 0; i < x.size(); ++i) x[i] += noise[(at + i) % noise.size()];
    return x;
  };
  analyzer.observe_background(std::span(noise).first(clips::samples(1.0)));
  const VoiceFeatures a = analyzer.analyze(noisy(clips::espeak(kSentence, "espeak:en+m3"), 0));
  analyzer.observe_background(std::span(noise).subspan(clips::samples(5.0), clips::samples(1.0)));
  const VoiceFeatures b = analyzer.analyze(noisy(*reader, clips::samples(7.0)));
  print("m3 in noise", a);
  print("reader in noise", b);
  EXPECT_EQ(a.background, BackgroundKind::SteadyNoise);
  EXPECT_EQ(b.speaker, 1);
  EXPECT_TRUE(b.speaker_changed);
}

TEST(VoiceFeatures, HumIsNoiseAndMusicUnderNoiseIsMusic) {
  std::vector<float> hum = clips::white_noise(8.0, 0.002f);
  for (size_t i = 0; i < hum.size(); ++i) {
    const double t = static_cast<double>(i) / clips::kRate;
    hum[i] += static_cast<float>(0.01 * std::sin(2 * std::numbers::pi * 50 * t) +
                                 0.003 * std::sin(2 * std::numbers::pi * 150 * t));
  }
  EXPECT_EQ(over_background(hum, "hum").background, BackgroundKind::SteadyNoise);
  std::vector<float> music = clips::music(8.0, 0.05f);
  clips::mix_into(music, clips::white_noise(8.0, 0.005f), 0, 1.0f);
  EXPECT_EQ(over_background(music, "music in noise").background, BackgroundKind::Music);
}

TEST(VoiceFeatures, SameVoiceTwiceIsOneSpeaker) {
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  const VoiceFeatures a = analyzer.analyze(clips::espeak(kSentence, "espeak:en+m3"));
  const VoiceFeatures b = analyzer.analyze(
      clips::espeak("Please remember to bring the documents to the office tomorrow morning.",
                    "espeak:en+m3"));
  print("m3 first", a);
  print("m3 again", b);
  EXPECT_EQ(a.speaker, 0);
  EXPECT_EQ(b.speaker, 0);
  EXPECT_FALSE(b.speaker_changed);
  EXPECT_FALSE(has(annotation(b), "speaker"));
}

TEST(VoiceFeatures, MaleThenFemaleVoiceIsASpeakerChange) {
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  const VoiceFeatures a = analyzer.analyze(clips::espeak(kSentence, "espeak:en+m3"));
  const VoiceFeatures b = analyzer.analyze(
      clips::espeak("Please remember to bring the documents to the office tomorrow morning.",
                    "espeak:en+f4"));
  const VoiceFeatures c = analyzer.analyze(
      clips::espeak("We walked along the river until the sun went down.", "espeak:en+m3"));
  print("m3", a);
  print("f4", b);
  print("m3 back", c);
  EXPECT_EQ(a.speaker, 0);
  EXPECT_EQ(b.speaker, 1);
  EXPECT_TRUE(b.speaker_changed);
  EXPECT_TRUE(has(annotation(b), "second speaker"));
  EXPECT_EQ(c.speaker, 0);
  EXPECT_TRUE(c.speaker_changed);
}

TEST(VoiceFeatures, RecordingThenSyntheticVoiceIsASpeakerChange) {
  const auto first = clips::recording("librivox/sense_and_sensibility_01_austen_64kb-0870.wav");
  const auto again = clips::recording("librivox/sense_and_sensibility_01_austen_64kb-0880.wav");
  if (!first || !again) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  const VoiceFeatures a = analyzer.analyze(*first);
  const VoiceFeatures b = analyzer.analyze(*again);
  const VoiceFeatures c = analyzer.analyze(clips::espeak(kSentence, "espeak:en+f4"));
  print("reader", a);
  print("reader again", b);
  print("espeak f4", c);
  EXPECT_EQ(b.speaker, 0);
  EXPECT_FALSE(b.speaker_changed);
  EXPECT_NE(c.speaker, 0);
  EXPECT_TRUE(c.speaker_changed);
}

TEST(VoiceFeatures, LongSteadyVowelIsAHesitation) {
  const std::vector<float> plain = clips::espeak(kSentence);
  const float level = clips::rms(plain);
  const std::vector<float> hesitant = clips::concat(
      {clips::espeak("So I was thinking"), clips::silence(0.1), clips::steady_vowel(0.8, level),
       clips::silence(0.1), clips::espeak("that we could go tomorrow.")});
  const VoiceFeatures f = analyze_once(hesitant, "with uhh");
  const VoiceFeatures g = analyze_once(plain, "plain");
  const VoiceFeatures s = analyze_once(clips::espeak(kSentence, "espeak:en-us", 90), "90 wpm");
  EXPECT_GE(f.hesitations, 1);
  EXPECT_TRUE(has(annotation(f), "hesitant"));
  EXPECT_EQ(g.hesitations, 0);
  EXPECT_EQ(s.hesitations, 0);
}

TEST(VoiceFeatures, SilentGapsArePauses) {
  const std::vector<float> talk =
      clips::concat({clips::espeak("Well, let me see."), clips::silence(0.7),
                     clips::espeak("I think it was on Tuesday.")});
  const VoiceFeatures f = analyze_once(talk, "pause");
  EXPECT_EQ(f.pauses, 1);
  EXPECT_GT(f.pause_seconds, 0.6f);
  EXPECT_LT(f.pause_seconds, 1.3f);
  const VoiceFeatures g = analyze_once(clips::espeak("I think it was on Tuesday."), "no pause");
  EXPECT_EQ(g.pauses, 0);
}

TEST(VoiceFeatures, LevelsAreMeasuredAndExtremesFlagged) {
  std::vector<float> speech = clips::espeak(kSentence);
  const float r = clips::rms(speech);
  auto scaled = [&](float target_rms) {
    std::vector<float> out = speech;
    for (float& v : out) v *= target_rms / r;
    return out;
  };
  const VoiceFeatures normal = analyze_once(scaled(0.05f), "-26 dBFS");
  const VoiceFeatures quiet = analyze_once(scaled(0.002f), "-54 dBFS");
  const VoiceFeatures loud = analyze_once(scaled(0.3f), "-10 dBFS");
  EXPECT_NEAR(loud.loudness_dbfs - normal.loudness_dbfs, 15.6f, 1.0f);
  // The quietest frames of the quiet clip fall under the -60 dBFS speech floor.
  EXPECT_NEAR(normal.loudness_dbfs - quiet.loudness_dbfs, 28.0f, 3.0f);
  EXPECT_FALSE(has(annotation(normal), "loud"));
  EXPECT_FALSE(has(annotation(normal), "quiet"));
  EXPECT_TRUE(has(annotation(quiet), "quiet"));
  EXPECT_TRUE(has(annotation(loud), "loud"));
}

TEST(VoiceFeatures, ResetForgetsTheVoices) {
  VoiceFeatureAnalyzer analyzer(clips::kRate);
  (void)analyzer.analyze(clips::espeak(kSentence, "espeak:en+m3"));
  analyzer.reset();
  const VoiceFeatures f = analyzer.analyze(clips::espeak(kSentence, "espeak:en+f4"));
  EXPECT_EQ(f.speaker, 0);
  EXPECT_FALSE(f.speaker_changed);
}

}  // namespace
}  // namespace duet::audio
