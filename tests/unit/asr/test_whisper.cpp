// Whisper model loading, argument checks, and decoding/streaming on silence. Needs the converted
// tiny.en GGUF (tools/convert_whisper.py); skipped when it is missing.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "audio/log_mel.hpp"
#include "core/error.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/asr_whisper.hpp"

namespace {

std::filesystem::path model_path() {
  return std::filesystem::path(DUET_SOURCE_DIR) / "models" / "whisper-tiny.en" /
         "whisper-tiny.en.gguf";
}

class Whisper : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(model_path())) GTEST_SKIP() << model_path() << " missing";
    model = duet::whisper::WhisperModel::load(model_path());
  }
  std::shared_ptr<const duet::whisper::WhisperModel> model;
  duet::rt::ThreadPool pool{2};
  duet::CancelToken cancel;
};

TEST_F(Whisper, LoadsTinyEn) {
  const auto& hp = model->hparams();
  EXPECT_EQ(hp.n_mels, 80);
  EXPECT_EQ(hp.n_audio_state, 384);
  EXPECT_EQ(hp.n_vocab, 51864);
  EXPECT_FALSE(model->multilingual());
  EXPECT_EQ(model->tokens().eot, 50256);
  EXPECT_EQ(model->tokens().sot, 50257);
  EXPECT_EQ(model->tokens().no_timestamps, 50362);
  EXPECT_EQ(model->tokens().timestamp_begin, 50363);
  EXPECT_EQ(model->token_bytes(220), " ");
  EXPECT_EQ(model->token_bytes(50257), "");
  EXPECT_EQ(model->language_token("en"), -1);
}

TEST_F(Whisper, RejectsBadInputs) {
  duet::whisper::WhisperState state(model, &pool);
  const int32_t sot = model->tokens().sot;
  EXPECT_THROW(state.decode(std::span(&sot, 1), 0, 0, cancel), duet::Error);  // no encode yet
  std::vector<float> mel(80 * 10, 0.0f);
  EXPECT_THROW(state.encode(mel, 11, cancel), duet::Error);
  EXPECT_THROW(state.encode({}, 0, cancel), duet::Error);
  EXPECT_THROW(duet::whisper::WhisperModel::load("/nonexistent.gguf"), duet::Error);
}

TEST_F(Whisper, SilenceGivesNoText) {
  duet::whisper::WhisperState state(model, &pool);
  duet::audio::LogMel mel(model->mel_filters(), 80);
  std::vector<float> silence(32000, 0.0f);
  mel.push(silence);
  std::vector<float> feats;
  mel.features(feats);
  const auto segs = duet::whisper::transcribe(state, feats, mel.n_frames(), {}, cancel);
  std::string text;
  for (const auto& s : segs) text += s.text;
  EXPECT_LE(text.size(), 16u) << text;

  duet::speech::AsrOptions opt;
  opt.partial_interval_ms = 500;
  duet::speech::WhisperAsr asr(model, &pool, opt);
  int partials = 0;
  for (size_t i = 0; i < silence.size(); i += 1000) {
    if (asr.push(std::span(silence).subspan(i, 1000), cancel)) ++partials;
  }
  EXPECT_EQ(partials, 4);
  const auto fin = asr.finish(cancel);
  EXPECT_TRUE(fin.is_final);
  EXPECT_LE(fin.text.size(), 16u) << fin.text;
  EXPECT_TRUE(asr.finish(cancel).text.empty());  // nothing pushed since: empty, no crash
}

TEST_F(Whisper, LogitsOfAnyRowsInOnePassMatchOnePassPerRow) {
  // The batched pass feed_prompt uses: rows out of order and repeated (the no-speech row after
  // the draft's) give the logits that decoding each prefix on its own gives.
  duet::whisper::WhisperState state(model, &pool);
  std::vector<float> mel(80 * 1000, -0.5f);
  state.encode(mel, 1000, cancel);
  const auto& sp = model->tokens();
  const std::vector<int32_t> ids = {sp.sot, sp.timestamp_begin, 440, 1110, 13};
  const std::vector<int64_t> rows = {3, 4, 0, 3};
  state.decode_rows(ids, 0, rows, cancel);
  std::vector<std::vector<float>> batched;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto lg = state.logits(static_cast<int64_t>(i));
    batched.emplace_back(lg.begin(), lg.end());
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto r = static_cast<size_t>(rows[i]);
    state.decode(std::span(ids).first(r + 1), 0, rows[i], cancel);
    const auto one = state.logits();
    ASSERT_EQ(one.size(), batched[i].size());
    for (size_t v = 0; v < one.size(); ++v) ASSERT_NEAR(one[v], batched[i][v], 1e-3f) << "row " << r;
  }
  const std::vector<int64_t> bad = {5};
  EXPECT_THROW(state.decode_rows(ids, 0, bad, cancel), duet::Error);
  EXPECT_THROW(state.decode_rows(ids, 0, {}, cancel), duet::Error);
}

TEST_F(Whisper, CancelStopsEncoding) {
  duet::whisper::WhisperState state(model, &pool);
  std::vector<float> mel(80 * 200, 0.0f);
  duet::CancelToken c;
  c.cancel();
  EXPECT_THROW(state.encode(mel, 200, c), duet::Cancelled);
}

}  // namespace
