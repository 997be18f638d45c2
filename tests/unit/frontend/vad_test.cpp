// The WebRTC and energy detectors on real speech: human recordings from pocketsphinx-testdata
// and espeak-ng sentences, padded with quiet room noise. Each detector must fire on most of the
// speech and stay quiet in the padding, and the endpointer over it must report one utterance
// whose bounds enclose the speech. Also: names, frame sizes, 8 kHz, reset.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/error.hpp"
#include "frontend_audio.hpp"
#include "speech/endpointer.hpp"
#include "speech/vad_energy.hpp"
#include "speech/vad_webrtc.hpp"

namespace {

using duet::speech::EndpointEvent;
using duet::speech::Endpointer;
using duet::speech::EnergyVad;
using duet::speech::VoiceActivity;
using duet::speech::WebrtcVad;
using namespace duet::test;

struct Padded {
  std::vector<float> signal;
  size_t speech_begin = 0, speech_end = 0;
};

// 1.5 s of quiet room noise (-60 dBFS), the speech, 1.5 s more.
Padded padded(const std::vector<float>& speech, int rate = 16000) {
  Padded p;
  p.speech_begin = samples_for(1.5, rate);
  p.speech_end = p.speech_begin + speech.size();
  p.signal = room_noise(p.speech_end + samples_for(1.5, rate), 0.001f);
  mix_into(p.signal, speech, p.speech_begin);
  return p;
}

std::unique_ptr<VoiceActivity> make(const std::string& kind, int rate = 16000) {
  if (kind == "energy") return std::make_unique<EnergyVad>(rate);
  return std::make_unique<WebrtcVad>(rate, 2);
}

class EveryDetector : public ::testing::TestWithParam<std::string> {};

void expect_speech_found(VoiceActivity& vad, const Padded& p, const std::string& what) {
  const auto probs = run_vad(vad, p.signal);
  const int n = vad.frame_samples();
  // Leading padding: skip the first 0.3 s, where the detectors learn the room.
  EXPECT_LT(active_fraction(probs, n, samples_for(0.3), p.speech_begin), 0.05) << what;
  EXPECT_GT(active_fraction(probs, n, p.speech_begin, p.speech_end), 0.5) << what;
  // Trailing padding, after a 0.3 s margin for the decay of the last word.
  EXPECT_LT(active_fraction(probs, n, p.speech_end + samples_for(0.3), p.signal.size()), 0.05)
      << what;
}

void expect_one_utterance(std::unique_ptr<VoiceActivity> vad, const Padded& p, int rate,
                          const std::string& what) {
  Endpointer ep(std::move(vad));
  std::vector<EndpointEvent> events;
  for (size_t at = 0; at < p.signal.size(); at += 480) {  // 30 ms chunks, as a sound card gives
    const size_t n = std::min<size_t>(480, p.signal.size() - at);
    const auto got = ep.push(std::span<const float>(p.signal).subspan(at, n));
    events.insert(events.end(), got.begin(), got.end());
  }
  ASSERT_GE(events.size(), 2u) << what;
  EXPECT_EQ(events.front().kind, EndpointEvent::Kind::SpeechStarted) << what;
  EXPECT_EQ(events.back().kind, EndpointEvent::Kind::SpeechStopped) << what;
  const auto tolerance = static_cast<int64_t>(samples_for(0.25, rate));
  EXPECT_GE(events.front().sample, static_cast<int64_t>(p.speech_begin) - tolerance) << what;
  EXPECT_LE(events.front().audio_start, static_cast<int64_t>(p.speech_begin) + tolerance) << what;
  EXPECT_LE(events.back().sample, static_cast<int64_t>(p.speech_end) + tolerance) << what;
  EXPECT_GE(events.back().sample, static_cast<int64_t>(p.speech_end) - 2 * tolerance) << what;
  // Pauses between words and sentences stay inside one utterance (at most a split or two).
  EXPECT_LE(events.size(), 6u) << what;
}

}  // namespace

TEST_P(EveryDetector, FindsHumanSpeechInPocketsphinxRecordings) {
  for (const char* file : {"librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
                           "librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
                           "cards/005.wav"}) {
    const auto speech = pocketsphinx_speech(file);
    if (!speech) GTEST_SKIP() << "pocketsphinx-testdata is not installed";
    const auto p = padded(*speech);
    auto vad = make(GetParam());
    expect_speech_found(*vad, p, file);
    expect_one_utterance(make(GetParam()), p, 16000, file);
  }
}

TEST_P(EveryDetector, FindsEspeakSpeech) {
  const auto p = padded(normalized(
      espeak_speech("The quick brown fox jumps over the lazy dog. Then it runs away."), 0.5f));
  auto vad = make(GetParam());
  expect_speech_found(*vad, p, "espeak");
  expect_one_utterance(make(GetParam()), p, 16000, "espeak");
}

TEST_P(EveryDetector, WorksAt8kHz) {
  const auto speech = espeak_speech("Can you hear me at eight kilohertz?", 8000);
  const auto p = padded(normalized(speech, 0.5f), 8000);
  auto vad = make(GetParam(), 8000);
  EXPECT_EQ(vad->sample_rate(), 8000);
  EXPECT_EQ(vad->frame_samples(), 160);
  const auto probs = run_vad(*vad, p.signal);
  EXPECT_GT(active_fraction(probs, 160, p.speech_begin, p.speech_end), 0.5);
  EXPECT_LT(active_fraction(probs, 160, samples_for(0.3, 8000), p.speech_begin), 0.05);
  expect_one_utterance(make(GetParam(), 8000), p, 8000, "8 kHz");
}

TEST_P(EveryDetector, ResetForgetsTheStream) {
  const auto p = padded(normalized(espeak_speech("Hello there."), 0.5f));
  auto vad = make(GetParam());
  const auto first = run_vad(*vad, p.signal);
  vad->reset();
  const auto second = run_vad(*vad, p.signal);
  EXPECT_EQ(first, second);
}

TEST_P(EveryDetector, RejectsWrongFrameSizes) {
  auto vad = make(GetParam());
  EXPECT_EQ(vad->frame_samples(), 320);  // 20 ms at 16 kHz
  std::vector<float> frame(319, 0.0f);
  EXPECT_THROW(vad->step(frame), duet::Error);
  frame.resize(640);
  EXPECT_THROW(vad->step(frame), duet::Error);
}

INSTANTIATE_TEST_SUITE_P(Frontend, EveryDetector, ::testing::Values("webrtc", "energy"));

TEST(WebrtcVad, NamesAndSettings) {
  EXPECT_EQ(WebrtcVad(16000, 3).name(), "webrtc:3");
  EXPECT_EQ(WebrtcVad(16000, 0).aggressiveness(), 0);
  EXPECT_THROW(WebrtcVad(16000, 4), duet::Error);
  EXPECT_THROW(WebrtcVad(16000, -1), duet::Error);
  EXPECT_THROW(WebrtcVad(44100, 2), duet::Error);
  EXPECT_EQ(EnergyVad(16000).name(), "energy");
  EXPECT_THROW(EnergyVad(22050), duet::Error);
}

TEST(WebrtcVad, ProbabilityIsADecision) {
  WebrtcVad vad(16000, 2);
  const auto p = padded(normalized(espeak_speech("Yes or no."), 0.5f));
  for (const float prob : run_vad(vad, p.signal)) EXPECT_TRUE(prob == 0.0f || prob == 1.0f);
}

TEST(EnergyVad, FollowsTheNoiseFloorOfALoudRoom) {
  // A steady fan at -40 dBFS for 3 s, then speech (peaks at -6 dBFS) on top of it.
  auto speech = normalized(espeak_speech("The fan is loud but I am louder."), 0.5f);
  std::vector<float> signal = room_noise(samples_for(3.0), 0.01f);
  const size_t begin = signal.size();
  signal.resize(begin + speech.size() + samples_for(1.0));
  const auto more = room_noise(signal.size() - begin, 0.01f, 9);
  for (size_t i = begin; i < signal.size(); ++i) signal[i] = more[i - begin];
  mix_into(signal, speech, begin);
  EnergyVad vad(16000);
  const auto probs = run_vad(vad, signal);
  EXPECT_LT(active_fraction(probs, 320, samples_for(1.0), begin), 0.05);
  EXPECT_NEAR(vad.noise_floor_db(), -40.5f, 4.0f);
  EXPECT_GT(active_fraction(probs, 320, begin, begin + speech.size()), 0.4);
}
