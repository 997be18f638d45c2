// A Realtime connection's session settings and their two JSON shapes: session.update (beta shape:
// modalities, input_audio_format, turn_detection, ... at the top level; GA shape: type
// "realtime", output_modalities, audio.input / audio.output) mapped onto dialog::SessionConfig
// and TurnDetection, the session object that session.created / session.updated report, and the
// per-response overrides of response.create.
// Must never apply half an update: a bad field rejects the whole session.update.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dialog/session.hpp"
#include "server/audio_format.hpp"
#include "server/realtime_events.hpp"

namespace duet::server::realtime {

struct SessionSettings {
  dialog::SessionConfig config;
  AudioFormat input_format = AudioFormat::Pcm16;
  AudioFormat output_format = AudioFormat::Pcm16;
  std::string model = "duet";
  std::string voice = "alloy";         // as the client named it (OpenAI names map to the default)
  double speed = 1.0;
  std::optional<int> max_output_tokens;  // nullopt: "inf" (the engine's own cap)
  std::string transcription_model = "whisper-tiny.en";
  std::optional<std::string> noise_reduction;  // "near_field", "far_field" or none
};

// Settings for a new connection (the engine's defaults, input at 16 kHz, output at 24 kHz).
SessionSettings default_settings(const dialog::SessionConfig& engine_defaults);

// Applies a session.update's `session` object (either shape). Throws ProtocolError.
void apply_session_update(SessionSettings& settings, const json& session);

// The session object in the dialect's shape.
json session_object(const SessionSettings& settings, Dialect dialect, const std::string& id);

// The Duet voice name behind a client's voice ("" = the engine's default for OpenAI's names).
std::string engine_voice(const std::string& client_voice);

struct ResponseRequest {
  dialog::ResponseOverrides overrides;
  bool audio_output = true;
  bool out_of_band = false;  // conversation: "none"
  std::string voice;         // the voice as the client named it (the session's unless overridden)
};
// Reads response.create's `response` object. Throws ProtocolError.
ResponseRequest parse_response_request(const json& response, const SessionSettings& settings);

}  // namespace duet::server::realtime
