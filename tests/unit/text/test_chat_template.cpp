// Unit tests for chat templates: exact rendering per family, the incremental property
// render(a + b) == render(a, false) + render_increment(a, b), the reply-closing property, family
// detection and the default system prompt taken from a Jinja template.
// Must never need a model file.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "synthetic_vocab.hpp"
#include "text/chat_template.hpp"

using namespace duet::text;

namespace {

const std::string kSmolTemplate =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
    "'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] "
    "+ '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' "
    "}}{% endif %}";

std::vector<ChatMessage> conversation() {
  return {{"system", "Be brief."},    {"user", "Hi!"},
          {"assistant", "Hello."},    {"user", " What's up? "},
          {"assistant", "Not much."}, {"user", "Bye"}};
}

ChatTemplate make(ChatFamily f, ChatTemplateOptions o = {}) {
  return ChatTemplate(f, std::move(o));
}

// Every split point of the conversation satisfies the incremental property, with and without a
// generation prompt, and a reply closes like a rendered assistant turn.
void check_properties(const ChatTemplate& t, const std::vector<ChatMessage>& msgs) {
  for (size_t split = 0; split <= msgs.size(); ++split) {
    const std::span<const ChatMessage> all(msgs), head = all.subspan(0, split),
                                                  tail = all.subspan(split);
    for (bool gen : {false, true}) {
      EXPECT_EQ(t.render(all, gen), t.render(head, false) + t.render_increment(head, tail, gen))
          << "split " << split << " gen " << gen;
    }
  }
  for (size_t i = 1; i < msgs.size(); ++i) {
    if (msgs[i].role != "assistant") continue;
    const std::span<const ChatMessage> all(msgs);
    EXPECT_EQ(t.render(all.subspan(0, i), true) + msgs[i].content + t.end_of_reply(),
              t.render(all.subspan(0, i + 1), false));
  }
}

}  // namespace

TEST(ChatTemplate, ChatMLWithDefaultSystem) {
  const auto t = make(ChatFamily::ChatML, {.default_system = "You are nice."});
  const std::vector<ChatMessage> msgs = {{"user", "Hi"}};
  EXPECT_EQ(t.render(msgs),
            "<|im_start|>system\nYou are nice.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  const std::vector<ChatMessage> with_system = {{"system", "S"}, {"user", "Hi"}};
  EXPECT_EQ(t.render(with_system, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(t.render({}, true), "<|im_start|>assistant\n");
  check_properties(t, conversation());
  auto no_system = conversation();
  no_system.erase(no_system.begin());
  check_properties(t, no_system);
}

TEST(ChatTemplate, Qwen3ThinkingOffByDefault) {
  auto t = make(ChatFamily::ChatML, {.thinking_model = true});
  const std::vector<ChatMessage> msgs = {{"user", "2+2?"}};
  EXPECT_EQ(t.render(msgs),
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  const std::vector<ChatMessage> replied = {{"user", "2+2?"}, {"assistant", "4"}};
  EXPECT_EQ(t.render(replied, false),
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</"
            "think>\n\n4<|im_end|>\n");
  check_properties(t, conversation());
  t.set_enable_thinking(true);
  EXPECT_EQ(t.render(msgs), "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
  check_properties(t, conversation());
}

TEST(ChatTemplate, GemmaFoldsSystemIntoFirstUserTurn) {
  const auto t = make(ChatFamily::Gemma);
  const std::vector<ChatMessage> msgs = {
      {"system", "Be brief."}, {"user", "  Hi!\n"}, {"assistant", "Hello."}};
  EXPECT_EQ(t.render(msgs, true),
            "<start_of_turn>user\nBe "
            "brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
            "<start_of_turn>model\n");
  EXPECT_EQ(t.render(std::span(msgs).subspan(0, 1), false), "");
  check_properties(t, conversation());
}

TEST(ChatTemplate, Llama3) {
  const auto t = make(ChatFamily::Llama3);
  const std::vector<ChatMessage> msgs = {{"system", "S"}, {"user", " U "}};
  EXPECT_EQ(t.render(msgs),
            "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_"
            "header_id|>"
            "\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  check_properties(t, conversation());
}

TEST(ChatTemplate, DetectsFamiliesAndDefaultSystem) {
  const auto vocab_of = [](std::vector<std::pair<std::string, TokenType>> specials) {
    return Tokenizer::from_data(synth::bpe_vocab({.specials = std::move(specials)}));
  };
  const auto chatml_vocab =
      vocab_of({{"<|im_start|>", TokenType::Control}, {"<|im_end|>", TokenType::Control}});
  const auto smol = ChatTemplate::detect(kSmolTemplate, "llama", chatml_vocab.vocab());
  EXPECT_EQ(smol.family(), ChatFamily::ChatML);
  EXPECT_EQ(smol.options().default_system,
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  EXPECT_FALSE(smol.options().thinking_model);
  EXPECT_EQ(ChatTemplate::detect("", "gemma3", chatml_vocab.vocab()).family(), ChatFamily::Gemma);
  EXPECT_TRUE(ChatTemplate::detect("", "qwen3", chatml_vocab.vocab()).options().thinking_model);
  EXPECT_EQ(ChatTemplate::detect("", "qwen2", chatml_vocab.vocab()).family(), ChatFamily::ChatML);
  EXPECT_EQ(ChatTemplate::detect("", "llama", chatml_vocab.vocab()).family(), ChatFamily::ChatML);
  const auto llama3_vocab = vocab_of({{"<|start_header_id|>", TokenType::Control}});
  EXPECT_EQ(ChatTemplate::detect("", "llama", llama3_vocab.vocab()).family(), ChatFamily::Llama3);
  EXPECT_EQ(ChatTemplate::detect("{{ '<|start_header_id|>' }}", "x", chatml_vocab.vocab()).family(),
            ChatFamily::Llama3);
  EXPECT_EQ(ChatTemplate::detect("{{ '<start_of_turn>' }}", "x", chatml_vocab.vocab()).family(),
            ChatFamily::Gemma);
  EXPECT_TRUE(ChatTemplate::detect("<|im_start|>{% if enable_thinking %}<think>{% endif %}",
                                   "qwen3", chatml_vocab.vocab())
                  .options()
                  .thinking_model);
  EXPECT_THROW(ChatTemplate::detect("[INST] {{ x }} [/INST]", "llama", chatml_vocab.vocab()),
               duet::Error);
  const auto plain_vocab = vocab_of({});
  EXPECT_THROW(ChatTemplate::detect("", "mystery", plain_vocab.vocab()), duet::Error);
}

TEST(ChatTemplate, DefaultSystemFromQwenStyleTemplates) {
  EXPECT_EQ(chatml_default_system(
                "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + "
                "messages[0]['content'] + '<|im_end|>\n' }}{%- else %}{{- "
                "'<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a "
                "helpful assistant.<|im_end|>\n' }}{%- endif %}"),
            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  EXPECT_EQ(chatml_default_system(
                "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}"),
            "");
  EXPECT_EQ(chatml_default_system("{{ '<|im_start|>system\\nHi there<|im_end|>\\n' }}"),
            "Hi there");
}

TEST(ChatTemplate, StopTokens) {
  const auto tok =
      Tokenizer::from_data(synth::bpe_vocab({.specials = {{"<|im_start|>", TokenType::Control},
                                                          {"<|im_end|>", TokenType::Control},
                                                          {"<|endoftext|>", TokenType::Control}}}));
  const auto t = make(ChatFamily::ChatML);
  const auto stops = t.stop_tokens(tok.vocab());
  EXPECT_NE(std::find(stops.begin(), stops.end(), tok.find_token("<|im_end|>")), stops.end());
  EXPECT_NE(std::find(stops.begin(), stops.end(), tok.find_token("<|endoftext|>")), stops.end());
  EXPECT_EQ(make(ChatFamily::Gemma).end_of_reply(), "<end_of_turn>\n");
}
