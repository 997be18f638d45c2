// `duet converse --in person.wav --out duet.wav`: plays a recorded person's side of a conversation
// into the engine in real time (10 ms ticks on the wall clock) and records Duet's side on the same
// timeline as a stereo WAV (person left, Duet right), so a conversation can be tested and listened
// to without a sound card. --trace writes each turn's latency trace as JSON lines, --events every
// non-audio event. Must never run faster or slower than real time: the engine must see the audio
// as a live microphone would deliver it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audio/resampler.hpp"
#include "audio/wav.hpp"
#include "cli/commands.hpp"
#include "cli/engine_args.hpp"
#include "cli/sampling_args.hpp"
#include "core/error.hpp"
#include "dialog/engine.hpp"
#include "dialog/session.hpp"

namespace duet::cli {
namespace {

struct ConverseRequest {
  dialog::EngineOptions engine;
  std::string input;
  std::string output = "converse.wav";
  std::string trace;
  std::string events;
  std::string instructions;
  std::string turn = "semantic_vad";
  std::string eagerness = "auto";
  int silence_ms = 500;
  bool cascade = false;
  bool no_speculation = false;
  bool text_only = false;
  int barge_in_ms = 400;
  int echo_ms = -1;
  float echo_gain = 0.3f;
  SamplingArgs sampling{.max_tokens = 80, .temperature = 0.0f, .top_p = 0.95f, .seed = 1};
  double max_tail_s = 30.0;
  bool quiet = false;
};

// The sound device's default period (audio/sound_device.hpp), so a recorded conversation meets the
// engine as `duet listen` does: both the person's audio and Duet's answer move in steps of this,
// and an answer ready between two ticks waits for the next (5 ms on average; 10 ms at 20 ms ticks).
constexpr int kTickMs = 10;
constexpr int kInRate = 16000;
constexpr int kOutRate = 24000;

nlohmann::json event_json(const dialog::Frame& f) {
  nlohmann::json j{{"type", dialog::frame_kind_name(f.kind)}, {"turn", f.turn}, {"time_ms", f.time_ms}};
  if (!f.text.empty()) j["text"] = f.text;
  if (!f.detail.empty()) {
    if (f.kind == dialog::FrameKind::Trace) {
      j["trace"] = nlohmann::json::parse(f.detail, nullptr, false);
    } else {
      j["detail"] = f.detail;
    }
  }
  return j;
}

void run_converse(const ConverseRequest& req) {
  AudioBuffer person = read_wav(req.input).to_mono();
  if (person.frames() == 0) fail("{} holds no audio; record the person's side first", req.input);
  if (person.sample_rate != kInRate) person = resample(person, kInRate);

  dialog::SessionConfig config;
  if (!req.instructions.empty()) config.instructions = req.instructions;
  config.input_rate = kInRate;
  config.output_rate = kOutRate;
  config.cascade = req.cascade;
  config.speculative = !req.no_speculation;
  config.audio_output = !req.text_only;
  config.barge_in_ms = req.barge_in_ms;
  config.reply.temperature = req.sampling.temperature;
  config.reply.max_tokens = req.sampling.max_tokens;
  config.reply.top_p = req.sampling.top_p;
  config.reply.seed = req.sampling.seed;
  config.turn.eagerness = req.eagerness;
  config.turn.silence_duration_ms = req.silence_ms;
  if (req.turn == "server_vad") {
    config.turn.type = dialog::TurnDetection::Type::ServerVad;
  } else if (req.turn == "semantic_vad") {
    config.turn.type = dialog::TurnDetection::Type::SemanticVad;
  } else {
    fail("--turn must be server_vad or semantic_vad, not '{}'", req.turn);
  }

  std::ofstream trace_out, events_out;
  if (!req.trace.empty()) {
    trace_out.open(req.trace);
    if (!trace_out) fail("cannot write the trace file {}", req.trace);
  }
  if (!req.events.empty()) {
    events_out.open(req.events);
    if (!events_out) fail("cannot write the events file {}", req.events);
  }
  std::mutex out_mu;
  const bool quiet = req.quiet;
  auto observer = [&](const dialog::Frame& f) {
    if (f.kind == dialog::FrameKind::OutputAudio || f.kind == dialog::FrameKind::TextDelta) return;
    std::lock_guard lock(out_mu);
    if (events_out.is_open()) events_out << event_json(f).dump() << "\n" << std::flush;
    if (f.kind == dialog::FrameKind::Trace) {
      if (trace_out.is_open()) trace_out << f.detail << "\n" << std::flush;
      if (!quiet) {
        const auto t = nlohmann::json::parse(f.detail, nullptr, false);
        if (t.is_object()) {
          fmt::print("turn {}: person: \"{}\"\n  duet: \"{}\"\n  voice-to-voice: {} ms{}\n",
                     t.value("turn", 0), t.value("transcript", ""), t.value("reply", ""),
                     t.contains("voice_to_voice_ms") ? fmt::format("{:.0f}", t["voice_to_voice_ms"].get<double>()) : "-",
                     t.value("interrupted", false) ? " (interrupted)" : "");
          std::fflush(stdout);
        }
      }
    } else if (f.kind == dialog::FrameKind::Error && !quiet) {
      fmt::print(stderr, "duet converse: {}\n", f.text);
    }
  };

  auto engine = dialog::Engine::load(req.engine);
  dialog::Session session(engine, config, observer);

  const size_t in_tick = kInRate * kTickMs / 1000;
  const size_t out_tick = kOutRate * kTickMs / 1000;
  std::vector<float> mic(in_tick), played(out_tick);
  std::vector<float> left, right;  // the timeline at the output rate
  std::vector<float> duet16;        // Duet's side at 16 kHz (for the simulated echo)
  Resampler to16(kOutRate, kInRate, 1, ResampleQuality::Fast);
  const int64_t total = static_cast<int64_t>(person.frames());
  const auto start = std::chrono::steady_clock::now();
  int64_t pos = 0;
  int64_t tick = 0;
  int64_t quiet_ticks = 0;
  const int64_t max_tail_ticks = static_cast<int64_t>(req.max_tail_s * 1000 / kTickMs);
  int64_t tail_ticks = 0;
  while (true) {
    std::fill(mic.begin(), mic.end(), 0.0f);
    for (size_t i = 0; i < in_tick && pos + static_cast<int64_t>(i) < total; ++i) {
      mic[i] = person.samples[static_cast<size_t>(pos) + i];
    }
    // Duet heard through the room: its own output, delayed and attenuated, on the microphone.
    if (req.echo_ms >= 0) {
      const int64_t delay = static_cast<int64_t>(req.echo_ms) * kInRate / 1000;
      for (size_t i = 0; i < in_tick; ++i) {
        const int64_t at = pos + static_cast<int64_t>(i) - delay;
        if (at >= 0 && at < static_cast<int64_t>(duet16.size())) {
          mic[i] += req.echo_gain * duet16[static_cast<size_t>(at)];
        }
      }
    }
    session.push_audio(mic);
    const size_t answer = session.pull_audio(played);
    to16.push(played, duet16);
    right.insert(right.end(), played.begin(), played.end());
    pos += static_cast<int64_t>(in_tick);
    ++tick;
    if (pos >= total) {
      ++tail_ticks;
      quiet_ticks = (answer == 0 && !session.responding()) ? quiet_ticks + 1 : 0;
      if (quiet_ticks * kTickMs >= 1500 || tail_ticks >= max_tail_ticks) break;
    }
    std::this_thread::sleep_until(start + std::chrono::milliseconds(tick * kTickMs));
  }
  // An answer still going when the recording ends is cut there, as if the person hung up, so its
  // trace (with what was heard) is reported too.
  if (session.responding()) {
    session.cancel_response();
    session.drain();
  }
  // The person's side on the output timeline.
  AudioBuffer person_out = resample(person, kOutRate);
  left.assign(right.size(), 0.0f);
  std::copy_n(person_out.samples.begin(), std::min(person_out.samples.size(), left.size()), left.begin());
  AudioBuffer stereo{kOutRate, 2, {}};
  stereo.samples.resize(right.size() * 2);
  for (size_t i = 0; i < right.size(); ++i) {
    stereo.samples[2 * i] = left[i];
    stereo.samples[2 * i + 1] = right[i];
  }
  write_wav(req.output, stereo);
  if (!quiet) {
    fmt::print("wrote {} ({:.1f} s, stereo: person left, Duet right){}\n", req.output,
               stereo.duration_seconds(), req.trace.empty() ? "" : "; trace: " + req.trace);
  }
}

}  // namespace

void add_converse_command(CLI::App& app) {
  auto req = std::make_shared<ConverseRequest>();
  CLI::App* cmd = app.add_subcommand(
      "converse", "Hold a conversation with a recorded person in real time, through WAV files.");
  cmd->add_option("--in", req->input, "The person's side (WAV, any rate; fed in real time)")->required();
  cmd->add_option("--out", req->output, "Stereo WAV to write: person left, Duet right")
      ->capture_default_str();
  cmd->add_option("--trace", req->trace, "Write each turn's latency trace here (JSON lines)");
  cmd->add_option("--events", req->events, "Write every event here (JSON lines)");
  cmd->add_option("--instructions", req->instructions, "System prompt");
  cmd->add_option("--turn", req->turn, "Turn detection: semantic_vad or server_vad")->capture_default_str();
  cmd->add_option("--eagerness", req->eagerness, "semantic_vad: low, medium, high or auto")
      ->capture_default_str();
  cmd->add_option("--silence-ms", req->silence_ms, "server_vad: silence that ends a turn")
      ->capture_default_str();
  cmd->add_flag("--cascade", req->cascade,
                "The old three-model baseline: fixed silence timeout, whole transcript, whole "
                "reply, whole synthesis, then play");
  cmd->add_flag("--no-speculation", req->no_speculation, "Do not start answering before the turn is committed");
  cmd->add_flag("--text-only", req->text_only, "Answer in text only (no voice)");
  cmd->add_option("--barge-in-ms", req->barge_in_ms, "Speech over Duet that stops it")->capture_default_str();
  cmd->add_option("--echo-ms", req->echo_ms,
                  "Simulate an open speaker: Duet's output returns to the microphone after this delay");
  cmd->add_option("--echo-gain", req->echo_gain, "Level of the simulated echo")->capture_default_str();
  add_sampling_options(cmd, req->sampling);
  cmd->add_option("--max-tail-s", req->max_tail_s, "Longest wait for answers after the input ends")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", req->quiet, "Print nothing but errors");
  add_engine_options(cmd, req->engine);
  cmd->callback([req] { run_converse(*req); });
}

}  // namespace duet::cli
