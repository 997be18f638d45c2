// RemoteChatLlm: the ChatLlm of any OpenAI-compatible streaming chat-completions server (vLLM,
// llama.cpp's server, llama-cpp-python, Ollama, a cloud API): POST {base_url}/chat/completions
// with "stream": true, text taken from the server-sent events as they arrive, and a cancel
// closing the connection within a few milliseconds. One reply at a time per object (one object
// per conversation); the connection is reused between replies. Must never call on_text after
// reply() returned, nor with part of a UTF-8 character, nor after the CancelToken was raised.
#pragma once

#include <memory>
#include <string>

#include "dialog/chat_llm.hpp"

namespace duet::dialog {

class HttpStream;

class RemoteChatLlm : public ChatLlm {
 public:
  // base_url: the API root, e.g. "http://localhost:8080/v1" (a trailing '/' is fine); model: the
  // name the server knows the model by; api_key: sent as "Authorization: Bearer ..." unless "".
  // Throws duet::Error when base_url is not an http:// or https:// URL.
  RemoteChatLlm(std::string base_url, std::string model, std::string api_key);
  ~RemoteChatLlm() override;

  std::string name() const override;  // "remote:<base url> <model>"
  const std::string& endpoint() const { return endpoint_; }

  // Streams the reply. usage from the server fills prompt_tokens/reply_tokens where it sends it;
  // otherwise reply_tokens counts the streamed pieces. Throws duet::Error for a refused
  // connection, an HTTP error (with the server's message), or a malformed stream.
  ReplyResult reply(std::span<const ChatMessage> messages, const ReplyOptions& options,
                    const std::function<void(std::string_view)>& on_text,
                    const CancelToken& cancel) override;

 private:
  std::string base_url_;
  std::string model_;
  std::string api_key_;
  std::string endpoint_;  // base_url_ + "/chat/completions"
  std::unique_ptr<HttpStream> http_;
};

}  // namespace duet::dialog
