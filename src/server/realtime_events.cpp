// Parsing client events and building server events (see realtime_events.hpp).
// Must never let a malformed message throw anything but ProtocolError.
#include "server/realtime_events.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace duet::server::realtime {
namespace {

ClientEventBody parse_item_create(const Fields& ev) {
  ItemCreate out;
  out.previous_item_id = ev.string("previous_item_id");
  const auto item = ev.object("item");
  if (!item) {
    throw ProtocolError("Missing required parameter: 'item'.", "item", "missing_required_parameter");
  }
  out.id = item->string("id");
  if (out.id && (out.id->empty() || out.id->size() > 64)) {
    throw ProtocolError("Invalid value for 'item.id': it must hold 1 to 64 characters.", "item.id",
                        "invalid_value");
  }
  const auto type = item->choice("type", {"message", "function_call", "function_call_output"});
  if (type && *type != "message") {
    throw ProtocolError(fmt::format("Items of type '{}' are not supported by Duet (no tools yet).",
                                    *type),
                        "item.type", "unsupported_item_type");
  }
  const auto role = item->choice("role", {"user", "assistant", "system"});
  if (!role) {
    throw ProtocolError("Missing required parameter: 'item.role'.", "item.role",
                        "missing_required_parameter");
  }
  out.role = *role;
  const json* content = nullptr;
  if (item->has("content")) {
    const json& c = item->raw().at("content");
    if (!c.is_array()) item->wrong_type("content", "an array");
    content = &c;
  }
  if (!content || content->empty()) {
    throw ProtocolError("Missing required parameter: 'item.content'.", "item.content",
                        "missing_required_parameter");
  }
  for (size_t i = 0; i < content->size(); ++i) {
    const Fields part((*content)[i], fmt::format("item.content[{}]", i));
    const auto ptype = part.choice(
        "type", {"input_text", "text", "output_text", "input_audio", "audio", "output_audio"});
    if (!ptype) {
      throw ProtocolError(fmt::format("Missing required parameter: '{}.type'.", part.path()),
                          part.path() + ".type", "missing_required_parameter");
    }
    if (*ptype == "input_audio" && part.has("audio")) {
      // Audio the server transcribes into the item (the person's words, as if spoken).
      if (out.role != "user") {
        throw ProtocolError(fmt::format("Audio content in conversation.item.create is only "
                                        "supported for user messages ({}).",
                                        part.path()),
                            part.path(), "unsupported_content");
      }
      if (out.audio.empty()) out.audio_content_index = static_cast<int64_t>(i);
      out.audio.push_back(part.required_string("audio"));
      continue;
    }
    if (*ptype == "input_audio" || *ptype == "audio" || *ptype == "output_audio") {
      // Audio content without audio: its transcript is what Duet adds to the history.
      const auto transcript = part.string("transcript");
      if (!transcript) {
        throw ProtocolError(fmt::format("Audio content in conversation.item.create needs "
                                        "'audio' (base64, user messages) or a 'transcript' ({}).",
                                        part.path()),
                            part.path(), "missing_required_parameter");
      }
      if (!out.text.empty()) out.text += ' ';
      out.text += *transcript;
      continue;
    }
    const std::string text = part.required_string("text");
    if (!out.text.empty()) out.text += ' ';
    out.text += text;
  }
  return out;
}

ClientEventBody parse_truncate(const Fields& ev) {
  ItemTruncate out;
  out.item_id = ev.required_string("item_id");
  out.content_index = ev.integer("content_index", 0, 0).value_or(0);
  const auto end = ev.integer("audio_end_ms", 0, INT64_C(1) << 40);
  if (!end) {
    throw ProtocolError("Missing required parameter: 'audio_end_ms'.", "audio_end_ms",
                        "missing_required_parameter");
  }
  out.audio_end_ms = *end;
  return out;
}

}  // namespace

const std::vector<std::string>& client_event_types() {
  static const std::vector<std::string> types = {
      "session.update",           "input_audio_buffer.append", "input_audio_buffer.commit",
      "input_audio_buffer.clear", "conversation.item.create",  "conversation.item.retrieve",
      "conversation.item.truncate", "conversation.item.delete", "response.create",
      "response.cancel",          "output_audio_buffer.clear"};
  return types;
}

namespace {

// The deepest nesting of arrays and objects in `text` (outside strings); stops counting at `cap`.
int nesting_depth(std::string_view text, int cap) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
    if (deepest > cap) break;
  }
  return deepest;
}

}  // namespace

ClientEvent parse_client_event(std::string_view text, std::string& event_id_of_error) {
  event_id_of_error.clear();
  constexpr int kMaxDepth = 32;
  if (nesting_depth(text, kMaxDepth) > kMaxDepth) {
    throw ProtocolError(fmt::format("Invalid event: JSON nested deeper than {} levels.", kMaxDepth),
                        "", "invalid_json");
  }
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    throw ProtocolError(
        "We could not parse the JSON body of your request. Each message must be one JSON object.",
        "", "invalid_json");
  }
  const Fields ev(doc, "");
  // Read the event_id first so that every later error can name it.
  if (ev.has("event_id")) {
    if (doc["event_id"].is_string()) event_id_of_error = doc["event_id"].get<std::string>();
    (void)ev.string("event_id");
  }
  ClientEvent out;
  out.event_id = event_id_of_error;
  if (!ev.has("type")) {
    throw ProtocolError("Missing required parameter: 'type'.", "type", "missing_required_parameter");
  }
  out.type = ev.required_string("type");
  const std::string& t = out.type;
  if (t == "session.update") {
    const auto session = ev.object("session");
    if (!session) {
      throw ProtocolError("Missing required parameter: 'session'.", "session",
                          "missing_required_parameter");
    }
    out.body = SessionUpdate{session->raw()};
  } else if (t == "input_audio_buffer.append") {
    out.body = AudioAppend{ev.required_string("audio")};
  } else if (t == "input_audio_buffer.commit") {
    out.body = AudioCommit{};
  } else if (t == "input_audio_buffer.clear") {
    out.body = AudioClear{};
  } else if (t == "conversation.item.create") {
    out.body = parse_item_create(ev);
  } else if (t == "conversation.item.retrieve") {
    out.body = ItemRetrieve{ev.required_string("item_id")};
  } else if (t == "conversation.item.truncate") {
    out.body = parse_truncate(ev);
  } else if (t == "conversation.item.delete") {
    out.body = ItemDelete{ev.required_string("item_id")};
  } else if (t == "response.create") {
    const auto response = ev.object("response");
    out.body = ResponseCreate{response ? response->raw() : json::object()};
  } else if (t == "response.cancel") {
    out.body = ResponseCancel{ev.string("response_id")};
  } else if (t == "output_audio_buffer.clear") {
    out.body = OutputAudioClear{};
  } else {
    std::string list;
    for (const auto& name : client_event_types()) list += (list.empty() ? "'" : ", '") + name + "'";
    throw ProtocolError(fmt::format("Invalid value: '{}'. Supported values are: {}.", t, list),
                        "type", "invalid_value");
  }
  return out;
}

std::string event_name(Dialect dialect, Name name) {
  const bool ga = dialect == Dialect::Ga;
  switch (name) {
    case Name::ItemAdded: return ga ? "conversation.item.added" : "conversation.item.created";
    case Name::OutputAudioDelta: return ga ? "response.output_audio.delta" : "response.audio.delta";
    case Name::OutputAudioDone: return ga ? "response.output_audio.done" : "response.audio.done";
    case Name::TranscriptDelta:
      return ga ? "response.output_audio_transcript.delta" : "response.audio_transcript.delta";
    case Name::TranscriptDone:
      return ga ? "response.output_audio_transcript.done" : "response.audio_transcript.done";
    case Name::TextDelta: return ga ? "response.output_text.delta" : "response.text.delta";
    case Name::TextDone: return ga ? "response.output_text.done" : "response.text.done";
  }
  return "error";
}

json server_event(std::string_view type, std::string event_id, json fields) {
  json ev = json::object();
  ev["type"] = type;
  ev["event_id"] = std::move(event_id);
  for (auto& [key, value] : fields.items()) ev[key] = std::move(value);
  return ev;
}

json error_event(std::string event_id, std::string_view type, std::string_view code,
                 std::string_view message, std::string_view param, std::string_view client_event_id) {
  json err = {{"type", type},
              {"code", code.empty() ? json(nullptr) : json(code)},
              {"message", message},
              {"param", param.empty() ? json(nullptr) : json(param)},
              {"event_id", client_event_id.empty() ? json(nullptr) : json(client_event_id)}};
  return server_event("error", std::move(event_id), {{"error", std::move(err)}});
}

json message_item(const std::string& id, std::string_view role, std::string_view status,
                  const json& content) {
  return {{"id", id},         {"object", "realtime.item"}, {"type", "message"},
          {"role", role},     {"status", status},          {"content", content}};
}

json text_part(std::string_view type, std::string_view text) {
  return {{"type", type}, {"text", text}};
}

json audio_part(std::string_view type, const std::optional<std::string>& transcript) {
  return {{"type", type}, {"transcript", transcript ? json(*transcript) : json(nullptr)}};
}

}  // namespace duet::server::realtime
