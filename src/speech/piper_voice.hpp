// Piper neural voices (VITS on Duet's runtime) behind the Voice interface, plus streaming: text
// pushed in pieces is split into phrases (a short first one), each phrase is normalized,
// phonemized and synthesized, and its audio is handed out in chunks as each window is decoded,
// at the output rate asked for, with word timings so a caller knows which words were heard.
// Selected as "piper" (the default voice in the model store) or "piper:<path to .gguf>".
// Must never share a stream or a PiperVoice between threads at once (the model itself is shared).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audio/resampler.hpp"
#include "models/vits.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/phrase_splitter.hpp"
#include "speech/voice.hpp"

namespace duet {

// How a stream speaks. Defaults are the voice's natural delivery.
struct PiperControls {
  float rate = 1.0f;              // speed factor, 0.25..4 (2 = twice as fast)
  float pitch_semitones = 0.0f;   // -12..12
  float volume = 1.0f;            // 0..2
  float sentence_pause_s = 0.2f;  // silence after a sentence, 0..5 s (Piper's default)
  float phrase_pause_s = 0.0f;    // silence after a phrase that ends mid-sentence, 0..5 s
  int output_rate = 0;            // Hz; 0 = the voice's own rate (16000, 22050, 24000, 48000...)
  std::optional<float> noise_scale;  // unset = the voice's config
  std::optional<float> noise_w;
  uint64_t seed = 0;       // noise seed: the same seed and text give the same audio
  int speaker_id = -1;     // -1 = the voice's default speaker
};

// A word and where it is in the stream's output, in samples from the stream's start.
struct WordTiming {
  std::string word;
  int64_t start_sample = 0;
  int64_t end_sample = 0;
};

struct SpeechChunk {
  int sample_rate = 0;
  int64_t first_sample = 0;    // position of samples[0] in the stream's output
  std::vector<float> samples;  // mono
  std::vector<WordTiming> words;  // the words that start in this chunk
  bool phrase_end = false;        // the last chunk of a phrase (its pause included)
};

class PiperVoice;

// One utterance being spoken. push_text() whenever text arrives, finish() when it is all there,
// and call next_chunk() to get audio: it synthesizes as far as one chunk needs and returns it, or
// nullopt when no complete phrase is available yet (more text or finish() needed) or everything
// has been spoken (then done() is true). cancel is polled between chunks and network layers.
class PiperStream {
 public:
  PiperStream(PiperVoice& voice, const PiperControls& controls);
  ~PiperStream();
  void push_text(std::string_view text);
  void finish();
  // The whole text comes before any audio is wanted (a file, not a conversation): no short first
  // phrase, so no break is cut into the first sentence for latency.
  void whole_text_up_front() { splitter_.set_short_first(false); }
  std::optional<SpeechChunk> next_chunk(const CancelToken& cancel);
  bool done() const;
  int sample_rate() const { return out_rate_; }

 private:
  struct Phrase;
  bool start_next_phrase(const CancelToken& cancel);
  SpeechChunk decode_next_window(const CancelToken& cancel);

  PiperVoice& voice_;
  PiperControls controls_;
  models::VitsParams params_;
  int out_rate_ = 0;
  double pitch_factor_ = 1.0;
  PhraseSplitter splitter_;
  bool finished_ = false;
  int64_t window_frames_ = 0;  // frames in the next decode window (grows after the first)
  std::unique_ptr<Phrase> phrase_;
  std::optional<Resampler> resampler_;
  int64_t emitted_ = 0;  // output samples handed out so far
  models::VitsDecodeScratch decode_scratch_;  // decoder buffers reused by every window
};

class PiperVoice final : public Voice {
 public:
  static constexpr std::string_view kDefaultModel = "piper-en_US-joe-medium/en_US-joe-medium.gguf";

  // True for "piper" and "piper:<anything>".
  static bool is_piper_name(std::string_view voice_name);
  // The default voice's file in the model store, when it is there.
  static std::optional<std::filesystem::path> default_model_path();

  // Opens "piper" (the store's default voice) or "piper:<path.gguf>". Throws duet::Error naming
  // the fix when the model is missing or not a Piper voice.
  explicit PiperVoice(std::string_view voice_name, int threads = 0);
  PiperVoice(std::shared_ptr<const models::VitsModel> model, std::string name, int threads = 0);

  std::string name() const override { return name_; }
  int sample_rate() const override { return model_->config().sample_rate; }

  // Options: words_per_minute 80..450 (175 = natural), pitch 0..100 (50 = natural, +-6
  // semitones at the ends), volume 0..2. One call at a time per object.
  AudioBuffer synthesize(std::string_view text, const SynthesisOptions& options,
                         const CancelToken& cancel) override;
  // The same with full stream controls (speaker, noise, output rate...).
  AudioBuffer synthesize(std::string_view text, const PiperControls& controls,
                         const CancelToken& cancel);

  // A stream over this voice; the voice must outlive it and serve one stream at a time.
  std::unique_ptr<PiperStream> stream(const PiperControls& controls = {});
  // Controls equivalent to Voice options (rate, pitch, volume); throws for out-of-range values.
  static PiperControls controls_from(const SynthesisOptions& options);

  const models::VitsModel& model() const { return *model_; }
  rt::ThreadPool& pool() { return pool_; }

 private:
  std::shared_ptr<const models::VitsModel> model_;
  std::string name_;
  rt::ThreadPool pool_;
};

}  // namespace duet
