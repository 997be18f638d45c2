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

TEST_F(Whisper, CancelStopsEncoding) {
  duet::whisper::WhisperState state(model, &pool);
  std::vector<float> mel(80 * 200, 0.0f);
  duet::CancelToken c;
  c.cancel();
  EXPECT_THROW(state.encode(mel, 200, c), duet::Cancelled);
}

}  // namespace
