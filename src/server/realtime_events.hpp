// The Realtime protocol's events, typed: every client event Duet accepts parsed from JSON into a
// struct (with the exact error a wrong field or type deserves), and builders for the server
// events, named in the connection's dialect: the current (GA) names, or the earlier beta names
// (response.audio.delta, response.audio_transcript.*, response.text.*, conversation.item.created)
// that clients opting into "OpenAI-Beta: realtime=v1" expect.
// Must never accept an event it does not understand: unknown types are a ProtocolError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/json_fields.hpp"

namespace duet::server::realtime {

using nlohmann::json;

enum class Dialect { Ga, Beta };

// --- client events ---------------------------------------------------------------------------

struct SessionUpdate {
  json session;  // an object; realtime_session.cpp reads it
};
struct AudioAppend {
  std::string audio;  // base64
};
struct AudioCommit {};
struct AudioClear {};
struct ItemCreate {
  std::optional<std::string> previous_item_id;
  std::optional<std::string> id;  // the id the client chose for the item
  std::string role;               // "user", "assistant" or "system"
  std::string text;               // the text content parts, joined
  // input_audio parts carrying base64 audio (in the session's input format): the server
  // transcribes them into the item. Empty when the item has none.
  std::vector<std::string> audio;
  int64_t audio_content_index = 0;  // the first such part's index in content
};
struct ItemRetrieve {
  std::string item_id;
};
struct ItemTruncate {
  std::string item_id;
  int64_t content_index = 0;
  int64_t audio_end_ms = 0;
};
struct ItemDelete {
  std::string item_id;
};
struct ResponseCreate {
  json response;  // an object (possibly empty); realtime_session.cpp reads the overrides
};
struct ResponseCancel {
  std::optional<std::string> response_id;
};
struct OutputAudioClear {};

using ClientEventBody =
    std::variant<SessionUpdate, AudioAppend, AudioCommit, AudioClear, ItemCreate, ItemRetrieve,
                 ItemTruncate, ItemDelete, ResponseCreate, ResponseCancel, OutputAudioClear>;

struct ClientEvent {
  std::string type;
  std::string event_id;  // "" when the client set none
  ClientEventBody body;
};

// The client event types Duet accepts.
const std::vector<std::string>& client_event_types();

// Parses one text message. Throws ProtocolError (with the client's event_id, when it could be
// read, in event_id_of_error) for malformed JSON, a missing or unknown type, or a bad field.
ClientEvent parse_client_event(std::string_view text, std::string& event_id_of_error);

// --- server events ---------------------------------------------------------------------------

// The names that differ between dialects.
enum class Name {
  ItemAdded,          // GA conversation.item.added, beta conversation.item.created
  OutputAudioDelta,   // response.output_audio.delta | response.audio.delta
  OutputAudioDone,
  TranscriptDelta,    // response.output_audio_transcript.delta | response.audio_transcript.delta
  TranscriptDone,
  TextDelta,          // response.output_text.delta | response.text.delta
  TextDone,
};
std::string event_name(Dialect dialect, Name name);

// A server event: {"type": type, "event_id": a fresh id, ...fields}.
json server_event(std::string_view type, std::string event_id, json fields = json::object());

// The `error` event: error {type, code, message, param, event_id}.
json error_event(std::string event_id, std::string_view type, std::string_view code,
                 std::string_view message, std::string_view param, std::string_view client_event_id);

// A conversation item as the protocol shows it. content_type: "input_text", "input_audio",
// "text"/"output_text", "audio"/"output_audio" (the caller picks by dialect).
json message_item(const std::string& id, std::string_view role, std::string_view status,
                  const json& content);
json text_part(std::string_view type, std::string_view text);
json audio_part(std::string_view type, const std::optional<std::string>& transcript);

}  // namespace duet::server::realtime
