// Whisper's other search strategies on a real recording (pocketsphinx-testdata's goforward.raw):
// beam search (beam 1 is greedy; beam 5 finds the words), seeded sampling (reproducible, and a
// draft does not change it), faster-whisper's compression ratio, and temperature fallback (tries
// every temperature when no result passes, keeps temperature 0 when it does). Needs the converted
// tiny.en GGUF and the recording; skipped when either is missing.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audio/log_mel.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"
#include "runtime/thread_pool.hpp"
#include "goforward_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using duet::whisper::DecodeOptions;
using duet::whisper::DecodeResult;

const fs::path& kModel = duet::test::kWhisperModel;
const fs::path& kAudio = duet::test::kGoForward;

class Search : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel)) GTEST_SKIP() << kModel << " missing";
    if (!fs::exists(kAudio)) GTEST_SKIP() << kAudio << " missing (pocketsphinx-testdata)";
    model = duet::whisper::WhisperModel::load(kModel);
    const std::vector<float> audio = duet::test::read_s16(kAudio);
    state = std::make_unique<duet::whisper::WhisperState>(model, &pool);
    duet::audio::LogMel mel(model->mel_filters(), 80);
    mel.push(audio);
    std::vector<float> feats, window;
    mel.features(feats);
    duet::whisper::encode_frames(*state, feats, mel.n_frames(), 0, mel.n_frames() - 1, {}, window,
                                 cancel);
  }
  std::string text(const DecodeResult& r) const { return duet::whisper::tokens_to_text(*model, r.tokens); }
  std::shared_ptr<const duet::whisper::WhisperModel> model;
  duet::rt::ThreadPool pool{2};
  duet::CancelToken cancel;
  std::unique_ptr<duet::whisper::WhisperState> state;
};

TEST_F(Search, BeamOfOneIsGreedy) {
  DecodeOptions o;
  const DecodeResult greedy = duet::whisper::decode_greedy(*state, o, cancel);
  o.beam_size = 1;
  const DecodeResult beam = duet::whisper::decode_beam(*state, o, cancel);
  EXPECT_EQ(beam.tokens, greedy.tokens);
  EXPECT_NEAR(beam.sum_logprob, greedy.sum_logprob, 1e-3);
  EXPECT_FLOAT_EQ(beam.no_speech_prob, greedy.no_speech_prob);
}

TEST_F(Search, BeamOfFiveFindsTheWords) {
  DecodeOptions o;
  o.beam_size = 5;
  const DecodeResult beam = duet::whisper::decode_beam(*state, o, cancel);
  const std::string t = text(beam);
  EXPECT_NE(t.find("forward"), std::string::npos) << t;
  EXPECT_LT(beam.tokens.size(), 16u) << t;  // stops when the best candidate ends: no loop
  EXPECT_LT(beam.avg_logprob, 0.0);
  // Greedy decoding afterwards still works: the beams' cache slots do not disturb slot 0.
  const DecodeResult greedy = duet::whisper::decode_greedy(*state, {}, cancel);
  EXPECT_NE(text(greedy).find("forward"), std::string::npos);
}

TEST_F(Search, SeededSamplingIsReproducibleAndDraftExact) {
  DecodeOptions o;
  o.temperature = 1.0f;
  o.seed = 7;
  const DecodeResult a = duet::whisper::decode_greedy(*state, o, cancel);
  const DecodeResult b = duet::whisper::decode_greedy(*state, o, cancel);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.temperature, 1.0f);
  o.draft = a.tokens;
  const DecodeResult c = duet::whisper::decode_greedy(*state, o, cancel);
  EXPECT_EQ(c.tokens, a.tokens);
  EXPECT_EQ(c.draft_accepted, static_cast<int64_t>(a.tokens.size()));
  // Different seeds at a high temperature eventually disagree somewhere.
  bool differs = false;
  o.draft.clear();
  o.temperature = 1.5f;
  for (uint64_t s = 1; s < 8 && !differs; ++s) {
    o.seed = s;
    differs = duet::whisper::decode_greedy(*state, o, cancel).tokens != a.tokens;
  }
  EXPECT_TRUE(differs);
}

TEST(CompressionRatio, FlagsRepetitionAsFasterWhisperDoes) {
  std::string loop;
  for (int i = 0; i < 20; ++i) loop += "I'm going to go. ";
  EXPECT_GT(duet::whisper::compression_ratio(loop), 2.4);
  EXPECT_LT(duet::whisper::compression_ratio("Go forward ten meters."), 2.4);
  EXPECT_EQ(duet::whisper::compression_ratio(""), 0.0);
}

TEST_F(Search, FallbackKeepsAGoodResultAtTemperatureZero) {
  duet::whisper::TranscribeOptions t;
  const DecodeResult r = duet::whisper::decode_with_fallback(*state, t, t.decode, cancel);
  const DecodeResult greedy = duet::whisper::decode_greedy(*state, t.decode, cancel);
  EXPECT_EQ(r.temperature, 0.0f);
  EXPECT_EQ(r.tokens, greedy.tokens);
  EXPECT_GT(r.compression_ratio, 0.0);
  EXPECT_LE(r.compression_ratio, 2.4);
}

TEST_F(Search, FallbackTriesEveryTemperatureWhenNothingPasses) {
  duet::whisper::TranscribeOptions t;
  t.log_prob_threshold = 0.0f;  // no decoding is ever that likely
  t.no_speech_threshold = 0.0f;
  t.temperatures = {0.0f, 0.5f, 1.0f};
  t.best_of = 2;
  const DecodeResult r = duet::whisper::decode_with_fallback(*state, t, t.decode, cancel);
  EXPECT_EQ(r.temperature, 1.0f);  // faster-whisper reports the last temperature tried
  EXPECT_FALSE(r.tokens.empty());
  // The pick is the likeliest: at least as likely as the greedy result.
  const DecodeResult greedy = duet::whisper::decode_greedy(*state, t.decode, cancel);
  EXPECT_GE(r.avg_logprob, greedy.avg_logprob - 1e-9);
}

}  // namespace
