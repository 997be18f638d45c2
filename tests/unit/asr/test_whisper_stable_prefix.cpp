// The streaming recognizer's stable prefix, on a real 7 s recording (pocketsphinx-testdata's
// librivox sense_and_sensibility 0870) fed in 100 ms chunks at the engine's 300 ms cadence: every
// partial's stable text begins its text and never shrinks, the final text keeps it, words do get
// confirmed, and the words heard last are not (when the stable text grows, it leaves at least
// the hypothesis' last two words and its last 2 s open). Needs the converted tiny.en GGUF and the
// recording; skipped when either is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "audio/wav.hpp"
#include "models/whisper.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/asr_whisper.hpp"
#include "goforward_fixture.hpp"

namespace {

namespace fs = std::filesystem;

size_t word_count(const std::string& text) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

TEST(StablePrefix, StaysTwoSecondsBehindTheAudioAndSurvivesTheFinal) {
  const fs::path& model_path = duet::test::kWhisperModel;
  const fs::path audio_path =
      "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
  if (!fs::exists(model_path)) GTEST_SKIP() << model_path << " missing";
  if (!fs::exists(audio_path)) GTEST_SKIP() << audio_path << " missing (pocketsphinx-testdata)";
  auto model = duet::whisper::WhisperModel::load(model_path);
  const duet::AudioBuffer wav = duet::read_wav(audio_path);
  ASSERT_EQ(wav.sample_rate, 16000) << audio_path;
  ASSERT_EQ(wav.channels, 1) << audio_path;
  const std::vector<float>& audio = wav.samples;
  ASSERT_GT(audio.size(), 6u * 16000u) << audio_path;
  duet::rt::ThreadPool pool(2);
  duet::CancelToken cancel;
  duet::speech::AsrOptions opt;
  opt.partial_interval_ms = 300;
  duet::speech::WhisperAsr asr(model, &pool, opt);

  std::string stable;
  int partials = 0;
  for (size_t i = 0; i < audio.size(); i += 1600) {
    const auto part = std::span(audio).subspan(i, std::min<size_t>(1600, audio.size() - i));
    const auto r = asr.push(part, cancel);
    if (!r) continue;
    ++partials;
    EXPECT_TRUE(starts_with(r->text, r->stable)) << r->text << " / " << r->stable;
    EXPECT_TRUE(starts_with(r->stable, stable)) << "the stable text shrank: " << stable << " -> " << r->stable;
    if (r->stable != stable) {
      // At the hypothesis' own pace, 2 s hold at least this many words.
      const double words_per_s = static_cast<double>(word_count(r->text)) / r->audio_seconds;
      const size_t open = std::max<size_t>(2, static_cast<size_t>(words_per_s * 2.0));
      EXPECT_LE(word_count(r->stable) + open, word_count(r->text))
          << "confirmed words heard in the last 2 s: " << r->text << " / " << r->stable;
    }
    stable = r->stable;
  }
  EXPECT_GE(partials, 6);
  EXPECT_GE(word_count(stable), 1u) << "no word was ever confirmed";
  const auto final_result = asr.finish(cancel);
  EXPECT_TRUE(starts_with(final_result.text, stable)) << final_result.text << " / " << stable;
  EXPECT_NE(final_result.text.find("leisure"), std::string::npos) << final_result.text;
}

}  // namespace
