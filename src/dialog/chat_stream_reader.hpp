// Turns the body of a streamed chat completion (server-sent events whose data are
// chat.completion.chunk JSON objects, ended by "data: [DONE]") into reply text: pieces go to
// on_text as they arrive, whole UTF-8 characters only, and the reply's end and token counts are
// recorded. Fed by whatever transport delivers the bytes, in any split. Must never do I/O, and
// never hand on_text part of a UTF-8 character.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "dialog/chat_llm.hpp"
#include "dialog/openai_chat.hpp"
#include "dialog/sse_parser.hpp"

namespace duet::dialog {

// Joins text pieces that may cut a UTF-8 character in two: push() returns the part of the text so
// far that ends on a whole character and keeps the rest for the next piece. (JSON strings from a
// conforming server are whole UTF-8 already; this guards the contract against servers that are
// not, whatever the transport.)
class Utf8Joiner {
 public:
  // The returned view is valid until the next push().
  std::string_view push(std::string_view piece);
  bool pending() const { return !held_.empty(); }

 private:
  std::string held_;  // the start of a character whose remaining bytes have not come yet
  std::string out_;
};

class ChatStreamReader {
 public:
  explicit ChatStreamReader(std::function<void(std::string_view)> on_text);

  // Consumes a piece of the event stream. Throws duet::Error for a malformed event or an error
  // the server sent inside the stream.
  void feed(std::string_view bytes);
  // Consumes a whole non-streamed completion body (a server that ignored "stream": true).
  void feed_completion(std::string_view body);

  bool done() const { return done_; }  // "[DONE]" arrived
  bool finished() const { return finish_reason_.has_value(); }  // a finish_reason arrived
  const std::optional<std::string>& finish_reason() const { return finish_reason_; }

  // The reply so far: text handed to on_text, end from the finish_reason ("length" -> Length,
  // anything else -> Finished), usage counts or, without usage, the number of content pieces.
  ReplyResult result() const;

 private:
  void take(std::string_view content);
  // Takes a chunk's usage and content (text goes to take()).
  void absorb(const openai::StreamChunk& chunk);
  void on_event(const SseEvent& event);

  std::function<void(std::string_view)> on_text_;
  SseParser sse_;
  Utf8Joiner utf8_;
  std::string text_;
  std::optional<std::string> finish_reason_;
  bool done_ = false;
  bool have_usage_ = false;
  int64_t prompt_tokens_ = 0;
  int64_t usage_tokens_ = 0;
  int64_t pieces_ = 0;
};

}  // namespace duet::dialog
