// RemoteChatLlm (see chat_llm_remote.hpp): builds the request, runs it through HttpStream, routes
// the answer to the stream reader or, for an HTTP error, collects the server's message and says
// what to check. Must never parse SSE or JSON itself (sse_parser, openai_chat and
// chat_stream_reader do), and never call on_text once the CancelToken is raised.
#include "dialog/chat_llm_remote.hpp"

#include <vector>

#include "core/error.hpp"
#include "dialog/chat_stream_reader.hpp"
#include "dialog/http_stream.hpp"
#include "dialog/openai_chat.hpp"

namespace duet::dialog {

namespace {

constexpr size_t kErrorBodyLimit = 64 * 1024;  // bytes of an error answer kept for its message

bool starts_with_http(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

const char* status_text(long status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string what_to_check(long status, const std::string& model) {
  if (status == 401 || status == 403) return "check the API key (--remote-key)";
  if (status == 404 || status == 405) {
    return "check the base URL: it is the API root that /chat/completions is appended to, "
           "usually ending in /v1 (e.g. http://localhost:8080/v1)";
  }
  if (status == 400 || status == 422) {
    return "check the model name '" + model + "' and that the server speaks the OpenAI "
           "chat-completions API";
  }
  if (status == 429) return "the server is rate-limiting; wait, or check the account's limits";
  if (status >= 500) return "the server failed; check its log";
  return "check the server's address and configuration";
}

}  // namespace

RemoteChatLlm::RemoteChatLlm(std::string base_url, std::string model, std::string api_key)
    : base_url_(std::move(base_url)), model_(std::move(model)), api_key_(std::move(api_key)) {
  if (!starts_with_http(base_url_)) {
    fail("remote LLM URL '{}' is not an http:// or https:// URL; give the server's API root, "
         "e.g. http://localhost:8080/v1",
         base_url_);
  }
  std::string root = base_url_;
  while (!root.empty() && root.back() == '/') root.pop_back();
  endpoint_ = root + "/chat/completions";
  http_ = std::make_unique<HttpStream>();
}

RemoteChatLlm::~RemoteChatLlm() = default;

std::string RemoteChatLlm::name() const {
  return "remote:" + base_url_ + " " + model_;
}

ReplyResult RemoteChatLlm::reply(std::span<const ChatMessage> messages,
                                 const ReplyOptions& options,
                                 const std::function<void(std::string_view)>& on_text,
                                 const CancelToken& cancel) {
  std::vector<std::string> headers = {"Content-Type: application/json",
                                      "Accept: text/event-stream"};
  if (!api_key_.empty()) headers.push_back("Authorization: Bearer " + api_key_);
  const std::string body = openai::chat_request_body(model_, messages, options, /*stream=*/true);

  // on_text is guarded here so that nothing reaches it once the token is raised, even from a
  // piece that was already in flight.
  std::string handed;  // what on_text got: the reply's text, also when it is cut by a cancel
  ChatStreamReader reader([&](std::string_view piece) {
    if (cancel.cancelled()) return;
    handed.append(piece);
    on_text(piece);
  });
  std::string plain_body;  // an error answer, or a completion that was not streamed
  auto on_body = [&](std::string_view bytes, const HttpAnswer& answer) {
    const bool streamed = answer.content_type.starts_with("text/event-stream");
    if (answer.status >= 200 && answer.status < 300 && streamed) {
      reader.feed(bytes);
    } else if (plain_body.size() < kErrorBodyLimit) {
      plain_body.append(bytes.substr(0, kErrorBodyLimit - plain_body.size()));
    }
  };

  const HttpAnswer answer = with_context("remote LLM " + endpoint_, [&] {
    return http_->post(endpoint_, headers, body, on_body, cancel);
  });

  ReplyResult result = reader.result();
  result.text = handed;
  if (answer.cancelled || cancel.cancelled()) {
    result.end = ReplyEnd::Cancelled;
    return result;
  }
  if (answer.status < 200 || answer.status >= 300) {
    const char* reason = status_text(answer.status);
    fail("remote LLM {}: HTTP {}{}{}: {}; {}", endpoint_, answer.status, *reason ? " " : "",
         reason, openai::error_message(plain_body), what_to_check(answer.status, model_));
  }
  if (!answer.content_type.starts_with("text/event-stream")) {
    if (answer.content_type.find("json") == std::string::npos) {
      fail("remote LLM {}: the answer is '{}', not an event stream or JSON: {}; check that the URL "
           "points at an OpenAI-compatible chat-completions API",
           endpoint_, answer.content_type.empty() ? "untyped" : answer.content_type,
           openai::error_message(plain_body));
    }
    with_context("remote LLM " + endpoint_, [&] { reader.feed_completion(plain_body); });
    result = reader.result();
    result.text = handed;
    return result;
  }
  if (!reader.done() && !reader.finished()) {
    fail("remote LLM {}: the server closed the stream before the reply ended (no finish_reason "
         "and no [DONE]); check the server's log",
         endpoint_);
  }
  return result;
}

}  // namespace duet::dialog
