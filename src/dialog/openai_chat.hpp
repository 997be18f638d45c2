// The JSON side of OpenAI-compatible chat completions (POST .../chat/completions): the request
// body of a streamed call, the pieces of one streamed chunk, and the readable message of an error
// body. Pure functions over text, so they are tested without a server. Must never do I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dialog/chat_llm.hpp"

namespace duet::dialog::openai {

// The request body: model, messages, stream (with usage in the last chunk where the server
// supports it), max_tokens, temperature, top_p and seed.
std::string chat_request_body(std::string_view model, std::span<const ChatMessage> messages,
                              const ReplyOptions& options, bool stream = true);

struct ChunkUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// What one "data:" payload of the stream says.
struct StreamChunk {
  std::string content;                        // delta.content of the first choice ("" = none)
  std::optional<std::string> finish_reason;   // "stop", "length", ... once the reply ends
  std::optional<ChunkUsage> usage;            // some servers send it in the last chunk
};

// Parses a streamed chunk (an "object": "chat.completion.chunk"). Throws duet::Error when the
// payload is not JSON of that shape, or when it is an error object the server sent mid-stream.
StreamChunk parse_stream_chunk(std::string_view data);

// Parses a whole (non-streamed) completion: what a server that ignores "stream": true answers.
StreamChunk parse_completion(std::string_view body);

// The server's own words from an error body ({"error": {"message": ...}}, {"error": "..."},
// {"detail": ...}, {"message": ...}), or the body itself trimmed to a readable length.
std::string error_message(std::string_view body);

}  // namespace duet::dialog::openai
