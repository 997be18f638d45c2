// `duet listen FILE.wav [--json] [--aec-ref PLAYED.wav] [--vad NAME] [endpointer options]`: finds
// the speech in a recording (optional echo cancellation against what was played, a voice activity
// detector, the endpointer) and describes each utterance's voice (pitch, rate, loudness, pauses,
// background, speaker) as the annotation the LLM would see, or as JSON with every feature.
// Must never write anything but results to stdout, and never crash on odd audio: samples are
// made finite and limited to [-1, 1] before any stage sees them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audio/echo_canceller.hpp"
#include "audio/echo_gate.hpp"
#include "audio/resampler.hpp"
#include "audio/voice_features.hpp"
#include "audio/wav.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "speech/endpointer.hpp"
#include "speech/vad.hpp"

namespace duet::cli {
namespace {

constexpr int kRate = 16000;

struct ListenRequest {
  std::string input;
  std::string aec_ref;
  std::string vad = "auto";
  bool json = false;
  float threshold = 0.5f;
  int min_speech_ms = 160;
  int hangover_ms = 500;
  int padding_ms = 300;
  bool adaptive = false;
};

struct Segment {
  int64_t start = 0, end = 0;  // speech, in samples at 16 kHz
  int64_t audio_start = 0;     // with the pre-roll padding
  audio::VoiceFeatures features;
};

// Mono, 16 kHz, finite and within [-1, 1]; `what` names the file in errors.
std::vector<float> load_16k(const std::string& path, const char* what, int* source_rate) {
  AudioBuffer audio =
      with_context(fmt::format("{} {}", what, path), [&] { return read_wav(path); });
  if (source_rate) *source_rate = audio.sample_rate;
  audio = audio.to_mono();
  if (audio.sample_rate != kRate && audio.frames() > 0) audio = resample(audio, kRate);
  for (float& v : audio.samples) v = std::isfinite(v) ? std::clamp(v, -1.0f, 1.0f) : 0.0f;
  return std::move(audio.samples);
}

// The near-end signal with the echo of `far` removed (10 ms frames; the far end is padded with
// silence or cut to the near end's length), gated as the engine does while the canceller learns.
std::vector<float> cancel_echo(const std::vector<float>& near, const std::vector<float>& far) {
  audio::EchoCancellerConfig config;
  config.sample_rate = kRate;
  config.noise_suppression = false;  // keep the background for the features
  audio::EchoCanceller aec(config);
  audio::EchoGate gate(audio::EchoGateConfig{.sample_rate = kRate, .frame_samples = aec.frame_samples()});
  const auto frame = static_cast<size_t>(aec.frame_samples());
  std::vector<float> out(near.size());
  std::vector<float> n(frame), f(frame), o(frame);
  for (size_t i = 0; i < near.size(); i += frame) {
    const size_t count = std::min(frame, near.size() - i);
    std::fill(n.begin(), n.end(), 0.0f);
    std::fill(f.begin(), f.end(), 0.0f);
    std::copy_n(near.begin() + static_cast<std::ptrdiff_t>(i), count, n.begin());
    if (i < far.size()) {
      std::copy_n(far.begin() + static_cast<std::ptrdiff_t>(i), std::min(count, far.size() - i),
                  f.begin());
    }
    aec.process(n, f, o);
    gate.process(f, o);
    std::copy_n(o.begin(), count, out.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return out;
}

// Speech segments from the endpointer, fed in 20 ms chunks as a live stream would be.
std::vector<Segment> find_segments(const std::vector<float>& pcm, const ListenRequest& req) {
  speech::EndpointerConfig config;
  config.threshold = req.threshold;
  config.release_threshold =
      std::max(0.0f, std::min(config.release_threshold, req.threshold - 0.15f));
  config.min_speech_ms = req.min_speech_ms;
  config.hangover_ms = req.hangover_ms;
  config.prefix_padding_ms = req.padding_ms;
  config.adaptive = req.adaptive;
  speech::Endpointer endpointer(speech::open_voice_activity(req.vad, kRate), config);
  std::vector<Segment> segments;
  bool open = false;
  const size_t chunk = kRate / 50;
  for (size_t i = 0; i < pcm.size(); i += chunk) {
    const auto part = std::span(pcm).subspan(i, std::min(chunk, pcm.size() - i));
    for (const auto& e : endpointer.push(part)) {
      if (e.kind == speech::EndpointEvent::Kind::SpeechStarted) {
        segments.push_back({e.sample, e.sample, e.audio_start, {}});
        open = true;
      } else if (open) {
        segments.back().end = e.sample;
        open = false;
      }
    }
  }
  if (open) segments.back().end = static_cast<int64_t>(pcm.size());
  return segments;
}

nlohmann::json features_json(const audio::VoiceFeatures& f) {
  return {{"duration_s", f.duration_s},
          {"pitch_median_hz", f.pitch_median_hz},
          {"pitch_low_hz", f.pitch_low_hz},
          {"pitch_high_hz", f.pitch_high_hz},
          {"pitch_slope_st_per_s", f.pitch_slope_st_per_s},
          {"pitch_final_rise_st", f.pitch_final_rise_st},
          {"voiced_fraction", f.voiced_fraction},
          {"loudness_dbfs", f.loudness_dbfs},
          {"clipped_fraction", f.clipped_fraction},
          {"speaking_rate_sps", f.speaking_rate_sps},
          {"pauses", f.pauses},
          {"pause_seconds", f.pause_seconds},
          {"hesitations", f.hesitations},
          {"background_dbfs", f.background_dbfs},
          {"background", audio::background_kind_name(f.background)},
          {"speaker", f.speaker},
          {"speaker_changed", f.speaker_changed},
          {"pitch_vs_usual_st", f.pitch_vs_usual_st}};
}

void run_listen(const ListenRequest& req) {
  int source_rate = 0;
  std::vector<float> pcm = load_16k(req.input, "input", &source_rate);
  if (!req.aec_ref.empty()) pcm = cancel_echo(pcm, load_16k(req.aec_ref, "--aec-ref", nullptr));
  std::vector<Segment> segments = find_segments(pcm, req);

  audio::VoiceFeatureAnalyzer analyzer(kRate);
  int64_t heard = 0;  // audio before this point was given to the analyzer already
  for (Segment& s : segments) {
    const auto total = static_cast<int64_t>(pcm.size());
    const int64_t from = std::clamp<int64_t>(s.audio_start, heard, total);
    const int64_t to = std::clamp<int64_t>(s.end, from, total);
    if (from > heard) analyzer.observe_background(std::span(pcm).subspan(heard, from - heard));
    s.features = analyzer.analyze(std::span(pcm).subspan(from, to - from));
    heard = to;
  }

  const double seconds = static_cast<double>(pcm.size()) / kRate;
  auto at = [](int64_t sample) { return static_cast<double>(sample) / kRate; };
  if (req.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Segment& s : segments) {
      list.push_back({{"start_s", at(s.start)},
                      {"end_s", at(s.end)},
                      {"audio_start_s", at(s.audio_start)},
                      {"annotation", audio::annotation(s.features)},
                      {"features", features_json(s.features)}});
    }
    nlohmann::json out = {{"file", req.input},       {"duration_s", seconds},
                          {"source_rate", source_rate}, {"vad", req.vad},
                          {"aec", !req.aec_ref.empty()}, {"segments", list}};
    fmt::print("{}\n", out.dump(2));
    return;
  }
  if (segments.empty()) {
    fmt::print("no speech found in {:.2f} s of audio\n", seconds);
    return;
  }
  for (const Segment& s : segments) {
    const std::string note = audio::annotation(s.features);
    fmt::print("{:7.2f} - {:7.2f} s  {}\n", at(s.start), at(s.end),
               note.empty() ? "[ordinary]" : note);
  }
}

}  // namespace

void add_listen_command(CLI::App& app) {
  auto req = std::make_shared<ListenRequest>();
  CLI::App* cmd = app.add_subcommand(
      "listen", "Find the speech in a WAV file and describe each utterance's voice and background");
  cmd->add_option("file", req->input, "WAV file (any rate, mono or stereo)")->required();
  cmd->add_flag("--json", req->json, "one JSON object with the segments and all their features");
  cmd->add_option("--aec-ref", req->aec_ref,
                  "WAV of what the speaker played meanwhile, to cancel its echo first");
  cmd->add_option("--vad", req->vad, "voice activity detector: auto, silero, webrtc[:0-3], energy")
      ->capture_default_str();
  cmd->add_option("--threshold", req->threshold, "speech probability threshold (0, 1]")
      ->check(CLI::Range(0.01f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--min-speech-ms", req->min_speech_ms, "shortest speech reported")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  cmd->add_option("--hangover-ms", req->hangover_ms, "silence that ends an utterance")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  cmd->add_option("--padding-ms", req->padding_ms, "audio kept before each start")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  cmd->add_flag("--adaptive", req->adaptive, "raise the threshold with the room's noise");
  cmd->callback([req] { run_listen(*req); });
}

}  // namespace duet::cli
