// The interface every language-model engine of a conversation implements: the local runtime
// (LocalChatLlm) and any OpenAI-compatible streaming chat-completions server (RemoteChatLlm).
// The engine hands over the whole conversation each time; an engine keeps whatever it can
// between calls (the local one keeps the KV cache of the common prefix, so a new user turn
// prefills only its new tokens, and a speculative reply that is dropped costs nothing later).
// Must never call on_text after reply() returned, nor with part of a UTF-8 character.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/cancel.hpp"
#include "text/chat_template.hpp"

namespace duet::dialog {

using text::ChatMessage;

struct ReplyOptions {
  int max_tokens = 160;
  float temperature = 0.7f;  // 0: greedy
  float top_p = 0.95f;
  uint64_t seed = 0;         // the same seed and conversation give the same reply (local engine)
};

enum class ReplyEnd { Finished, Length, Cancelled };

struct ReplyResult {
  std::string text;  // everything handed to on_text, in order
  ReplyEnd end = ReplyEnd::Finished;
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;  // prompt tokens that were already computed (local engine)
  int64_t reply_tokens = 0;
};

class ChatLlm {
 public:
  virtual ~ChatLlm() = default;
  // "local:<model file name>" or "remote:<base url> <model>".
  virtual std::string name() const = 0;
  // The reply is computed on this machine (it then runs under a ComputeArbiter lease); a remote
  // engine only waits on its server, and must not keep the machine from other sessions meanwhile.
  virtual bool computes_here() const { return false; }

  // Streams the assistant's reply to `messages` (system first, then alternating turns, the last
  // one the user's): each new piece of text goes to on_text as soon as it is final. Returns when
  // the reply ends or soon after `cancel` is raised (within one token locally; the remote engine
  // closes its stream), with end == Cancelled. Throws duet::Error for a failure it cannot report
  // as text (model error, connection refused, HTTP error), saying what to check.
  virtual ReplyResult reply(std::span<const ChatMessage> messages, const ReplyOptions& options,
                            const std::function<void(std::string_view)>& on_text,
                            const CancelToken& cancel) = 0;

  // Computes what it can of `messages` ahead of time (the local engine prefills them into its
  // cache, so a reply to them later starts decoding at once). The last message is still being
  // written (the person's turn so far, possibly empty): only its opening and its text so far are
  // computed, never its end nor the start of a reply, which would have to be thrown away when
  // more words come. A no-op where nothing can be done.
  virtual void prefill(std::span<const ChatMessage> messages, const CancelToken& cancel) {
    (void)messages;
    (void)cancel;
  }
};

}  // namespace duet::dialog
