// The endpointer's state machine, specified with a scripted detector that replays given
// probabilities (one per 20 ms frame at 16 kHz, i.e. 320 samples): when speech starts and stops,
// what is too short to count, how pauses are bridged, pre-roll positions, chunking, the
// adaptive threshold in a noisy room, and bad configurations.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "speech/endpointer.hpp"

namespace {

using duet::speech::EndpointEvent;
using duet::speech::Endpointer;
using duet::speech::EndpointerConfig;
using Kind = EndpointEvent::Kind;

constexpr int kFrame = 320;  // 20 ms at 16 kHz
constexpr int64_t kMs = 16;  // samples per millisecond

// A detector that answers each frame with the next scripted probability (0 once exhausted).
class ScriptedVad final : public duet::speech::VoiceActivity {
 public:
  explicit ScriptedVad(std::vector<float> probs) : probs_(std::move(probs)) {}
  std::string name() const override { return "scripted"; }
  int sample_rate() const override { return 16000; }
  int frame_samples() const override { return kFrame; }
  float step(std::span<const float> frame) override {
    if (frame.size() != kFrame) duet::fail("scripted VAD: wrong frame size {}", frame.size());
    return next_ < probs_.size() ? probs_[next_++] : 0.0f;
  }
  void reset() override { next_ = 0; }

 private:
  std::vector<float> probs_;
  size_t next_ = 0;
};

// Probabilities for `frames` frames of `p` each.
std::vector<float> run(float p, int frames) {
  return std::vector<float>(static_cast<size_t>(frames), p);
}

std::vector<float> concat(std::initializer_list<std::vector<float>> parts) {
  std::vector<float> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// Feeds the whole script through a fresh endpointer in chunks of `chunk` samples and collects
// the events together with the position at which each was reported.
struct Reported {
  EndpointEvent event;
  int64_t reported_at;
};

std::vector<Reported> feed(const std::vector<float>& probs, EndpointerConfig config = {},
                           size_t chunk = kFrame) {
  Endpointer ep(std::make_unique<ScriptedVad>(probs), config);
  const std::vector<float> audio(probs.size() * kFrame, 0.0f);
  std::vector<Reported> out;
  for (size_t at = 0; at < audio.size(); at += chunk) {
    const size_t n = std::min(chunk, audio.size() - at);
    for (const auto& e : ep.push(std::span<const float>(audio).subspan(at, n))) {
      out.push_back({e, ep.position()});
    }
  }
  return out;
}

}  // namespace

TEST(Endpointer, SpeechStartsAfterMinSpeechAtTheTrueStartAndStopsAfterTheHangover) {
  // 1 s silence, 1 s speech, 1 s silence.
  const auto probs = concat({run(0.0f, 50), run(0.9f, 50), run(0.0f, 50)});
  const auto events = feed(probs);  // min speech 160 ms, hangover 500 ms, pre-roll 300 ms
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.kind, Kind::SpeechStarted);
  EXPECT_EQ(events[0].event.sample, 1000 * kMs);              // where speech began
  EXPECT_EQ(events[0].reported_at, (1000 + 160) * kMs);       // confirmed 160 ms later
  EXPECT_EQ(events[0].event.audio_start, (1000 - 300) * kMs); // pre-roll before the start
  EXPECT_EQ(events[1].event.kind, Kind::SpeechStopped);
  EXPECT_EQ(events[1].event.sample, 2000 * kMs);              // end of the last speech frame
  EXPECT_EQ(events[1].reported_at, (2000 + 500) * kMs);       // after the hangover
  EXPECT_EQ(events[1].event.audio_start, (1000 - 300) * kMs);
}

TEST(Endpointer, BurstsShorterThanMinSpeechAreNotSpeech) {
  // A 100 ms click, then a 140 ms cough: both under 160 ms.
  const auto probs =
      concat({run(0.0f, 10), run(1.0f, 5), run(0.0f, 20), run(1.0f, 7), run(0.0f, 40)});
  EXPECT_TRUE(feed(probs).empty());
  // Exactly 160 ms is enough.
  const auto events = feed(concat({run(0.0f, 10), run(1.0f, 8), run(0.0f, 40)}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.sample, 200 * kMs);
}

TEST(Endpointer, PausesShorterThanTheHangoverDoNotEndTheUtterance) {
  // Speech, a 400 ms pause (< 500 ms hangover), speech, then a long silence.
  const auto probs =
      concat({run(0.0f, 10), run(0.9f, 20), run(0.1f, 20), run(0.9f, 20), run(0.0f, 40)});
  const auto events = feed(probs);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.sample, 200 * kMs);
  EXPECT_EQ(events[1].event.sample, 1400 * kMs);
  // A pause of exactly the hangover does end it.
  const auto split =
      feed(concat({run(0.0f, 10), run(0.9f, 20), run(0.1f, 25), run(0.9f, 20), run(0.0f, 40)}));
  ASSERT_EQ(split.size(), 4u);
  EXPECT_EQ(split[1].event.sample, 600 * kMs);
  EXPECT_EQ(split[2].event.sample, 1100 * kMs);
}

TEST(Endpointer, HysteresisKeepsSpeechBetweenReleaseAndThreshold) {
  // Starts at 0.6 (>= 0.5), then hovers at 0.4: above the 0.35 release, so still speech.
  const auto probs = concat({run(0.0f, 5), run(0.6f, 10), run(0.4f, 50), run(0.2f, 40)});
  const auto events = feed(probs);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event.sample, (100 + 200 + 1000) * kMs);
  // 0.4 alone never starts speech.
  EXPECT_TRUE(feed(run(0.4f, 100)).empty());
  // A candidate that dips under the release before min speech is dropped.
  EXPECT_TRUE(feed(concat({run(0.9f, 5), run(0.3f, 1), run(0.9f, 5), run(0.0f, 10)})).empty());
}

TEST(Endpointer, PreRollIsClampedAtTheStreamStartAndThePreviousUtterance) {
  const auto at_start = feed(concat({run(0.0f, 5), run(0.9f, 20), run(0.0f, 30)}));
  ASSERT_FALSE(at_start.empty());
  EXPECT_EQ(at_start[0].event.audio_start, 0);  // 100 ms before the start, not -200 ms
  // Second utterance 520 ms after the first one's end: its 300 ms pre-roll fits...
  const auto two = concat({run(0.9f, 20), run(0.0f, 26), run(0.9f, 20), run(0.0f, 30)});
  EXPECT_EQ(feed(two)[2].event.audio_start, (400 + 520 - 300) * kMs);
  // ...but with a 1 s pre-roll it stops at the first utterance's end.
  EndpointerConfig wide;
  wide.prefix_padding_ms = 1000;
  const auto events = feed(two, wide);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].event.audio_start, events[1].event.sample);
}

TEST(Endpointer, AnyChunkSizeGivesTheSameEvents) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> probs;
  for (int block = 0; block < 30; ++block) {
    const float level = u(rng) < 0.5f ? 0.05f : 0.95f;
    const int frames = 3 + static_cast<int>(u(rng) * 40);
    for (int i = 0; i < frames; ++i) probs.push_back(level);
  }
  const auto reference = feed(probs);
  ASSERT_GE(reference.size(), 4u);
  for (const size_t chunk : {1u, 7u, 160u, 333u, 4096u}) {
    const auto events = feed(probs, {}, chunk);
    ASSERT_EQ(events.size(), reference.size()) << "chunk " << chunk;
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].event.kind, reference[i].event.kind);
      EXPECT_EQ(events[i].event.sample, reference[i].event.sample);
      EXPECT_EQ(events[i].event.audio_start, reference[i].event.audio_start);
    }
  }
}

TEST(Endpointer, ReportsPositionSilenceAndProbability) {
  Endpointer ep(std::make_unique<ScriptedVad>(concat({run(0.9f, 10), run(0.0f, 10)})));
  std::vector<float> audio(100, 0.0f);
  ep.push(audio);
  EXPECT_EQ(ep.position(), 100);  // a partial frame is counted but not yet judged
  audio.assign(10 * kFrame - 100, 0.0f);
  ep.push(audio);
  EXPECT_TRUE(ep.in_speech());
  EXPECT_EQ(ep.silence_ms(), 0);
  EXPECT_FLOAT_EQ(ep.last_probability(), 0.9f);
  audio.assign(5 * kFrame, 0.0f);
  ep.push(audio);
  EXPECT_EQ(ep.silence_ms(), 100);
  EXPECT_TRUE(ep.in_speech());  // still inside the hangover
  ep.reset();
  EXPECT_EQ(ep.position(), 0);
  EXPECT_FALSE(ep.in_speech());
}

TEST(Endpointer, AdaptiveModeRaisesTheThresholdInANoisyRoom) {
  // A room whose detector output jitters between 0.3 and 0.6 for 10 s, then 1 s of clear speech
  // (0.97) and 1 s of the same noise.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> noise(0.3f, 0.6f);
  std::vector<float> probs;
  for (int i = 0; i < 500; ++i) probs.push_back(noise(rng));
  for (int i = 0; i < 50; ++i) probs.push_back(0.97f);
  for (int i = 0; i < 50; ++i) probs.push_back(noise(rng));

  // Fixed thresholds: the noise keeps crossing 0.5 and long runs of it pass for speech.
  EndpointerConfig fixed;
  fixed.min_speech_ms = 60;
  const auto noisy = feed(probs, fixed);
  int spurious = 0;
  for (const auto& e : noisy) {
    if (e.event.kind == Kind::SpeechStarted && e.event.sample < 10000 * kMs) ++spurious;
  }
  EXPECT_GT(spurious, 0);

  // Adaptive: after a short learning time the threshold sits above the noise; only the speech
  // starts an utterance.
  EndpointerConfig adaptive = fixed;
  adaptive.adaptive = true;
  const auto events = feed(probs, adaptive);
  std::vector<int64_t> starts_after_learning;
  for (const auto& e : events) {
    if (e.event.kind == Kind::SpeechStarted && e.event.sample >= 3000 * kMs) {
      starts_after_learning.push_back(e.event.sample);
    }
  }
  ASSERT_EQ(starts_after_learning.size(), 1u);
  EXPECT_EQ(starts_after_learning[0], 10000 * kMs);

  Endpointer ep(std::make_unique<ScriptedVad>(probs), adaptive);
  std::vector<float> audio(400 * kFrame, 0.0f);
  ep.push(audio);
  EXPECT_GT(ep.current_threshold(), 0.65f);
  EXPECT_LE(ep.current_threshold(), 0.95f);
  // In a quiet room the threshold stays at its configured value.
  Endpointer quiet(std::make_unique<ScriptedVad>(run(0.02f, 400)), adaptive);
  quiet.push(audio);
  EXPECT_FLOAT_EQ(quiet.current_threshold(), 0.5f);
}

TEST(Endpointer, RejectsBadConfigurations) {
  auto make = [](EndpointerConfig c) {
    return Endpointer(std::make_unique<ScriptedVad>(std::vector<float>{}), c);
  };
  EndpointerConfig c;
  c.threshold = 0.0f;
  EXPECT_THROW(make(c), duet::Error);
  c = {};
  c.release_threshold = 0.7f;  // above the threshold
  EXPECT_THROW(make(c), duet::Error);
  c = {};
  c.hangover_ms = -1;
  EXPECT_THROW(make(c), duet::Error);
  c = {};
  c.threshold = std::nanf("");
  EXPECT_THROW(make(c), duet::Error);
  EXPECT_THROW(Endpointer(nullptr), duet::Error);
  Endpointer ok(std::make_unique<ScriptedVad>(std::vector<float>{}));
  c = {};
  c.min_speech_ms = -5;
  EXPECT_THROW(ok.set_config(c), duet::Error);
  EXPECT_EQ(ok.config().min_speech_ms, 160);  // unchanged after a rejected update
}
