// Chat prompt rendering for the model families Duet runs: ChatML (SmolLM2, Qwen2, Qwen3 with
// thinking off by default), Gemma (system folded into the first user turn) and Llama 3, chosen
// from the GGUF's tokenizer.chat_template text or, without one, its architecture and vocabulary.
// Rendered text carries special tokens as text (encode it with parse_special) and no BOS (the
// tokenizer adds it). Must never render earlier turns differently once later turns are added:
// render(a + b) == render(a, false) + render_increment(a, b), so a conversation's KV cache stays
// valid from turn to turn.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/vocab.hpp"

namespace duet::rt {
class GgufFile;
}

namespace duet::text {

class Tokenizer;

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFamily { ChatML, Gemma, Llama3 };

struct ChatTemplateOptions {
  std::string default_system;    // ChatML: system turn used when the conversation has none
  bool thinking_model = false;   // Qwen3-style <think> blocks
  bool enable_thinking = false;  // thinking models: let the model think (off by default)
};

class ChatTemplate {
 public:
  ChatTemplate(ChatFamily family, ChatTemplateOptions options);

  // Picks the family from a Jinja chat template's text, else from the architecture name
  // (general.architecture) and the vocabulary's special tokens. Throws duet::Error when unknown.
  static ChatTemplate detect(std::string_view template_text, std::string_view architecture,
                             const Vocab& vocab);
  static ChatTemplate from_gguf(const rt::GgufFile& gguf, const Tokenizer& tokenizer);

  ChatFamily family() const { return family_; }
  const ChatTemplateOptions& options() const { return options_; }
  void set_enable_thinking(bool on) { options_.enable_thinking = on; }

  // The whole prompt; with add_generation_prompt it ends where the assistant's reply begins.
  std::string render(std::span<const ChatMessage> messages,
                     bool add_generation_prompt = true) const;
  // Text to append to render(history, false) to get render(history + added, add_generation_prompt).
  std::string render_increment(std::span<const ChatMessage> history,
                               std::span<const ChatMessage> added,
                               bool add_generation_prompt = true) const;
  // What starts an assistant reply (the generation prompt).
  std::string generation_prompt() const;
  // What closes an assistant reply, so that render(h) + reply + end_of_reply() ==
  // render(h + {assistant, reply}, false).
  std::string end_of_reply() const;
  // Special-token texts that end a reply in this family.
  std::vector<std::string> stop_texts() const;
  // Those of stop_texts() the vocabulary has, plus its EOS; sorted, unique.
  std::vector<Token> stop_tokens(const Vocab& vocab) const;

 private:
  void render_message(std::string& out, const ChatMessage& m, bool first,
                      std::string_view pending_system) const;
  ChatFamily family_;
  ChatTemplateOptions options_;
};

// The default system prompt a ChatML Jinja template inserts when a conversation has none
// (a literal '<|im_start|>system\n...<|im_end|>' in the template), or "" when it has none.
std::string chatml_default_system(std::string_view template_text);

}  // namespace duet::text
