// The phonemizer and the streaming Piper voice on the real voice (skipped when it is not pulled):
// clause punctuation, id layout, chunks and word timings, cancellation, controls, bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "speech/piper_phonemize.hpp"
#include "speech/piper_voice.hpp"

namespace {

std::shared_ptr<duet::PiperVoice> voice_or_skip() {
  static std::shared_ptr<duet::PiperVoice> voice;
  if (!voice && duet::PiperVoice::default_model_path()) {
    voice = std::make_shared<duet::PiperVoice>("piper", 2);
  }
  return voice;
}

#define NEED_VOICE()                                                         \
  auto voice = voice_or_skip();                                              \
  if (!voice) GTEST_SKIP() << "the Piper voice is not in the model store"

}  // namespace

TEST(PiperPhonemize, NfdAndIdLayout) {
  std::u32string out;
  duet::append_nfd(U'\u00e9', out);
  EXPECT_EQ(out, std::u32string(U"e\u0301"));
  duet::PhonemeIdMap map{{U'^', {1}}, {U'_', {0}}, {U'$', {2}}, {U'a', {14}}, {U' ', {3}}};
  const auto s = duet::phonemes_to_ids(U"a a?", map);  // '?' is unknown here: skipped
  EXPECT_EQ(s.ids, (std::vector<int64_t>{1, 0, 14, 0, 3, 0, 14, 0, 2}));
  EXPECT_EQ(s.word_starts, (std::vector<int32_t>{2, 6}));
  EXPECT_THROW(duet::phonemes_to_ids(U"a", {{U'a', {1}}}), duet::Error);
}

TEST(PiperPhonemize, ClausePunctuationIsRebuilt) {
  NEED_VOICE();
  const auto sentences = duet::espeak_phonemize("Hello world, how are you? I am fine; thanks!", "en-us");
  ASSERT_EQ(sentences.size(), 2u);
  EXPECT_NE(sentences[0].find(U", "), std::u32string::npos);
  EXPECT_EQ(sentences[0].back(), U'?');
  EXPECT_NE(sentences[1].find(U"; "), std::u32string::npos);
  EXPECT_EQ(sentences[1].back(), U'!');
  EXPECT_TRUE(duet::espeak_phonemize("?!... ,", "en-us").empty());
  EXPECT_THROW(duet::espeak_phonemize("hi", "no-such-voice"), duet::Error);
}

TEST(PiperVoice, StreamsChunksWithWordTimings) {
  NEED_VOICE();
  duet::PiperControls c;
  c.noise_scale = 0.0f;
  c.noise_w = 0.0f;
  c.output_rate = 16000;
  auto stream = voice->stream(c);
  stream->push_text("Hello there, my friend. ");
  stream->push_text("This is streamed.");
  stream->finish();
  int chunks = 0;
  int64_t samples = 0;
  std::vector<std::string> words;
  const duet::CancelToken cancel;
  while (auto chunk = stream->next_chunk(cancel)) {
    EXPECT_EQ(chunk->sample_rate, 16000);
    EXPECT_EQ(chunk->first_sample, samples);
    samples += static_cast<int64_t>(chunk->samples.size());
    for (const auto& w : chunk->words) {
      EXPECT_LE(w.start_sample, w.end_sample);
      words.push_back(w.word);
    }
    ++chunks;
  }
  EXPECT_TRUE(stream->done());
  EXPECT_GE(chunks, 3);
  EXPECT_GT(samples, 16000);  // more than a second of speech
  EXPECT_EQ(words, (std::vector<std::string>{"Hello", "there", "my", "friend", "This", "is", "streamed"}));
}

TEST(PiperVoice, CancelsWithinOneChunkAndHandlesHugeText) {
  NEED_VOICE();
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "blah ";  // 5,000 characters
  text += std::string(5000, 'x');
  auto stream = voice->stream();
  stream->push_text(text);
  stream->finish();
  duet::CancelToken cancel;
  ASSERT_TRUE(stream->next_chunk(cancel).has_value());
  cancel.cancel();
  EXPECT_THROW(stream->next_chunk(cancel), duet::Cancelled);
}

TEST(PiperVoice, BadInputGivesClearErrorsOrSensibleAudio) {
  NEED_VOICE();
  const duet::CancelToken cancel;
  const duet::SynthesisOptions normal;
  EXPECT_THROW(voice->synthesize("", normal, cancel), duet::Error);
  EXPECT_THROW(voice->synthesize(" \t\n", normal, cancel), duet::Error);
  EXPECT_THROW(voice->synthesize("?!... ,;", normal, cancel), duet::Error);
  EXPECT_GT(voice->synthesize("a\x01\x02 b\x1b[0m ok", normal, cancel).samples.size(), 0u);
  EXPECT_GT(voice->synthesize("bad \xFF\xC0 utf8 \xE2\x82", normal, cancel).samples.size(), 0u);
  duet::SynthesisOptions bad;
  bad.words_per_minute = 5;
  EXPECT_THROW(voice->synthesize("hi", bad, cancel), duet::Error);
  EXPECT_THROW(duet::PiperVoice("piper:/no/such/voice.gguf"), duet::Error);
  EXPECT_THROW(duet::PiperVoice("espeak"), duet::Error);
}

TEST(PiperVoice, ControlsChangeLengthAndLevel) {
  NEED_VOICE();
  const duet::CancelToken cancel;
  duet::SynthesisOptions o;
  const auto base = voice->synthesize("Testing the controls.", o, cancel);
  o.words_per_minute = 350;
  const auto fast = voice->synthesize("Testing the controls.", o, cancel);
  EXPECT_LT(fast.samples.size(), base.samples.size() * 3 / 4);
  duet::SynthesisOptions quiet;
  quiet.volume = 0.25f;
  const auto q = voice->synthesize("Testing the controls.", quiet, cancel);
  float peak_b = 0, peak_q = 0;
  for (float v : base.samples) peak_b = std::max(peak_b, std::fabs(v));
  for (float v : q.samples) peak_q = std::max(peak_q, std::fabs(v));
  EXPECT_LT(peak_q, peak_b * 0.5f);
  duet::SynthesisOptions high;
  high.pitch = 90;
  const auto h = voice->synthesize("Testing the controls.", high, cancel);
  EXPECT_NEAR(static_cast<double>(h.samples.size()), static_cast<double>(base.samples.size()),
              0.3 * static_cast<double>(base.samples.size()));
}

TEST(PiperVoice, StreamedWindowsMatchAWholeSentenceDecode) {
  NEED_VOICE();
  duet::PiperControls c;
  c.noise_scale = 0.0f;
  c.noise_w = 0.0f;
  c.sentence_pause_s = 0.0f;
  auto stream = voice->stream(c);
  stream->whole_text_up_front();  // no short first phrase: the sentence is one phrase
  const std::string text = "Streaming keeps every window consistent.";
  stream->push_text(text);
  stream->finish();
  std::vector<float> streamed;
  int chunks = 0;
  const duet::CancelToken cancel;
  while (auto chunk = stream->next_chunk(cancel)) {
    streamed.insert(streamed.end(), chunk->samples.begin(), chunk->samples.end());
    ++chunks;
  }
  // The same sentence through phonemizer and model in one piece.
  const auto& cfg = voice->model().config();
  const auto sentences = duet::espeak_phonemize(text, cfg.espeak_voice);
  ASSERT_EQ(sentences.size(), 1u);
  auto params = voice->model().default_params();
  params.noise_scale = 0.0f;
  params.noise_w = 0.0f;
  const auto whole = voice->model().synthesize(duet::phonemes_to_ids(sentences[0], cfg.phoneme_id_map).ids,
                                               params, cancel, &voice->pool());
  ASSERT_EQ(streamed.size(), whole.size());
  EXPECT_GE(chunks, 3);
  double dot = 0, a2 = 0, b2 = 0, max_diff = 0;
  for (size_t i = 0; i < whole.size(); ++i) {
    dot += static_cast<double>(streamed[i]) * whole[i];
    a2 += static_cast<double>(streamed[i]) * streamed[i];
    b2 += static_cast<double>(whole[i]) * whole[i];
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(streamed[i] - whole[i])));
  }
  EXPECT_GT(dot / std::sqrt(a2 * b2), 0.999);
  EXPECT_LT(max_diff, 0.05);
}

// The decoder cuts a window over time into one piece per thread, each with its own receptive
// field, and reuses a scratch across windows: the audio equals the one-thread decode.
TEST(PiperVoice, ThreadSplitDecodeMatchesOneThread) {
  NEED_VOICE();
  const auto& model = voice->model();
  const auto& cfg = model.config();
  const auto sentences = duet::espeak_phonemize("Two cores share this sentence evenly.", cfg.espeak_voice);
  ASSERT_FALSE(sentences.empty());
  auto params = model.default_params();
  params.noise_scale = 0.0f;
  params.noise_w = 0.0f;
  const duet::CancelToken cancel;
  const auto lat = model.infer_latent(duet::phonemes_to_ids(sentences[0], cfg.phoneme_id_map).ids,
                                      params, cancel, nullptr);
  const auto one = model.decode(lat, 0, lat.n_frames, cancel, nullptr);
  duet::models::VitsDecodeScratch scratch;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass reuses the scratch
    const auto split = model.decode(lat, 0, lat.n_frames, cancel, &voice->pool(), 0, &scratch);
    ASSERT_EQ(split.size(), one.size());
    double max_diff = 0;
    for (size_t i = 0; i < one.size(); ++i) {
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(split[i] - one[i])));
    }
    EXPECT_LT(max_diff, 1e-4) << "pass " << pass;
  }
}
