// The local LLM engine of a conversation: Duet's runtime over a shared LlmModel, with this
// conversation's own KV cache. Each reply renders the conversation through the model's chat
// template and syncs it into the cache, so the system prompt and earlier turns are computed once,
// a new user turn prefills only its new tokens, and a speculative reply that was dropped is rolled
// back simply by the next call (the cache keeps the common prefix and truncates the rest).
// Must never be used from two threads at once.
#pragma once

#include <memory>

#include "dialog/chat_llm.hpp"
#include "models/llm_model.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::dialog {

class LocalChatLlm final : public ChatLlm {
 public:
  // n_ctx: the KV cache's positions; threads: compute threads (0 = all cores).
  LocalChatLlm(std::shared_ptr<const models::LlmModel> model, int threads = 0, int64_t n_ctx = 2048);

  std::string name() const override;
  bool computes_here() const override { return true; }
  ReplyResult reply(std::span<const ChatMessage> messages, const ReplyOptions& options,
                    const std::function<void(std::string_view)>& on_text,
                    const CancelToken& cancel) override;
  void prefill(std::span<const ChatMessage> messages, const CancelToken& cancel) override;

  // Tokens in the KV cache now (tests: the cache keeps earlier turns).
  int64_t cached_tokens() const { return session_.n_past(); }

 private:
  // The messages a reply to `messages` keeps: the oldest turns are dropped (system prompt and
  // last message kept) until the prompt, ending with the assistant's generation prompt, leaves
  // max_reply positions free. `ids` (optional) receives that prompt's tokens. Throws when the
  // last message alone does not fit.
  std::vector<ChatMessage> fitted(std::span<const ChatMessage> messages, int max_reply,
                                  std::vector<int32_t>* ids) const;
  // The tokens of `messages` rendered with the last one still open (no end of turn, no reply
  // header): what a head start computes. False when the template drops the last text.
  bool open_prompt(std::span<const ChatMessage> messages, std::vector<int32_t>* ids) const;

  // More than any chat template puts after a message's text and before the reply (the end of
  // turn and the assistant's header: about 5 tokens in the supported families).
  static constexpr int64_t kReplyHeaderTokens = 64;

  std::shared_ptr<const models::LlmModel> model_;
  rt::ThreadPool pool_;
  models::LlmSession session_;
  text::ChatTemplate template_;
  int last_max_reply_ = ReplyOptions{}.max_tokens;  // the room the latest reply asked for
};

}  // namespace duet::dialog
