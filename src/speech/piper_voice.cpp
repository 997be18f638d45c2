// PiperVoice and PiperStream: phrase -> normalized text -> espeak sentences -> Piper ids ->
// latent (per sentence) -> decoded windows -> pitch/rate resampling, volume, pauses -> chunks
// with word timings. Must never decode more than one window per next_chunk() call, so that a
// raised CancelToken is seen within one chunk.
#include "speech/piper_voice.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "speech/piper_phonemize.hpp"
#include "speech/speech_text.hpp"
#include "store/model_store.hpp"
#include "text/normalize.hpp"

namespace duet {
namespace {

constexpr std::string_view kNamePrefix = "piper";
constexpr int64_t kFirstWindowFrames = 12;  // ~140 ms at 22.05 kHz: the first audio comes fast
constexpr int64_t kMaxWindowFrames = 128;   // later windows double up to ~1.5 s (less overlap)
constexpr size_t kMaxSentencePhonemes = 400;  // longer phoneme runs are cut at a space
constexpr int kNormalWordsPerMinute = 175;

// Cuts a long sentence's phonemes into pieces of at most kMaxSentencePhonemes, at spaces.
std::vector<std::u32string> cut_long(std::u32string phonemes) {
  std::vector<std::u32string> out;
  while (phonemes.size() > kMaxSentencePhonemes) {
    size_t cut = phonemes.rfind(U' ', kMaxSentencePhonemes);
    if (cut == std::u32string::npos || cut == 0) cut = kMaxSentencePhonemes;
    out.push_back(phonemes.substr(0, cut));
    phonemes.erase(0, cut + (phonemes[cut] == U' ' ? 1 : 0));
  }
  if (!phonemes.empty()) out.push_back(std::move(phonemes));
  return out;
}

std::vector<std::string> text_words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (const char c : text) {
    if (c == ' ') {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
    } else if (c != '.' && c != ',' && c != '?' && c != '!' && c != ':' && c != ';' && c != '"') {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(cur);
  return words;
}

void check_range(float v, float lo, float hi, std::string_view what) {
  if (!(v >= lo && v <= hi)) fail("piper: {} {} is outside {}..{}", what, v, lo, hi);
}

}  // namespace

struct PiperStream::Phrase {
  std::vector<PhonemizedSentence> sentences;
  std::vector<std::string> words;        // the phrase's text words
  std::vector<size_t> word_of_pword;     // first text word for each phoneme word (global)
  std::vector<size_t> pwords_before;     // phoneme words in sentences before each sentence
  size_t next_sentence = 0;
  std::optional<models::VitsLatent> latent;
  int64_t frame = 0;
  int64_t sentence_start_out = 0;        // output sample where the current sentence starts
  std::vector<WordTiming> pending_words;  // timed, not yet handed out
  bool ends_sentence = true;
};

PiperStream::PiperStream(PiperVoice& voice, const PiperControls& controls)
    : voice_(voice), controls_(controls), window_frames_(kFirstWindowFrames) {
  const auto& cfg = voice.model().config();
  check_range(controls.rate, 0.25f, 4.0f, "rate");
  check_range(controls.pitch_semitones, -12.0f, 12.0f, "pitch (semitones)");
  check_range(controls.volume, 0.0f, 2.0f, "volume");
  check_range(controls.sentence_pause_s, 0.0f, 5.0f, "sentence pause");
  check_range(controls.phrase_pause_s, 0.0f, 5.0f, "phrase pause");
  out_rate_ = controls.output_rate == 0 ? cfg.sample_rate : controls.output_rate;
  if (out_rate_ < 8000 || out_rate_ > 192000) fail("piper: output rate {} Hz is outside 8000..192000", out_rate_);
  params_ = voice.model().default_params();
  pitch_factor_ = std::pow(2.0, static_cast<double>(controls.pitch_semitones) / 12.0);
  // Pitch by resampling: speak longer by the pitch factor, then play it faster by the same.
  params_.length_scale = static_cast<float>(params_.length_scale / controls.rate * pitch_factor_);
  if (controls.noise_scale) params_.noise_scale = *controls.noise_scale;
  if (controls.noise_w) params_.noise_w = *controls.noise_w;
  params_.seed = controls.seed;
  if (controls.speaker_id >= 0) params_.speaker_id = controls.speaker_id;
  if (params_.speaker_id >= cfg.num_speakers) {
    fail("piper: speaker {} is outside 0..{}", params_.speaker_id, cfg.num_speakers - 1);
  }
  const int in_rate = static_cast<int>(std::lround(cfg.sample_rate * pitch_factor_));
  if (in_rate != out_rate_) resampler_.emplace(in_rate, out_rate_, 1, ResampleQuality::Medium);
}

PiperStream::~PiperStream() = default;

void PiperStream::push_text(std::string_view text) {
  if (finished_) fail("piper: text pushed after finish()");
  splitter_.push(replace_invalid_utf8(text));
}

void PiperStream::finish() { finished_ = true; }

bool PiperStream::done() const { return finished_ && phrase_ == nullptr && splitter_.empty(); }

bool PiperStream::start_next_phrase(const CancelToken& cancel) {
  while (true) {
    if (cancel.cancelled()) throw Cancelled{};
    std::optional<std::string> text = splitter_.next(finished_);
    if (!text) return false;
    const std::string normalized = text::normalize_for_speech(*text);
    const auto& cfg = voice_.model().config();
    auto phrase = std::make_unique<Phrase>();
    for (auto& s : espeak_phonemize(normalized, cfg.espeak_voice)) {
      for (auto& piece : cut_long(std::move(s))) {
        phrase->sentences.push_back(phonemes_to_ids(piece, cfg.phoneme_id_map));
      }
    }
    if (phrase->sentences.empty()) continue;  // nothing pronounceable: next phrase
    const char last = normalized.empty() ? '.' : normalized.back();
    // The text's very end counts as a sentence's end; a cut made for latency does not.
    phrase->ends_sentence = last == '.' || last == '!' || last == '?' || (finished_ && splitter_.empty());
    phrase->words = text_words(normalized);
    size_t n_pwords = 0;
    for (const auto& s : phrase->sentences) {
      phrase->pwords_before.push_back(n_pwords);
      n_pwords += s.word_starts.size();
    }
    // Text word k is spoken in phoneme word floor(k * P / W) (1:1 when the counts agree).
    phrase->word_of_pword.assign(n_pwords, SIZE_MAX);
    const size_t W = phrase->words.size();
    for (size_t k = 0; k < W && n_pwords > 0; ++k) {
      const size_t j = std::min(n_pwords - 1, k * n_pwords / W);
      if (phrase->word_of_pword[j] == SIZE_MAX) phrase->word_of_pword[j] = k;
    }
    phrase_ = std::move(phrase);
    return true;
  }
}

SpeechChunk PiperStream::decode_next_window(const CancelToken& cancel) {
  Phrase& ph = *phrase_;
  const auto& model = voice_.model();
  const auto& cfg = model.config();
  const double ratio = static_cast<double>(out_rate_) / (cfg.sample_rate * pitch_factor_);
  if (!ph.latent) {
    const PhonemizedSentence& s = ph.sentences[ph.next_sentence];
    ph.latent = model.infer_prior(s.ids, params_, cancel, &voice_.pool());
    ph.frame = 0;
    ph.sentence_start_out = emitted_;
    // Word timings of this sentence.
    std::vector<int64_t> frame_at(s.ids.size() + 1, 0);
    for (size_t i = 0; i < s.ids.size(); ++i) frame_at[i + 1] = frame_at[i] + ph.latent->frames_per_id[i];
    const size_t base = ph.pwords_before[ph.next_sentence];
    for (size_t w = 0; w < s.word_starts.size(); ++w) {
      const size_t k = ph.word_of_pword[base + w];
      if (k == SIZE_MAX) continue;
      // The text words up to the next mapped one share this phoneme word's span.
      size_t w_end = w + 1;
      while (w_end < s.word_starts.size() && ph.word_of_pword[base + w_end] == SIZE_MAX) ++w_end;
      const int64_t f0 = frame_at[static_cast<size_t>(s.word_starts[w])];
      const int64_t f1 = w_end < s.word_starts.size()
                             ? frame_at[static_cast<size_t>(s.word_starts[w_end])]
                             : ph.latent->n_frames;
      const size_t k_end = w_end < s.word_starts.size() && ph.word_of_pword[base + w_end] != SIZE_MAX
                               ? ph.word_of_pword[base + w_end]
                               : (ph.next_sentence + 1 == ph.sentences.size() ? ph.words.size() : k + 1);
      const size_t count = std::max<size_t>(1, k_end - k);
      for (size_t t = 0; t < count && k + t < ph.words.size(); ++t) {
        const double a = static_cast<double>(f0) + static_cast<double>(f1 - f0) * static_cast<double>(t) / static_cast<double>(count);
        const double b = static_cast<double>(f0) + static_cast<double>(f1 - f0) * static_cast<double>(t + 1) / static_cast<double>(count);
        ph.pending_words.push_back(
            {ph.words[k + t],
             ph.sentence_start_out + std::llround(a * static_cast<double>(cfg.hop) * ratio),
             ph.sentence_start_out + std::llround(b * static_cast<double>(cfg.hop) * ratio)});
      }
    }
  }
  models::VitsLatent& lat = *ph.latent;
  const int64_t window = window_frames_;
  window_frames_ = std::min(kMaxWindowFrames, window_frames_ * 2);
  const int64_t f0 = ph.frame;
  const int64_t f1 = std::min(lat.n_frames, f0 + window);
  const int64_t context = model.total_context_frames();
  // The stream's first audio: only the frames this window reads go through the flow first (the
  // rest follows in one piece with the next window). Later windows flow the whole remainder.
  const int64_t need = std::min(lat.n_frames, f1 + context);
  const bool first_audio = emitted_ == 0 && f0 == 0;
  const bool partial = first_audio && need + 2 * model.flow_context_frames() < lat.n_frames;
  model.flow_until(lat, partial ? need : lat.n_frames, params_.speaker_id, cancel, &voice_.pool());
  std::vector<float> native =
      model.decode(lat, f0, f1, cancel, &voice_.pool(), params_.speaker_id, &decode_scratch_);
  ph.frame = f1;
  const bool sentence_done = f1 >= lat.n_frames;
  SpeechChunk chunk;
  chunk.sample_rate = out_rate_;
  chunk.first_sample = emitted_;
  if (resampler_) {
    resampler_->push(native, chunk.samples);
    if (sentence_done) resampler_->flush(chunk.samples);
  } else {
    chunk.samples = std::move(native);
  }
  for (float& v : chunk.samples) v = std::clamp(v * controls_.volume, -1.0f, 1.0f);
  if (sentence_done) {
    ph.latent.reset();
    ++ph.next_sentence;
    const bool phrase_done = ph.next_sentence >= ph.sentences.size();
    const float pause = !phrase_done || ph.ends_sentence ? controls_.sentence_pause_s
                                                         : controls_.phrase_pause_s;
    chunk.samples.resize(chunk.samples.size() + static_cast<size_t>(std::lround(pause * static_cast<float>(out_rate_))), 0.0f);
    chunk.phrase_end = phrase_done;
  }
  const int64_t chunk_end = emitted_ + static_cast<int64_t>(chunk.samples.size());
  auto it = ph.pending_words.begin();
  while (it != ph.pending_words.end() && (it->start_sample < chunk_end || chunk.phrase_end)) {
    chunk.words.push_back(std::move(*it));
    ++it;
  }
  ph.pending_words.erase(ph.pending_words.begin(), it);
  emitted_ = chunk_end;
  if (chunk.phrase_end) phrase_.reset();
  return chunk;
}

std::optional<SpeechChunk> PiperStream::next_chunk(const CancelToken& cancel) {
  if (cancel.cancelled()) throw Cancelled{};
  if (phrase_ == nullptr && !start_next_phrase(cancel)) return std::nullopt;
  return decode_next_window(cancel);
}

bool PiperVoice::is_piper_name(std::string_view voice_name) {
  if (!voice_name.starts_with(kNamePrefix)) return false;
  const std::string_view rest = voice_name.substr(kNamePrefix.size());
  return rest.empty() || rest.front() == ':';
}

std::optional<std::filesystem::path> PiperVoice::default_model_path() {
  std::error_code ec;
  const std::filesystem::path p = store::ModelStore::default_dir() / kDefaultModel;
  if (std::filesystem::is_regular_file(p, ec)) return p;
  return std::nullopt;
}

namespace {

std::shared_ptr<const models::VitsModel> open_model(std::string_view voice_name) {
  if (!PiperVoice::is_piper_name(voice_name)) {
    fail("'{}' is not a Piper voice name; use piper or piper:<voice.gguf>", voice_name);
  }
  const std::string_view rest = voice_name.substr(kNamePrefix.size());
  if (rest.empty()) {
    const auto p = PiperVoice::default_model_path();
    if (!p) {
      fail("the Piper voice is not in the model store ({}); fetch it with: duet models pull",
           (store::ModelStore::default_dir() / PiperVoice::kDefaultModel).string());
    }
    return models::VitsModel::load(*p);
  }
  const std::filesystem::path path(rest.substr(1));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail("no Piper voice file {}; convert a voice with tools/convert_piper.py", path.string());
  }
  return models::VitsModel::load(path);
}

}  // namespace

PiperVoice::PiperVoice(std::string_view voice_name, int threads)
    : PiperVoice(open_model(voice_name), std::string(voice_name), threads) {}

PiperVoice::PiperVoice(std::shared_ptr<const models::VitsModel> model, std::string name,
                       int threads)
    : model_(std::move(model)), name_(std::move(name)), pool_(threads) {
  if (model_ == nullptr) fail("piper: no model");
  if (model_->config().phoneme_type != "espeak") {
    fail("piper: voice {} uses '{}' phonemes; only espeak voices are supported", name_,
         model_->config().phoneme_type);
  }
}

std::unique_ptr<PiperStream> PiperVoice::stream(const PiperControls& controls) {
  return std::make_unique<PiperStream>(*this, controls);
}

PiperControls PiperVoice::controls_from(const SynthesisOptions& options) {
  PiperControls c;
  if (options.words_per_minute) {
    if (*options.words_per_minute < 80 || *options.words_per_minute > 450) {
      fail("piper: speed {} words/min is outside 80..450", *options.words_per_minute);
    }
    c.rate = static_cast<float>(*options.words_per_minute) / kNormalWordsPerMinute;
  }
  if (options.pitch) {
    if (*options.pitch < 0 || *options.pitch > 100) {
      fail("piper: pitch {} is outside 0..100 (50 is normal)", *options.pitch);
    }
    c.pitch_semitones = static_cast<float>(*options.pitch - 50) * 6.0f / 50.0f;
  }
  check_range(options.volume, 0.0f, 2.0f, "volume");
  c.volume = options.volume;
  return c;
}

AudioBuffer PiperVoice::synthesize(std::string_view text, const SynthesisOptions& options,
                                   const CancelToken& cancel) {
  return synthesize(text, controls_from(options), cancel);
}

AudioBuffer PiperVoice::synthesize(std::string_view text, const PiperControls& controls,
                                   const CancelToken& cancel) {
  const std::string cleaned = replace_invalid_utf8(text);
  if (is_blank_text(cleaned)) fail("nothing to say: the text is empty or only whitespace");
  PiperStream s(*this, controls);
  s.whole_text_up_front();
  s.push_text(cleaned);
  s.finish();
  AudioBuffer audio{s.sample_rate(), 1, {}};
  while (auto chunk = s.next_chunk(cancel)) {
    audio.samples.insert(audio.samples.end(), chunk->samples.begin(), chunk->samples.end());
  }
  if (audio.samples.empty()) fail("nothing to say: the text has no pronounceable words");
  return audio;
}

}  // namespace duet
