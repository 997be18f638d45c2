// session.update <-> SessionConfig mapping and response.create overrides (see
// realtime_session.hpp). Must never leave `settings` changed when it throws.
#include "server/realtime_session.hpp"

#include <fmt/format.h>

#include "server/json_fields.hpp"

namespace duet::server::realtime {
namespace {

using dialog::TurnDetection;

const std::vector<std::string> kOpenAiVoices = {"alloy", "ash",   "ballad",  "coral", "echo",
                                                "fable", "onyx",  "nova",    "sage",  "shimmer",
                                                "verse", "marin", "cedar"};

std::optional<int> read_max_tokens(const Fields& f, std::string_view key) {
  if (!f.has(key) || f.is_null(key)) return std::nullopt;
  const json& v = f.raw().at(std::string(key));
  if (v.is_string()) {
    if (v.get<std::string>() == "inf") return 0;  // 0 marks "inf" to the caller
    const std::string path = field_path(f.path(), key);
    throw ProtocolError(fmt::format("Invalid value for '{}': expected an integer or 'inf'.", path),
                        path, "invalid_value");
  }
  if (!v.is_number_integer()) f.wrong_type(key, "an integer or 'inf'");
  return static_cast<int>(*f.integer(key, 1, 4096));
}

void apply_turn_detection(TurnDetection& td, const Fields& parent, std::string_view key) {
  if (!parent.has(key)) return;
  if (parent.is_null(key)) {
    td.type = TurnDetection::Type::None;
    return;
  }
  const auto f = parent.object(key);
  const auto type = f->choice("type", {"server_vad", "semantic_vad"});
  if (type) {
    td.type = *type == "server_vad" ? TurnDetection::Type::ServerVad
                                    : TurnDetection::Type::SemanticVad;
  } else if (td.type == TurnDetection::Type::None) {
    td.type = TurnDetection::Type::ServerVad;  // an object without a type: server_vad, as the API
  }
  if (auto v = f->number("threshold", 0.0, 1.0)) td.threshold = static_cast<float>(*v);
  if (auto v = f->integer("prefix_padding_ms", 0, 10'000)) td.prefix_padding_ms = static_cast<int>(*v);
  if (auto v = f->integer("silence_duration_ms", 0, 10'000)) {
    td.silence_duration_ms = static_cast<int>(*v);
  }
  if (auto v = f->choice("eagerness", {"low", "medium", "high", "auto"})) td.eagerness = *v;
  if (auto v = f->boolean("create_response")) td.create_response = *v;
  if (auto v = f->boolean("interrupt_response")) td.interrupt_response = *v;
  if (f->has("idle_timeout_ms")) {
    td.idle_timeout_ms = static_cast<int>(f->integer("idle_timeout_ms", 5'000, 30'000).value_or(0));
  }
}

bool audio_from_modalities(const std::vector<std::string>& mods, const std::string& path) {
  bool audio = false;
  for (const auto& m : mods) {
    if (m == "audio") {
      audio = true;
    } else if (m != "text") {
      throw ProtocolError(fmt::format("Invalid value: '{}'. Supported values are: 'text', 'audio'.", m),
                          path, "invalid_value");
    }
  }
  if (mods.empty()) {
    throw ProtocolError(fmt::format("Invalid value for '{}': at least one modality is needed.", path),
                        path, "invalid_value");
  }
  return audio;
}

AudioFormat read_ga_format(const Fields& parent, AudioFormat current) {
  const auto fmt_obj = parent.object("format");
  if (!fmt_obj) return current;
  const auto type = fmt_obj->choice("type", {"audio/pcm", "audio/pcmu", "audio/pcma"});
  AudioFormat f = type ? *parse_ga_format(*type) : current;
  if (auto rate = fmt_obj->integer("rate", 0, 1'000'000)) {
    if (f == AudioFormat::Pcm16 && *rate != 24000) {
      throw ProtocolError(fmt::format("Invalid value for '{}.rate': audio/pcm is 24000 Hz only.",
                                      fmt_obj->path()),
                          fmt_obj->path() + ".rate", "invalid_value");
    }
  }
  return f;
}

void apply_transcription(SessionSettings& s, const Fields& parent, std::string_view key) {
  if (!parent.has(key)) return;
  if (parent.is_null(key)) {
    s.config.transcribe_input = false;
    return;
  }
  const auto t = parent.object(key);
  s.config.transcribe_input = true;
  if (auto m = t->string("model")) s.transcription_model = *m;
  (void)t->string("language");
  (void)t->string("prompt");
}

void apply_noise_reduction(SessionSettings& s, const Fields& parent, std::string_view key) {
  if (!parent.has(key)) return;
  if (parent.is_null(key)) {
    s.noise_reduction.reset();
    return;
  }
  s.noise_reduction = parent.object(key)->choice("type", {"near_field", "far_field"});
}

json turn_detection_json(const TurnDetection& td) {
  if (td.type == TurnDetection::Type::None) return nullptr;
  json j = {{"create_response", td.create_response}, {"interrupt_response", td.interrupt_response}};
  if (td.type == TurnDetection::Type::ServerVad) {
    j["type"] = "server_vad";
    j["threshold"] = td.threshold;
    j["prefix_padding_ms"] = td.prefix_padding_ms;
    j["silence_duration_ms"] = td.silence_duration_ms;
    j["idle_timeout_ms"] = td.idle_timeout_ms > 0 ? json(td.idle_timeout_ms) : json(nullptr);
  } else {
    j["type"] = "semantic_vad";
    j["eagerness"] = td.eagerness;
  }
  return j;
}

}  // namespace

SessionSettings default_settings(const dialog::SessionConfig& engine_defaults) {
  SessionSettings s;
  s.config = engine_defaults;
  s.config.input_rate = 16000;
  s.config.output_rate = 24000;
  return s;
}

std::string engine_voice(const std::string& client_voice) {
  for (const auto& v : kOpenAiVoices) {
    if (client_voice == v) return "";
  }
  return client_voice;
}

void apply_session_update(SessionSettings& settings, const json& session) {
  SessionSettings s = settings;
  const Fields f(session, "session");
  if (auto type = f.choice("type", {"realtime", "transcription"})) {
    if (*type == "transcription") {
      throw ProtocolError("Transcription-only sessions are not supported by Duet yet; use "
                          "type 'realtime' (or POST /v1/audio/transcriptions).",
                          "session.type", "invalid_value");
    }
  }
  if (auto m = f.string("model")) s.model = *m;
  if (auto v = f.string("instructions")) s.config.instructions = *v;
  if (auto v = f.string("voice")) s.voice = *v;
  if (auto v = f.number("speed", 0.25, 1.5)) s.speed = *v;
  if (auto v = f.number("temperature", 0.0, 2.0)) s.config.reply.temperature = static_cast<float>(*v);
  if (f.has("max_response_output_tokens")) {
    const auto mt = read_max_tokens(f, "max_response_output_tokens");
    s.max_output_tokens = mt && *mt > 0 ? mt : std::nullopt;
  }
  if (f.has("max_output_tokens")) {
    const auto mt = read_max_tokens(f, "max_output_tokens");
    s.max_output_tokens = mt && *mt > 0 ? mt : std::nullopt;
  }
  if (auto mods = f.strings("modalities")) {
    s.config.audio_output = audio_from_modalities(*mods, "session.modalities");
  }
  if (auto mods = f.strings("output_modalities")) {
    s.config.audio_output = audio_from_modalities(*mods, "session.output_modalities");
  }
  // Beta shape.
  if (auto v = f.choice("input_audio_format", {"pcm16", "g711_ulaw", "g711_alaw"})) {
    s.input_format = *parse_beta_format(*v);
  }
  if (auto v = f.choice("output_audio_format", {"pcm16", "g711_ulaw", "g711_alaw"})) {
    s.output_format = *parse_beta_format(*v);
  }
  apply_turn_detection(s.config.turn, f, "turn_detection");
  apply_transcription(s, f, "input_audio_transcription");
  apply_noise_reduction(s, f, "input_audio_noise_reduction");
  // GA shape.
  if (auto audio = f.object("audio")) {
    if (auto in = audio->object("input")) {
      s.input_format = read_ga_format(*in, s.input_format);
      apply_turn_detection(s.config.turn, *in, "turn_detection");
      apply_transcription(s, *in, "transcription");
      apply_noise_reduction(s, *in, "noise_reduction");
    }
    if (auto out = audio->object("output")) {
      s.output_format = read_ga_format(*out, s.output_format);
      if (auto v = out->string("voice")) s.voice = *v;
      if (auto v = out->number("speed", 0.25, 1.5)) s.speed = *v;
    }
  }
  s.config.voice = engine_voice(s.voice);
  if (s.max_output_tokens) s.config.reply.max_tokens = *s.max_output_tokens;
  settings = std::move(s);
}

json session_object(const SessionSettings& s, Dialect dialect, const std::string& id) {
  const json max_tokens = s.max_output_tokens ? json(*s.max_output_tokens) : json("inf");
  const json transcription =
      s.config.transcribe_input ? json{{"model", s.transcription_model}} : json(nullptr);
  const json noise = s.noise_reduction ? json{{"type", *s.noise_reduction}} : json(nullptr);
  const json modalities =
      s.config.audio_output ? json::array({"audio"}) : json::array({"text"});
  if (dialect == Dialect::Beta) {
    return {{"id", id},
            {"object", "realtime.session"},
            {"model", s.model},
            {"modalities", s.config.audio_output ? json::array({"text", "audio"})
                                                 : json::array({"text"})},
            {"instructions", s.config.instructions},
            {"voice", s.voice},
            {"input_audio_format", beta_format_name(s.input_format)},
            {"output_audio_format", beta_format_name(s.output_format)},
            {"input_audio_transcription", transcription},
            {"input_audio_noise_reduction", noise},
            {"turn_detection", turn_detection_json(s.config.turn)},
            {"tools", json::array()},
            {"tool_choice", "auto"},
            {"temperature", s.config.reply.temperature},
            {"max_response_output_tokens", max_tokens},
            {"speed", s.speed}};
  }
  auto format = [](AudioFormat f) {
    json j = {{"type", ga_format_type(f)}};
    if (f == AudioFormat::Pcm16) j["rate"] = 24000;
    return j;
  };
  return {{"type", "realtime"},
          {"object", "realtime.session"},
          {"id", id},
          {"model", s.model},
          {"output_modalities", modalities},
          {"instructions", s.config.instructions},
          {"audio",
           {{"input",
             {{"format", format(s.input_format)},
              {"transcription", transcription},
              {"noise_reduction", noise},
              {"turn_detection", turn_detection_json(s.config.turn)}}},
            {"output", {{"format", format(s.output_format)}, {"voice", s.voice}, {"speed", s.speed}}}}},
          {"tools", json::array()},
          {"tool_choice", "auto"},
          {"max_output_tokens", max_tokens}};
}

ResponseRequest parse_response_request(const json& response, const SessionSettings& settings) {
  ResponseRequest r;
  r.audio_output = settings.config.audio_output;
  const Fields f(response, "response");
  if (auto v = f.string("instructions")) r.overrides.instructions = *v;
  if (auto v = f.number("temperature", 0.0, 2.0)) r.overrides.temperature = static_cast<float>(*v);
  for (const char* key : {"max_output_tokens", "max_response_output_tokens"}) {
    if (f.has(key)) {
      const auto mt = read_max_tokens(f, key);
      if (mt && *mt > 0) r.overrides.max_tokens = *mt;
    }
  }
  if (auto mods = f.strings("modalities")) {
    r.audio_output = audio_from_modalities(*mods, "response.modalities");
  }
  if (auto mods = f.strings("output_modalities")) {
    r.audio_output = audio_from_modalities(*mods, "response.output_modalities");
  }
  if (auto c = f.string("conversation")) {
    if (*c != "auto" && *c != "none") {
      throw ProtocolError(fmt::format("Invalid value: '{}'. Supported values are: 'auto', 'none'.", *c),
                          "response.conversation", "invalid_value");
    }
    r.out_of_band = *c == "none";
  }
  r.voice = settings.voice;
  std::optional<std::string> voice = f.string("voice");
  if (auto audio = f.object("audio")) {  // GA shape: response.audio.output.voice
    if (auto out = audio->object("output")) {
      if (auto v = out->string("voice")) voice = *v;
    }
  }
  if (voice) {
    r.voice = *voice;
    r.overrides.voice = engine_voice(*voice);
  }
  r.overrides.audio_output = r.audio_output;
  return r;
}

}  // namespace duet::server::realtime
