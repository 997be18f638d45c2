// Bad audio through the whole front end (echo canceller -> detector -> endpointer), for both
// detectors: NaN and infinities, clipping, DC offset, digital silence, 8 kHz, absurdly loud
// input, odd chunk sizes. Nothing may crash or throw, the cleaned audio stays finite and in
// [-1, 1], and the events make sense: nothing in silence or garbage, one utterance for speech.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "audio/echo_canceller.hpp"
#include "frontend_audio.hpp"
#include "speech/endpointer.hpp"
#include "speech/vad_energy.hpp"
#include "speech/vad_webrtc.hpp"

namespace {

using duet::audio::EchoCanceller;
using duet::speech::EndpointEvent;
using duet::speech::Endpointer;
using duet::speech::EnergyVad;
using duet::speech::WebrtcVad;
using namespace duet::test;

struct Result {
  int starts = 0;
  int stops = 0;
  bool output_finite_and_bounded = true;
};

// Runs `mic` (at `rate`) through canceller, detector and endpointer in 10 ms steps; the far end
// is silent.
void count(const std::vector<EndpointEvent>& events, Result& r) {
  for (const auto& e : events) {
    (e.kind == EndpointEvent::Kind::SpeechStarted ? r.starts : r.stops)++;
  }
}

Result front_end(const std::vector<float>& mic, const std::string& detector, int rate = 16000) {
  EchoCanceller aec({.sample_rate = rate});
  std::unique_ptr<duet::speech::VoiceActivity> vad;
  if (detector == "energy") vad = std::make_unique<EnergyVad>(rate);
  else vad = std::make_unique<WebrtcVad>(rate, 2);
  Endpointer ep(std::move(vad));
  const auto n = static_cast<size_t>(aec.frame_samples());
  const std::vector<float> far(n, 0.0f);
  std::vector<float> out(n);
  Result r;
  for (size_t at = 0; at + n <= mic.size(); at += n) {
    aec.process(std::span(mic).subspan(at, n), far, out);
    for (const float v : out) {
      r.output_finite_and_bounded &= std::isfinite(v) && std::fabs(v) <= 1.0f;
    }
    count(ep.push(out), r);
  }
  // Trailing silence so an utterance in progress can end.
  const std::vector<float> quiet(n, 0.0f);
  for (int i = 0; i < 100; ++i) {
    aec.process(quiet, far, out);
    count(ep.push(out), r);
  }
  return r;
}

std::vector<float> speech_clip(int rate = 16000) {
  auto s = normalized(espeak_speech("This sentence is spoken over bad audio.", rate), 0.5f);
  std::vector<float> out(samples_for(1.0, rate), 0.0f);
  out.insert(out.end(), s.begin(), s.end());
  out.resize(out.size() + samples_for(1.0, rate), 0.0f);
  return out;
}

class BadAudio : public ::testing::TestWithParam<std::string> {};

void expect_quiet(const Result& r, const char* what) {
  EXPECT_TRUE(r.output_finite_and_bounded) << what;
  EXPECT_EQ(r.starts, 0) << what;
  EXPECT_EQ(r.stops, 0) << what;
}

void expect_one_utterance(const Result& r, const char* what) {
  EXPECT_TRUE(r.output_finite_and_bounded) << what;
  EXPECT_GE(r.starts, 1) << what;
  EXPECT_LE(r.starts, 3) << what;
  EXPECT_EQ(r.starts, r.stops) << what;  // every utterance that started also ended
}

}  // namespace

TEST_P(BadAudio, DigitalSilenceGivesNoEvents) {
  expect_quiet(front_end(std::vector<float>(samples_for(5.0), 0.0f), GetParam()), "silence");
}

TEST_P(BadAudio, NonFiniteSamplesCountAsSilence) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_quiet(front_end(std::vector<float>(samples_for(3.0), nan), GetParam()), "all NaN");
  std::vector<float> mixed(samples_for(3.0), 0.0f);
  for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = i % 3 == 0 ? nan : (i % 3 == 1 ? inf : -inf);
  EXPECT_TRUE(front_end(mixed, GetParam()).output_finite_and_bounded);
  // Speech with scattered NaNs is still speech.
  auto speech = speech_clip();
  for (size_t i = 0; i < speech.size(); i += 97) speech[i] = nan;
  expect_one_utterance(front_end(speech, GetParam()), "speech with NaNs");
}

TEST_P(BadAudio, ClippedSpeechIsStillOneUtterance) {
  auto speech = speech_clip();
  for (float& v : speech) v = std::clamp(v * 20.0f, -1.0f, 1.0f);
  expect_one_utterance(front_end(speech, GetParam()), "clipped");
}

TEST_P(BadAudio, DcOffsetIsNotSpeech) {
  expect_quiet(front_end(std::vector<float>(samples_for(4.0), 0.3f), GetParam()), "DC only");
  auto speech = speech_clip();
  for (float& v : speech) v += 0.3f;
  expect_one_utterance(front_end(speech, GetParam()), "speech on DC");
}

TEST_P(BadAudio, EightKilohertzWorks) {
  expect_one_utterance(front_end(speech_clip(8000), GetParam(), 8000), "8 kHz speech");
  expect_quiet(front_end(room_noise(samples_for(3.0, 8000), 0.0005f), GetParam(), 8000),
               "8 kHz quiet");
}

TEST_P(BadAudio, AbsurdlyLoudInputIsClippedNotFatal) {
  auto speech = speech_clip();
  for (float& v : speech) v *= 1000.0f;  // far outside [-1, 1]
  expect_one_utterance(front_end(speech, GetParam()), "loud");
  std::vector<float> max_values(samples_for(2.0), std::numeric_limits<float>::max());
  EXPECT_TRUE(front_end(max_values, GetParam()).output_finite_and_bounded);
}

TEST_P(BadAudio, EndpointerTakesAnyChunkSizeIncludingEmpty) {
  std::unique_ptr<duet::speech::VoiceActivity> vad;
  if (GetParam() == "energy") vad = std::make_unique<EnergyVad>(16000);
  else vad = std::make_unique<WebrtcVad>(16000, 2);
  Endpointer ep(std::move(vad));
  const auto speech = speech_clip();
  EXPECT_TRUE(ep.push({}).empty());
  int starts = 0;
  size_t at = 0;
  for (size_t chunk = 1; at < speech.size(); chunk = chunk * 3 % 1001 + 1) {
    const size_t n = std::min(chunk, speech.size() - at);
    for (const auto& e : ep.push(std::span(speech).subspan(at, n))) {
      starts += e.kind == EndpointEvent::Kind::SpeechStarted;
    }
    at += n;
  }
  EXPECT_EQ(ep.position(), static_cast<int64_t>(speech.size()));
  EXPECT_GE(starts, 1);
}

INSTANTIATE_TEST_SUITE_P(Frontend, BadAudio, ::testing::Values("webrtc", "energy"));
