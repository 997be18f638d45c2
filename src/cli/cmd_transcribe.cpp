// `duet transcribe FILE.wav [--stream] [--json]`: speech to text with Whisper. Any sample rate and
// channel count (mixed to mono, resampled to 16 kHz). Offline by default (faster-whisper's window
// loop, temperature fallback, --beam N for beam search); --stream feeds the file in 100 ms
// chunks through the streaming recognizer and prints each partial and the final result. Must
// never write anything but results to stdout.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audio/log_mel.hpp"
#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "cli/commands.hpp"
#include "core/cancel.hpp"
#include "core/error.hpp"
#include "models/whisper.hpp"
#include "models/whisper_decode.hpp"
#include "runtime/thread_pool.hpp"
#include "speech/asr_whisper.hpp"
#include "store/model_store.hpp"

namespace duet::cli {
namespace {

struct TranscribeRequest {
  std::string input;
  std::string model = "whisper-tiny.en";
  bool stream = false;
  bool json = false;
  int threads = 0;
  int partial_ms = 300;
  int beam = 1;
};

std::filesystem::path resolve_whisper(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) return arg;
  const auto path = store::ModelStore::default_dir() / arg / (arg + ".gguf");
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail("no Whisper model '{}': {} is missing; run `duet models pull {}` (or "
         "tools/convert_whisper.py on a Whisper checkpoint) or pass a .gguf path with -m",
         arg, path.string(), arg);
  }
  return path;
}

std::vector<float> load_audio_16k(const std::string& path) {
  AudioBuffer audio = read_wav(path).to_mono();
  if (audio.sample_rate != 16000 && audio.frames() > 0) audio = resample(audio, 16000);
  return std::move(audio.samples);
}

void run_transcribe(const TranscribeRequest& req) {
  const auto model = whisper::WhisperModel::load(resolve_whisper(req.model));
  const std::vector<float> pcm = load_audio_16k(req.input);
  rt::ThreadPool pool(req.threads);
  CancelToken cancel;
  const double audio_s = static_cast<double>(pcm.size()) / 16000.0;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (req.stream) {
    speech::AsrOptions options;
    options.partial_interval_ms = req.partial_ms;
    speech::WhisperAsr asr(model, &pool, options);
    const size_t chunk = 1600;
    for (size_t i = 0; i < pcm.size(); i += chunk) {
      const auto part = std::span(pcm).subspan(i, std::min(chunk, pcm.size() - i));
      if (auto r = asr.push(part, cancel)) {
        if (req.json) {
          fmt::print("{}\n", nlohmann::json{{"type", "partial"}, {"audio_seconds", r->audio_seconds},
                                            {"text", r->text}, {"stable", r->stable}}
                                 .dump());
        } else {
          fmt::print("partial {:6.2f}s: {}\n", r->audio_seconds, r->text);
        }
        std::fflush(stdout);
      }
    }
    const auto end_of_speech = elapsed();
    const speech::AsrResult fin = asr.finish(cancel);
    const double latency = elapsed() - end_of_speech;
    if (req.json) {
      fmt::print("{}\n", nlohmann::json{{"type", "final"}, {"audio_seconds", fin.audio_seconds},
                                        {"text", fin.text}, {"final_latency_s", latency}}
                             .dump());
    } else {
      fmt::print("final: {}\n", fin.text);
    }
    return;
  }
  whisper::WhisperState state(model, &pool);
  audio::LogMel mel(model->mel_filters(), model->hparams().n_mels);
  mel.push(pcm);
  std::vector<float> feats;
  mel.features(feats);
  whisper::TranscribeOptions topt;
  topt.decode.beam_size = req.beam;
  const auto segs = whisper::transcribe(state, feats, mel.n_frames(), topt, cancel);
  std::string text;
  for (const auto& s : segs) text += s.text;
  const double secs = elapsed();
  if (req.json) {
    nlohmann::json js = nlohmann::json::array();
    for (const auto& s : segs) js.push_back({{"start", s.start}, {"end", s.end}, {"text", s.text}});
    fmt::print("{}\n", nlohmann::json{{"text", text}, {"segments", js}, {"audio_seconds", audio_s},
                                      {"rtf", audio_s > 0 ? secs / audio_s : 0.0}}
                           .dump());
  } else {
    fmt::print("{}\n", text);
  }
}

}  // namespace

void add_transcribe_command(CLI::App& app) {
  auto req = std::make_shared<TranscribeRequest>();
  CLI::App* cmd = app.add_subcommand("transcribe", "Transcribe speech in a WAV file with Whisper.");
  cmd->add_option("file", req->input, "WAV file (16-bit or float, any rate, mono or stereo)")
      ->required();
  cmd->add_option("-m,--model", req->model, "Whisper model name in the store, or a .gguf path")
      ->capture_default_str();
  cmd->add_flag("--stream", req->stream, "Feed the audio in 100 ms chunks; print partials");
  cmd->add_flag("--json", req->json, "Print JSON (one object; with --stream one per line)");
  cmd->add_option("-t,--threads", req->threads, "Threads (0: all cores)");
  cmd->add_option("--partial-ms", req->partial_ms, "With --stream: audio between partials")
      ->capture_default_str();
  cmd->add_option("--beam", req->beam, "Beam size of offline decoding (1: greedy)")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  cmd->callback([req] { run_transcribe(*req); });
}

}  // namespace duet::cli
