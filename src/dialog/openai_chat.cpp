// OpenAI chat-completions JSON (see openai_chat.hpp): building the streamed request and reading
// chunks, completions and error bodies with nlohmann-json. Must never touch the network.
#include "dialog/openai_chat.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "text/unicode.hpp"

namespace duet::dialog::openai {

using nlohmann::json;

namespace {

constexpr size_t kQuoteLimit = 300;  // bytes of a payload quoted in an error message

std::string quote(std::string_view text) {
  if (text.size() <= kQuoteLimit) return std::string(text);
  return std::string(text.substr(0, text::utf8_complete_prefix(text.substr(0, kQuoteLimit)))) +
         "...";
}

json parse_json(std::string_view text, std::string_view what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    fail("malformed {} from the LLM server (not JSON): '{}'; check that the URL points at an "
         "OpenAI-compatible chat-completions API",
         what, quote(text));
  }
  return j;
}

// Throws when `j` is an error object rather than a completion.
void throw_if_error(const json& j, std::string_view text) {
  if (j.is_object() && j.contains("error")) {
    fail("the LLM server reported an error: {}", error_message(text));
  }
}

std::optional<ChunkUsage> read_usage(const json& j) {
  auto it = j.find("usage");
  if (it == j.end() || !it->is_object()) return std::nullopt;
  ChunkUsage u;
  u.prompt_tokens = it->value("prompt_tokens", int64_t{0});
  u.completion_tokens = it->value("completion_tokens", int64_t{0});
  return u;
}

std::optional<std::string> read_finish(const json& choice) {
  auto it = choice.find("finish_reason");
  if (it == choice.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The first choice of a chunk or completion; null when the payload has an empty choices list
// (the usage-only last chunk). Throws when the shape is wrong.
const json* first_choice(const json& j, std::string_view text) {
  if (!j.is_object()) {
    fail("malformed chunk from the LLM server (not a JSON object): '{}'", quote(text));
  }
  auto it = j.find("choices");
  if (it == j.end() || !it->is_array()) {
    fail("malformed chunk from the LLM server (no \"choices\" list): '{}'; check that the URL "
         "points at an OpenAI-compatible chat-completions API",
         quote(text));
  }
  if (it->empty()) return nullptr;
  const json& choice = it->front();
  if (!choice.is_object()) {
    fail("malformed chunk from the LLM server (a choice is not an object): '{}'", quote(text));
  }
  return &choice;
}

std::string string_field(const json& obj, const char* key, std::string_view text) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) {
    fail("malformed chunk from the LLM server (\"{}\" is not a string): '{}'", key, quote(text));
  }
  return it->get<std::string>();
}

}  // namespace

std::string chat_request_body(std::string_view model, std::span<const ChatMessage> messages,
                              const ReplyOptions& options, bool stream) {
  json body;
  body["model"] = std::string(model);
  json list = json::array();
  for (const ChatMessage& m : messages) {
    list.push_back({{"role", m.role}, {"content", m.content}});
  }
  body["messages"] = std::move(list);
  body["stream"] = stream;
  if (stream) body["stream_options"] = {{"include_usage", true}};
  body["max_tokens"] = options.max_tokens;
  body["temperature"] = options.temperature;
  body["top_p"] = options.top_p;
  body["seed"] = options.seed;
  // Invalid UTF-8 in a message is replaced rather than thrown on: a transcript is never fatal.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

StreamChunk parse_stream_chunk(std::string_view data) {
  const json j = parse_json(data, "stream chunk");
  throw_if_error(j, data);
  StreamChunk chunk;
  if (j.is_object()) chunk.usage = read_usage(j);
  const json* choice = first_choice(j, data);
  if (choice == nullptr) return chunk;
  if (auto delta = choice->find("delta"); delta != choice->end() && delta->is_object()) {
    chunk.content = string_field(*delta, "content", data);
  }
  chunk.finish_reason = read_finish(*choice);
  return chunk;
}

StreamChunk parse_completion(std::string_view body) {
  const json j = parse_json(body, "completion");
  throw_if_error(j, body);
  StreamChunk chunk;
  if (j.is_object()) chunk.usage = read_usage(j);
  const json* choice = first_choice(j, body);
  if (choice == nullptr) return chunk;
  if (auto message = choice->find("message"); message != choice->end() && message->is_object()) {
    chunk.content = string_field(*message, "content", body);
  }
  chunk.finish_reason = read_finish(*choice);
  return chunk;
}

std::string error_message(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    for (const char* key : {"error", "detail", "message"}) {
      auto it = j.find(key);
      if (it == j.end()) continue;
      if (it->is_string()) return quote(it->get<std::string>());
      if (it->is_object()) {
        if (auto msg = it->find("message"); msg != it->end() && msg->is_string()) {
          return quote(msg->get<std::string>());
        }
      }
      return quote(it->dump());
    }
  }
  std::string_view text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return "(empty body)";
  return quote(text);
}

}  // namespace duet::dialog::openai
