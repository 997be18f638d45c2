// Streamed chat-completion reading (see chat_stream_reader.hpp): SSE events -> chunk JSON ->
// UTF-8-safe text pieces. Must never do I/O.
#include "dialog/chat_stream_reader.hpp"

#include "core/error.hpp"
#include "dialog/openai_chat.hpp"
#include "text/unicode.hpp"

namespace duet::dialog {

std::string_view Utf8Joiner::push(std::string_view piece) {
  out_.assign(held_);
  out_.append(piece);
  const size_t complete = text::utf8_complete_prefix(out_);
  held_.assign(out_, complete, std::string::npos);
  out_.resize(complete);
  return out_;
}

ChatStreamReader::ChatStreamReader(std::function<void(std::string_view)> on_text)
    : on_text_(std::move(on_text)) {}

void ChatStreamReader::feed(std::string_view bytes) {
  sse_.feed(bytes, [this](const SseEvent& event) { on_event(event); });
}

void ChatStreamReader::on_event(const SseEvent& event) {
  if (done_) return;  // nothing after [DONE] belongs to the reply
  if (event.data == "[DONE]") {
    done_ = true;
    return;
  }
  if (event.event == "error") {
    fail("the LLM server reported an error in the stream: {}", openai::error_message(event.data));
  }
  const openai::StreamChunk chunk = openai::parse_stream_chunk(event.data);
  absorb(chunk);
  if (chunk.finish_reason) finish_reason_ = chunk.finish_reason;
}

void ChatStreamReader::absorb(const openai::StreamChunk& chunk) {
  if (chunk.usage) {
    have_usage_ = true;
    prompt_tokens_ = chunk.usage->prompt_tokens;
    usage_tokens_ = chunk.usage->completion_tokens;
  }
  if (!chunk.content.empty()) {
    ++pieces_;
    take(chunk.content);
  }
}

void ChatStreamReader::feed_completion(std::string_view body) {
  const openai::StreamChunk chunk = openai::parse_completion(body);
  absorb(chunk);
  finish_reason_ = chunk.finish_reason.value_or("stop");
  done_ = true;
}

void ChatStreamReader::take(std::string_view content) {
  const std::string_view piece = utf8_.push(content);
  if (piece.empty()) return;
  text_.append(piece);
  on_text_(piece);
}

ReplyResult ChatStreamReader::result() const {
  ReplyResult r;
  r.text = text_;
  r.end = (finish_reason_ && *finish_reason_ == "length") ? ReplyEnd::Length : ReplyEnd::Finished;
  r.prompt_tokens = have_usage_ ? prompt_tokens_ : 0;
  r.reply_tokens = have_usage_ ? usage_tokens_ : pieces_;
  return r;
}

}  // namespace duet::dialog
