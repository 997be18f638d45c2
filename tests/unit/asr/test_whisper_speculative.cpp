// Speculative draft verification is exact: on a real recording (pocketsphinx-testdata's
// goforward.raw, "go forward ten meters"), greedy decoding with a right, partly wrong, truncated,
// overlong or empty draft gives exactly the tokens and log-probability of plain greedy decoding,
// and a right draft is accepted whole. Streaming peek() with and without drafts agree, and a
// peek after a peek drafts from the first one's words. Needs the
// converted tiny.en GGUF and the recording; skipped when either is missing.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "audio/log_mel.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/asr_whisper.hpp"
#include "goforward_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using duet::whisper::DecodeOptions;
using duet::whisper::DecodeResult;

using duet::test::read_s16;
const fs::path& kModel = duet::test::kWhisperModel;
const fs::path& kAudio = duet::test::kGoForward;

class Speculative : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel)) GTEST_SKIP() << kModel << " missing";
    if (!fs::exists(kAudio)) GTEST_SKIP() << kAudio << " missing (pocketsphinx-testdata)";
    model = duet::whisper::WhisperModel::load(kModel);
    audio = read_s16(kAudio);
    state = std::make_unique<duet::whisper::WhisperState>(model, &pool);
    duet::audio::LogMel mel(model->mel_filters(), 80);
    mel.push(audio);
    mel.features(feats);
    std::vector<float> window;
    duet::whisper::encode_frames(*state, feats, mel.n_frames(), 0, mel.n_frames() - 1, {}, window,
                                 cancel);
  }
  DecodeResult decode(const std::vector<int32_t>& prefix, const std::vector<int32_t>& draft) {
    DecodeOptions o;
    o.prefix = prefix;
    o.draft = draft;
    return duet::whisper::decode_greedy(*state, o, cancel);
  }
  static void expect_same(const DecodeResult& a, const DecodeResult& b) {
    EXPECT_EQ(a.tokens, b.tokens);
    EXPECT_NEAR(a.sum_logprob, b.sum_logprob, 1e-3);
    EXPECT_FLOAT_EQ(a.no_speech_prob, b.no_speech_prob);
  }
  std::shared_ptr<const duet::whisper::WhisperModel> model;
  duet::rt::ThreadPool pool{2};
  duet::CancelToken cancel;
  std::vector<float> audio, feats;
  std::unique_ptr<duet::whisper::WhisperState> state;
};

TEST_F(Speculative, AnyDraftGivesPlainGreedyResult) {
  const DecodeResult plain = decode({}, {});
  ASSERT_GE(plain.tokens.size(), 5u);
  EXPECT_NE(duet::whisper::tokens_to_text(*model, plain.tokens).find("forward"), std::string::npos);
  EXPECT_EQ(plain.draft_accepted, 0);

  const DecodeResult right = decode({}, plain.tokens);
  expect_same(right, plain);
  EXPECT_EQ(right.draft_accepted, static_cast<int64_t>(plain.tokens.size()));

  std::vector<int32_t> wrong = plain.tokens;
  const size_t mid = wrong.size() / 2;
  wrong[mid] = 1000;  // " at" or whatever: not what the model says here
  ASSERT_NE(wrong[mid], plain.tokens[mid]);
  const DecodeResult partly = decode({}, wrong);
  expect_same(partly, plain);
  EXPECT_EQ(partly.draft_accepted, static_cast<int64_t>(mid));

  const std::vector<int32_t> head(plain.tokens.begin(), plain.tokens.begin() + 3);
  const DecodeResult truncated = decode({}, head);
  expect_same(truncated, plain);
  EXPECT_EQ(truncated.draft_accepted, 3);

  std::vector<int32_t> longer = plain.tokens;
  longer.insert(longer.end(), {1000, 1001, 1002});  // continues past where decoding ends
  expect_same(decode({}, longer), plain);

  const std::vector<int32_t> garbage(12, 1000);
  const DecodeResult bad = decode({}, garbage);
  expect_same(bad, plain);
  EXPECT_EQ(bad.draft_accepted, 0);
}

TEST_F(Speculative, DraftAfterForcedPrefixIsExact) {
  const DecodeResult plain = decode({}, {});
  ASSERT_GE(plain.tokens.size(), 5u);
  const std::vector<int32_t> prefix(plain.tokens.begin(), plain.tokens.begin() + 3);
  const DecodeResult ref = decode(prefix, {});
  const std::vector<int32_t> rest(plain.tokens.begin() + 3, plain.tokens.end());
  expect_same(decode(prefix, rest), ref);
  std::vector<int32_t> wrong = rest;
  wrong.back() = 1000;
  expect_same(decode(prefix, wrong), ref);
}

TEST_F(Speculative, StreamingPeekIsTheSameWithAndWithoutDrafts) {
  duet::speech::AsrOptions on, off;
  on.partial_interval_ms = off.partial_interval_ms = 800;
  off.speculative = false;
  duet::speech::WhisperAsr spec(model, &pool, on), plain(model, &pool, off);
  for (size_t i = 0; i < audio.size(); i += 1600) {
    const auto part = std::span(audio).subspan(i, std::min<size_t>(1600, audio.size() - i));
    const auto a = spec.push(part, cancel);
    const auto b = plain.push(part, cancel);
    ASSERT_EQ(a.has_value(), b.has_value());
    if (a) {
      EXPECT_EQ(a->text, b->text);
      EXPECT_EQ(a->stable, b->stable);
    }
  }
  const auto pa = spec.peek(cancel);
  EXPECT_EQ(pa.text, plain.peek(cancel).text);
  EXPECT_NE(pa.text.find("forward"), std::string::npos) << pa.text;
  EXPECT_EQ(spec.finish(cancel).text, plain.finish(cancel).text);
}

TEST_F(Speculative, ALookAfterALookStartsFromItsWords) {
  // A look, then another (the engine's relook, or a look after the person went on): the second
  // takes the first one's words as its draft. On the same audio every word comes without a
  // decoder step; after more audio the text is still exactly that of decoding without drafts.
  duet::speech::AsrOptions on, off;
  on.partial_interval_ms = off.partial_interval_ms = 800;
  off.speculative = false;
  duet::speech::WhisperAsr spec(model, &pool, on), plain(model, &pool, off);
  spec.append(audio, cancel);
  plain.append(audio, cancel);
  const auto first = spec.peek(cancel);
  EXPECT_EQ(first.draft_accepted, 0);  // no partial ran: nothing to draft from
  const auto same = spec.peek(cancel);
  EXPECT_EQ(same.text, first.text);
  EXPECT_GE(same.draft_accepted, 5) << same.text;
  const std::vector<float> more(audio.begin(), audio.begin() + 8000);
  spec.append(more, cancel);
  plain.append(more, cancel);
  EXPECT_EQ(spec.peek(cancel).text, plain.peek(cancel).text);
  EXPECT_EQ(spec.finish(cancel).text, plain.finish(cancel).text);
  // A new utterance never drafts from the last one's words.
  spec.append(audio, cancel);
  EXPECT_EQ(spec.peek(cancel).draft_accepted, 0);
}

}  // namespace
