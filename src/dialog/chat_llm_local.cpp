// LocalChatLlm: chat template rendering, prompt fitting and streaming generation on the runtime.
// Must never decode a token the cache already holds.
#include "dialog/chat_llm_local.hpp"

#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "models/llm_generate.hpp"

namespace duet::dialog {

LocalChatLlm::LocalChatLlm(std::shared_ptr<const models::LlmModel> model, int threads, int64_t n_ctx)
    : model_(std::move(model)),
      pool_(threads),
      session_(model_, {.n_ctx = n_ctx}, &pool_),
      template_(text::ChatTemplate::from_gguf(model_->gguf(), model_->tokenizer())) {}

std::string LocalChatLlm::name() const {
  return "local:" + std::filesystem::path(model_->gguf().name()).filename().string();
}

std::vector<ChatMessage> LocalChatLlm::fitted(std::span<const ChatMessage> messages, int max_reply,
                                              std::vector<int32_t>* ids) const {
  if (messages.empty()) fail("the LLM got an empty conversation; add at least one user message");
  const auto& tok = model_->tokenizer();
  const int64_t budget = session_.n_ctx() - max_reply - 1;
  std::vector<ChatMessage> kept(messages.begin(), messages.end());
  const size_t first_turn = (!kept.empty() && kept.front().role == "system") ? 1 : 0;
  while (true) {
    auto rendered = tok.encode(template_.render(kept), {.add_special = true, .parse_special = true});
    if (static_cast<int64_t>(rendered.size()) <= budget) {
      if (ids) *ids = std::move(rendered);
      return kept;
    }
    // Drop the oldest turn after the system prompt (never the last message).
    if (kept.size() <= first_turn + 1) {
      fail("the conversation's last message alone needs {} tokens, more than the {} the context "
           "leaves; send a shorter message",
           rendered.size(), budget);
    }
    kept.erase(kept.begin() + static_cast<int64_t>(first_turn));
  }
}

ReplyResult LocalChatLlm::reply(std::span<const ChatMessage> messages, const ReplyOptions& options,
                                const std::function<void(std::string_view)>& on_text,
                                const CancelToken& cancel) {
  last_max_reply_ = options.max_tokens;
  std::vector<int32_t> prompt;
  fitted(messages, options.max_tokens, &prompt);
  models::GenerateOptions g;
  g.max_tokens = options.max_tokens;
  g.sampling.temperature = options.temperature;
  g.sampling.top_p = options.top_p;
  g.sampling.seed = static_cast<uint32_t>(options.seed);
  g.stop_tokens = template_.stop_tokens(model_->tokenizer().vocab());
  ReplyResult out;
  const auto r = models::generate(session_, prompt, g, on_text, cancel);
  out.text = r.text;
  out.prompt_tokens = r.prompt_tokens;
  out.reused_tokens = r.reused_tokens;
  out.reply_tokens = static_cast<int64_t>(r.tokens.size());
  out.end = r.reason == models::StopReason::Cancelled ? ReplyEnd::Cancelled
            : r.reason == models::StopReason::Length  ? ReplyEnd::Length
                                                      : ReplyEnd::Finished;
  return out;
}

bool LocalChatLlm::open_prompt(std::span<const ChatMessage> messages, std::vector<int32_t>* ids) const {
  // The template renders the last message whole; a marker after its text shows where the text
  // so far ends, and the prompt is cut there.
  constexpr std::string_view kOpenEnd = "\x01duet-open-end\x01";
  std::vector<ChatMessage> open(messages.begin(), messages.end());
  open.back().content += kOpenEnd;
  std::string text = template_.render(open, false);
  const size_t cut = text.find(kOpenEnd);
  if (cut == std::string::npos) return false;  // the template dropped the text
  text.resize(cut);
  *ids = model_->tokenizer().encode(text, {.add_special = true, .parse_special = true});
  return true;
}

void LocalChatLlm::prefill(std::span<const ChatMessage> messages, const CancelToken& cancel) {
  if (messages.empty()) return;
  std::vector<int32_t> ids;
  if (!open_prompt(messages, &ids)) return;  // nothing safe to compute
  // A conversation near the end of the cache loses its oldest turns in the reply: the head start
  // keeps the same turns (fitted() with the room the latest reply asked for), so it is the
  // reply's prefix. Further from the end nothing is dropped, and the one render above serves.
  const int64_t budget = session_.n_ctx() - last_max_reply_ - 1;
  if (static_cast<int64_t>(ids.size()) + kReplyHeaderTokens > budget) {
    std::vector<ChatMessage> kept;
    try {
      kept = fitted(messages, last_max_reply_, nullptr);
    } catch (const Error&) {
      return;  // the message alone is too long: the reply reports it
    }
    if (!open_prompt(kept, &ids)) return;
  }
  try {
    session_.sync(ids, cancel);
  } catch (const Cancelled&) {
    // The cache keeps what was computed before the cancel; the next reply reuses it.
  }
}

}  // namespace duet::dialog
