// POST /v1/chat/completions: the engine's chat LLM (a fresh conversation per request) answers a
// list of messages, as one chat.completion object or, with "stream": true, as server-sent events
// of chat.completion.chunk objects ending in "data: [DONE]". Generation stops when the client
// goes away.
// Must never generate on the I/O thread, and never send a chunk after [DONE].
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "dialog/engine.hpp"
#include "server/http_reply.hpp"
#include "server/json_fields.hpp"
#include "server/rest_handlers.hpp"

namespace duet::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxMessages = 256;

struct ChatJob {
  std::vector<dialog::ChatMessage> messages;
  dialog::ReplyOptions options;
  bool stream = false;
  bool include_usage = false;
  std::string model;
  std::string id;
  int64_t created = 0;
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string finish_reason(dialog::ReplyEnd end) {
  return end == dialog::ReplyEnd::Length ? "length" : "stop";
}

json usage_json(const dialog::ReplyResult& r) {
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", r.reply_tokens},
          {"total_tokens", r.prompt_tokens + r.reply_tokens},
          {"prompt_tokens_details", {{"cached_tokens", r.reused_tokens}}}};
}

json chunk(const ChatJob& job, json delta, json finish) {
  return {{"id", job.id},
          {"object", "chat.completion.chunk"},
          {"created", job.created},
          {"model", job.model},
          {"system_fingerprint", nullptr},
          {"choices",
           json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                         {"finish_reason", std::move(finish)}}})}};
}

void chat_job(const std::shared_ptr<ServerContext>& ctx, const ChatJob& job, const SinkPtr& sink) {
  std::unique_ptr<dialog::ChatLlm> llm = ctx->engine->new_chat_llm();
  // The machine, shared with the Realtime sessions: lent to their looks and first phrases.
  std::optional<ComputeArbiter::Lease> lease;
  if (llm->computes_here()) lease.emplace(ctx->engine->arbiter().acquire(Urgency::Soon, sink->client_gone()));
  const CancelToken& cancel = lease ? lease->token() : sink->client_gone();
  if (!job.stream) {
    const dialog::ReplyResult r =
        llm->reply(job.messages, job.options, [](std::string_view) {}, cancel);
    json body = {{"id", job.id},
                 {"object", "chat.completion"},
                 {"created", job.created},
                 {"model", job.model},
                 {"system_fingerprint", nullptr},
                 {"choices", json::array({{{"index", 0},
                                           {"message", {{"role", "assistant"},
                                                        {"content", r.text},
                                                        {"refusal", nullptr}}},
                                           {"logprobs", nullptr},
                                           {"finish_reason", finish_reason(r.end)}}})},
                 {"usage", usage_json(r)}};
    return sink->send(json_response(body));
  }
  sink->start_stream(http::status::ok, "text/event-stream");
  auto event = [&sink](const json& j) { return sink->write_chunk("data: " + dump(j) + "\n\n"); };
  event(chunk(job, {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr));
  dialog::ReplyResult r;
  try {
    r = llm->reply(job.messages, job.options,
                   [&](std::string_view piece) {
                     event(chunk(job, {{"content", std::string(piece)}}, nullptr));
                   },
                   cancel);
  } catch (const std::exception& e) {
    // The headers are out: report the failure in the stream, as OpenAI does.
    sink->write_chunk("data: " + dump({{"error", {{"message", e.what()}, {"type", "server_error"}}}}) +
                      "\n\n");
    sink->end_stream();
    return;
  }
  event(chunk(job, json::object(), finish_reason(r.end)));
  if (job.include_usage) {
    json last = chunk(job, json::object(), nullptr);
    last["choices"] = json::array();
    last["usage"] = usage_json(r);
    event(last);
  }
  sink->write_chunk("data: [DONE]\n\n");
  sink->end_stream();
}

std::string message_text(const json& content, const std::string& path) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return "";
  if (!content.is_array()) {
    throw ProtocolError(fmt::format("Invalid type for '{}': expected a string or an array of "
                                    "content parts, but got {} instead.",
                                    path, json_type_phrase(content)),
                        path);
  }
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const Fields part(content[i], fmt::format("{}[{}]", path, i));
    const std::string type = part.required_string("type");
    if (type != "text") {
      throw ProtocolError(fmt::format("Content parts of type '{}' are not supported by Duet's "
                                      "chat model ({}).",
                                      type, part.path()),
                          part.path() + ".type", "invalid_value");
    }
    text += part.required_string("text");
  }
  return text;
}

ChatJob parse_chat(const std::shared_ptr<ServerContext>& ctx, const std::string& body_text) {
  const json body = json::parse(body_text, nullptr, false);
  if (body.is_discarded()) {
    throw ProtocolError("We could not parse the JSON body of your request.", "", "invalid_json");
  }
  const Fields f(body, "");
  ChatJob job;
  job.model = f.string("model").value_or(ctx->engine->llm_name());
  if (!f.has("messages")) {
    throw ProtocolError("Missing required parameter: 'messages'.", "messages",
                        "missing_required_parameter");
  }
  const json& messages = body.at("messages");
  if (!messages.is_array()) f.wrong_type("messages", "an array");
  if (messages.empty() || messages.size() > kMaxMessages) {
    throw ProtocolError(fmt::format("Invalid 'messages': it must hold 1 to {} messages.", kMaxMessages),
                        "messages", "invalid_value");
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const Fields m(messages[i], fmt::format("messages[{}]", i));
    auto role = m.choice("role", {"system", "developer", "user", "assistant", "tool", "function"});
    if (!role) {
      throw ProtocolError(fmt::format("Missing required parameter: '{}.role'.", m.path()),
                          m.path() + ".role", "missing_required_parameter");
    }
    if (*role == "tool" || *role == "function") {
      throw ProtocolError("Tool messages are not supported by Duet (no tool calls yet).",
                          m.path() + ".role", "invalid_value");
    }
    if (*role == "developer") role = "system";
    const std::string text =
        m.has("content") ? message_text(messages[i].at("content"), m.path() + ".content") : "";
    job.messages.push_back({*role, text});
  }
  job.stream = f.boolean("stream").value_or(false);
  if (auto so = f.object("stream_options")) job.include_usage = so->boolean("include_usage").value_or(false);
  if (auto t = f.number("temperature", 0.0, 2.0)) job.options.temperature = static_cast<float>(*t);
  if (auto p = f.number("top_p", 0.0, 1.0)) job.options.top_p = static_cast<float>(*p);
  if (auto n = f.integer("max_tokens", 1, 8192)) job.options.max_tokens = static_cast<int>(*n);
  if (auto n = f.integer("max_completion_tokens", 1, 8192)) job.options.max_tokens = static_cast<int>(*n);
  if (auto s = f.integer("seed", INT64_MIN, INT64_MAX)) job.options.seed = static_cast<uint64_t>(*s);
  if (auto n = f.integer("n", 1, 128); n && *n != 1) {
    throw ProtocolError("Only n=1 is supported.", "n", "invalid_value");
  }
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  job.created = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  job.id = fmt::format("chatcmpl-duet{:x}",
                       std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  return job;
}

}  // namespace

void handle_chat(const std::shared_ptr<ServerContext>& ctx, const Request& req, SinkPtr sink) {
  std::shared_ptr<ChatJob> job;
  try {
    job = std::make_shared<ChatJob>(parse_chat(ctx, req.body()));
  } catch (const ProtocolError& e) {
    return sink->send(error_response(http::status::bad_request, e.what(), e.param(), e.code()));
  }
  run_on_worker(ctx, sink, [ctx, job, sink] { chat_job(ctx, *job, sink); });
}

}  // namespace duet::server
