// `duet say`: speaks a text with a chosen voice into a WAV file and prints one line telling where
// it is, how long it lasts and at what rate; with --stream (Piper voices), writes raw 16-bit PCM
// to stdout chunk by chunk as it is synthesized instead. Must never play audio or write anything
// but the one WAV file and that one stdout line, or (--stream) nothing but PCM on stdout.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "cli/commands.hpp"
#include "core/cancel.hpp"
#include "core/error.hpp"
#include "speech/espeak_voice.hpp"
#include "speech/piper_voice.hpp"
#include "speech/speech_text.hpp"

namespace duet::cli {
namespace {

struct SayRequest {
  std::string text;
  std::string output = "say.wav";
  std::string voice;     // empty: piper when its model is in the store, else espeak
  int output_rate = 0;  // 0: the voice's own rate
  bool stream = false;
  std::optional<int> words_per_minute;
  std::optional<int> pitch;
  std::optional<int> speaker;  // Piper multi-speaker voices: the speaker id
};

std::string default_voice_name() {
  return PiperVoice::default_model_path() ? "piper" : "espeak";
}

std::unique_ptr<Voice> open_voice(const std::string& voice_name) {
  if (EspeakVoice::is_espeak_name(voice_name)) return std::make_unique<EspeakVoice>(voice_name);
  if (PiperVoice::is_piper_name(voice_name)) return std::make_unique<PiperVoice>(voice_name);
  fail("unknown voice '{}'; available: piper (the neural voice from the model store), "
       "piper:<voice.gguf>, espeak, or espeak:<espeak-ng voice> such as espeak:en-us or "
       "espeak:en+f3",
       voice_name);
}

// --stream: raw signed 16-bit little-endian mono PCM on stdout, written as each chunk is made.
void stream_say(const SayRequest& request, const std::string& voice_name) {
  if (!PiperVoice::is_piper_name(voice_name)) {
    fail("--stream needs a Piper voice (--voice piper); '{}' synthesizes in one piece", voice_name);
  }
  const std::string cleaned = replace_invalid_utf8(request.text);
  if (is_blank_text(cleaned)) fail("nothing to say: the text is empty or only whitespace");
  PiperVoice voice(voice_name);
  SynthesisOptions options;
  options.words_per_minute = request.words_per_minute;
  options.pitch = request.pitch;
  PiperControls controls = PiperVoice::controls_from(options);
  controls.output_rate = request.output_rate;
  controls.speaker_id = request.speaker.value_or(-1);
  auto stream = voice.stream(controls);
  stream->push_text(cleaned);
  stream->finish();
  const CancelToken cancel;
  std::vector<int16_t> pcm;
  size_t total = 0;
  while (auto chunk = stream->next_chunk(cancel)) {
    pcm.resize(chunk->samples.size());
    for (size_t i = 0; i < pcm.size(); ++i) {
      const float v = std::clamp(chunk->samples[i], -1.0f, 1.0f);
      pcm[i] = static_cast<int16_t>(std::lround(v * 32767.0f));
    }
    if (std::fwrite(pcm.data(), sizeof(int16_t), pcm.size(), stdout) != pcm.size()) {
      fail("could not write PCM to stdout (closed pipe?)");
    }
    std::fflush(stdout);
    total += pcm.size();
  }
  if (total == 0) fail("nothing to say: the text has no pronounceable words");
}

void run_say(const SayRequest& request) {
  const std::string voice_name = request.voice.empty() ? default_voice_name() : request.voice;
  if (request.stream) {
    stream_say(request, voice_name);
    return;
  }
  if (request.speaker && !PiperVoice::is_piper_name(voice_name)) {
    fail("--speaker needs a Piper voice (--voice piper or piper:<voice.gguf>); '{}' has one speaker",
         voice_name);
  }
  const std::unique_ptr<Voice> voice = open_voice(voice_name);
  SynthesisOptions options;
  options.words_per_minute = request.words_per_minute;
  options.pitch = request.pitch;
  AudioBuffer audio;
  if (auto* piper = dynamic_cast<PiperVoice*>(voice.get()); piper != nullptr) {
    PiperControls controls = PiperVoice::controls_from(options);
    controls.speaker_id = request.speaker.value_or(-1);
    audio = piper->synthesize(request.text, controls, CancelToken());
  } else {
    audio = voice->synthesize(request.text, options, CancelToken());
  }
  if (request.output_rate != 0 && request.output_rate != audio.sample_rate) {
    audio = resample(audio, request.output_rate);
  }
  const std::filesystem::path output_path = std::filesystem::absolute(request.output);
  write_wav(output_path, audio, WavSampleFormat::Pcm16);
  fmt::print("wrote {} ({:.2f} s, {} Hz, {}, voice {})\n", output_path.string(),
             audio.duration_seconds(), audio.sample_rate, audio.channels == 1 ? "mono" : "stereo",
             voice->name());
}

}  // namespace

void add_say_command(CLI::App& app) {
  auto request = std::make_shared<SayRequest>();
  CLI::App* say = app.add_subcommand("say", "Speak a text into a WAV file (16-bit PCM).");
  say->add_option("text", request->text, "What to say (UTF-8)")->required();
  say->add_option("-o,--output", request->output, "WAV file to write")
      ->capture_default_str();
  say->add_option("--voice", request->voice,
                  "Voice: piper (default when its model is in the store), piper:<voice.gguf>, "
                  "espeak or espeak:<variant> (e.g. espeak:en-us, espeak:en+f3)");
  say->add_flag("--stream", request->stream,
                "Write raw 16-bit little-endian mono PCM to stdout as it is made (Piper voices; "
                "at --rate or the voice's rate) instead of a WAV file");
  say->add_option("--rate", request->output_rate,
                  "Output sample rate in Hz (resampled); default: the voice's own rate")
      ->check(CLI::Range(8000, 192000));
  say->add_option("--speed", request->words_per_minute, "Speaking speed in words per minute")
      ->check(CLI::Range(80, 450));
  say->add_option("--pitch", request->pitch, "Base pitch, 0-100 (50 is normal)")
      ->check(CLI::Range(0, 100));
  say->add_option("--speaker", request->speaker,
                  "Speaker id of a multi-speaker Piper voice (default: the voice's default)")
      ->check(CLI::Range(0, 1 << 20));
  say->callback([request] { run_say(*request); });
}

}  // namespace duet::cli
