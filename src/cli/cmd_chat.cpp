// `duet chat`: talk with Duet live through the machine's microphone and speaker (ALSA). The
// microphone feeds the session in 10 ms periods and the speaker pulls the session's playout, so
// echo cancellation sees exactly what was played. Transcripts and replies are printed as they
// happen; Ctrl-C ends the conversation. Where no sound device exists it says so and points to
// `duet converse`. Must never load models before the sound device is known to open.
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audio/sound_device.hpp"
#include "cli/commands.hpp"
#include "cli/engine_args.hpp"
#include "core/error.hpp"
#include "dialog/engine.hpp"
#include "dialog/session.hpp"

namespace duet::cli {
namespace {

struct ChatRequest {
  dialog::EngineOptions engine;
  std::string instructions;
  std::string capture_device = "default";
  std::string playback_device = "default";
  bool traces = false;
};

void run_chat(const ChatRequest& req) {
  // Ctrl-C is taken by sigwait() below rather than by a handler (no global state needed).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  SoundDeviceOptions device_options;
  device_options.capture_device = req.capture_device;
  device_options.playback_device = req.playback_device;
  device_options.capture_rate = 16000;
  device_options.playback_rate = 24000;
  SoundDevice device(device_options);

  dialog::SessionConfig config;
  if (!req.instructions.empty()) config.instructions = req.instructions;
  config.input_rate = device.capture_rate();
  config.output_rate = device.playback_rate();
  std::mutex print_mu;
  const bool traces = req.traces;
  auto observer = [&](const dialog::Frame& f) {
    std::lock_guard lock(print_mu);
    switch (f.kind) {
      case dialog::FrameKind::TranscriptFinal: fmt::print("you:  {}\n", f.text); break;
      case dialog::FrameKind::ResponseStarted: fmt::print("duet: "); break;
      case dialog::FrameKind::TextDelta: fmt::print("{}", f.text); break;
      case dialog::FrameKind::ResponseDone: fmt::print("{}\n", f.detail == "interrupted" ? " [interrupted]" : ""); break;
      case dialog::FrameKind::Trace: {
        const auto t = nlohmann::json::parse(f.detail, nullptr, false);
        if (traces) fmt::print("{}\n", f.detail);
        else if (t.is_object() && t.contains("voice_to_voice_ms")) {
          fmt::print("      ({:.0f} ms voice to voice)\n", t["voice_to_voice_ms"].get<double>());
        }
        break;
      }
      case dialog::FrameKind::Error: fmt::print(stderr, "duet chat: {}\n", f.text); break;
      default: break;
    }
    std::fflush(stdout);
  };
  auto engine = dialog::Engine::load(req.engine);
  dialog::Session session(engine, config, observer);
  device.start([&session](std::span<const float> pcm) { session.push_audio(pcm); },
               [&session](std::span<float> out) { session.pull_audio(out); });
  fmt::print("Listening. Speak to Duet; Ctrl-C ends the conversation.\n");
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  device.stop();
  const auto stats = device.stats();
  if (!stats.error.empty()) fmt::print(stderr, "duet chat: sound device: {}\n", stats.error);
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto req = std::make_shared<ChatRequest>();
  CLI::App* cmd = app.add_subcommand("chat", "Talk with Duet live through the microphone and speaker.");
  cmd->add_option("--instructions", req->instructions, "System prompt");
  cmd->add_option("--capture-device", req->capture_device, "ALSA capture device")->capture_default_str();
  cmd->add_option("--playback-device", req->playback_device, "ALSA playback device")->capture_default_str();
  cmd->add_flag("--traces", req->traces, "Print each turn's latency trace (JSON)");
  add_engine_options(cmd, req->engine);
  cmd->callback([req] { run_chat(*req); });
}

}  // namespace duet::cli
