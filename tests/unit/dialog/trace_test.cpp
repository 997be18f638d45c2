// Specification of the latency trace's JSON: milestones that happened are there, rounded to
// 0.1 ms, the ones that did not are absent, and voice-to-voice is derived, never invented.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dialog/trace.hpp"

namespace duet::dialog {
namespace {

TEST(TurnTrace, VoiceToVoiceIsFirstAudioMinusEndOfSpeech) {
  TurnTrace t;
  t.speech_end_ms = 1000.04;
  t.first_audio_ms = 1280.0;
  EXPECT_NEAR(t.voice_to_voice_ms(), 279.96, 1e-9);
  const auto j = nlohmann::json::parse(t.to_json());
  EXPECT_DOUBLE_EQ(j["voice_to_voice_ms"].get<double>(), 280.0);
  EXPECT_DOUBLE_EQ(j["speech_end_ms"].get<double>(), 1000.0);
}

TEST(TurnTrace, VoiceToVoiceCountsFromWhereTheVoiceEndedWhenThatIsKnown) {
  TurnTrace t;
  t.voice_end_ms = 930.0;  // the energy fell here; the VAD heard the end 70 ms later
  t.speech_end_ms = 1000.0;
  t.first_audio_ms = 1280.0;
  EXPECT_DOUBLE_EQ(t.voice_to_voice_ms(), 350.0);
  const auto j = nlohmann::json::parse(t.to_json());
  EXPECT_DOUBLE_EQ(j["voice_to_voice_ms"].get<double>(), 350.0);
  EXPECT_DOUBLE_EQ(j["voice_end_ms"].get<double>(), 930.0);
}

TEST(TurnTrace, MilestonesThatDidNotHappenAreAbsent) {
  TurnTrace t;
  t.speech_end_ms = 500;
  t.transcript = "hello";
  const auto j = nlohmann::json::parse(t.to_json());
  EXPECT_FALSE(j.contains("first_audio_ms"));
  EXPECT_FALSE(j.contains("voice_to_voice_ms"));
  EXPECT_FALSE(j.contains("speculative_start_ms"));
  EXPECT_FALSE(j.contains("voice_end_ms"));
  EXPECT_EQ(j["transcript"], "hello");
  EXPECT_EQ(t.voice_to_voice_ms(), -1);
}

TEST(TurnTrace, InvalidUtf8InTextStillGivesValidJson) {
  TurnTrace t;
  t.reply = std::string("caf\xC3", 4);
  const auto j = nlohmann::json::parse(t.to_json());
  EXPECT_TRUE(j["reply"].is_string());
}

}  // namespace
}  // namespace duet::dialog
