// Chat prompt rendering (see chat_template.hpp). Each family is a per-message format plus a
// generation prompt; increments are computed from full renders and checked to extend the
// history's render, so the KV-cache property can never silently break. Must never emit BOS.
#include "text/chat_template.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "runtime/gguf.hpp"
#include "text/tokenizer.hpp"
#include "text/unicode.hpp"

namespace duet::text {
namespace {

constexpr std::string_view kEmptyThink = "<think>\n\n</think>\n\n";

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

bool strip_char(uint32_t cp) {
  return is_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F);
}

// Jinja's |trim (Python str.strip()): Unicode whitespace off both ends.
std::string_view trim(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    if (!strip_char(utf8_decode_one(s, next))) break;
    begin = next;
  }
  size_t end = s.size();
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
    size_t at = start;
    if (!strip_char(utf8_decode_one(s, at)) || at != end) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

}  // namespace

std::string chatml_default_system(std::string_view tmpl) {
  for (std::string_view marker :
       {std::string_view("<|im_start|>system\n"), std::string_view("<|im_start|>system\\n")}) {
    for (size_t at = tmpl.find(marker); at != std::string_view::npos;
         at = tmpl.find(marker, at + 1)) {
      const size_t begin = at + marker.size();
      const size_t end = tmpl.find("<|im_end|>", begin);
      if (end == std::string_view::npos) continue;
      const std::string_view text = tmpl.substr(begin, end - begin);
      if (text.empty() || text.find_first_of("'\"{}+") != std::string_view::npos) continue;
      return std::string(text);
    }
  }
  return {};
}

ChatTemplate::ChatTemplate(ChatFamily family, ChatTemplateOptions options)
    : family_(family), options_(std::move(options)) {}

ChatTemplate ChatTemplate::detect(std::string_view tmpl, std::string_view arch,
                                  const Vocab& vocab) {
  if (!tmpl.empty()) {
    if (contains(tmpl, "<|im_start|>")) {
      ChatTemplateOptions o;
      o.default_system = chatml_default_system(tmpl);
      o.thinking_model = contains(tmpl, "<think>") || contains(tmpl, "enable_thinking");
      return ChatTemplate(ChatFamily::ChatML, std::move(o));
    }
    if (contains(tmpl, "<start_of_turn>")) return ChatTemplate(ChatFamily::Gemma, {});
    if (contains(tmpl, "<|start_header_id|>")) return ChatTemplate(ChatFamily::Llama3, {});
    fail("unsupported chat template (Duet renders ChatML, Gemma and Llama 3 formats): {}",
         tmpl.substr(0, 120));
  }
  if (arch.starts_with("gemma")) return ChatTemplate(ChatFamily::Gemma, {});
  if (arch.starts_with("qwen3")) return ChatTemplate(ChatFamily::ChatML, {.thinking_model = true});
  if (arch.starts_with("qwen2")) return ChatTemplate(ChatFamily::ChatML, {});
  if (vocab.find("<|im_start|>") != kNoToken) return ChatTemplate(ChatFamily::ChatML, {});
  if (vocab.find("<start_of_turn>") != kNoToken) return ChatTemplate(ChatFamily::Gemma, {});
  if (vocab.find("<|start_header_id|>") != kNoToken) return ChatTemplate(ChatFamily::Llama3, {});
  fail("no chat template in the model and none known for architecture '{}'", arch);
}

ChatTemplate ChatTemplate::from_gguf(const rt::GgufFile& gguf, const Tokenizer& tokenizer) {
  return with_context(fmt::format("chat template of {}", gguf.name()), [&] {
    return detect(gguf.get_string("tokenizer.chat_template", ""),
                  gguf.get_string("general.architecture", ""), tokenizer.vocab());
  });
}

std::string ChatTemplate::generation_prompt() const {
  switch (family_) {
    case ChatFamily::ChatML:
      return options_.thinking_model && !options_.enable_thinking
                 ? "<|im_start|>assistant\n" + std::string(kEmptyThink)
                 : "<|im_start|>assistant\n";
    case ChatFamily::Gemma:
      return "<start_of_turn>model\n";
    case ChatFamily::Llama3:
      return "<|start_header_id|>assistant<|end_header_id|>\n\n";
  }
  return {};
}

std::string ChatTemplate::end_of_reply() const {
  switch (family_) {
    case ChatFamily::ChatML:
      return "<|im_end|>\n";
    case ChatFamily::Gemma:
      return "<end_of_turn>\n";
    case ChatFamily::Llama3:
      return "<|eot_id|>";
  }
  return {};
}

std::vector<std::string> ChatTemplate::stop_texts() const {
  switch (family_) {
    case ChatFamily::ChatML:
      return {"<|im_end|>", "<|endoftext|>"};
    case ChatFamily::Gemma:
      return {"<end_of_turn>", "<eos>"};
    case ChatFamily::Llama3:
      return {"<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"};
  }
  return {};
}

std::vector<Token> ChatTemplate::stop_tokens(const Vocab& vocab) const {
  std::vector<Token> out;
  for (const auto& text : stop_texts()) {
    if (Token t = vocab.find(text); t != kNoToken) out.push_back(t);
  }
  if (vocab.special().eos != kNoToken) out.push_back(vocab.special().eos);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ChatTemplate::render_message(std::string& out, const ChatMessage& m, bool first,
                                  std::string_view pending_system) const {
  switch (family_) {
    case ChatFamily::ChatML: {
      out += "<|im_start|>" + m.role + "\n";
      const bool add_think = m.role == "assistant" && options_.thinking_model &&
                             !options_.enable_thinking && !m.content.starts_with("<think>");
      if (add_think) out += kEmptyThink;
      out += m.content + "<|im_end|>\n";
      return;
    }
    case ChatFamily::Gemma: {
      out += "<start_of_turn>";
      out += m.role == "assistant" ? "model" : m.role;
      out += "\n";
      if (first) out += pending_system;
      out += trim(m.content);
      out += "<end_of_turn>\n";
      return;
    }
    case ChatFamily::Llama3: {
      out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
      out += trim(m.content);
      out += "<|eot_id|>";
      return;
    }
  }
}

std::string ChatTemplate::render(std::span<const ChatMessage> messages,
                                 bool add_generation_prompt) const {
  std::string out;
  std::string pending_system;  // Gemma: the system text that opens the first user turn
  size_t first = 0;
  if (family_ == ChatFamily::ChatML && !options_.default_system.empty() && !messages.empty() &&
      messages[0].role != "system") {
    render_message(out, {"system", options_.default_system}, true, {});
  }
  if (family_ == ChatFamily::Gemma && !messages.empty() && messages[0].role == "system") {
    pending_system = messages[0].content + "\n\n";
    first = 1;
  }
  for (size_t i = first; i < messages.size(); ++i)
    render_message(out, messages[i], i == first, pending_system);
  if (add_generation_prompt) out += generation_prompt();
  return out;
}

std::string ChatTemplate::render_increment(std::span<const ChatMessage> history,
                                           std::span<const ChatMessage> added,
                                           bool add_generation_prompt) const {
  std::vector<ChatMessage> all(history.begin(), history.end());
  all.insert(all.end(), added.begin(), added.end());
  std::string full = render(all, add_generation_prompt);
  const std::string prefix = render(history, false);
  if (!std::string_view(full).starts_with(prefix))
    fail(
        "chat history renders differently once new turns are added; the prompt cannot be extended");
  return full.substr(prefix.size());
}

}  // namespace duet::text
