// Unit tests for the byte-level BPE pre-tokenizers: each family's split of representative text,
// worked out by hand from the family's regex.
// Must never need a model file.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "text/pretokenizer.hpp"
#include "text/unicode.hpp"

using namespace duet::text;

namespace {

std::vector<std::string> split(PreKind kind, const std::string& text) {
  std::vector<uint32_t> cps;
  utf8_decode(text, cps);
  std::vector<uint32_t> ends;
  pre_tokenize(kind, cps, ends);
  std::vector<std::string> words;
  uint32_t begin = 0;
  for (uint32_t end : ends) {
    std::string w;
    for (uint32_t i = begin; i < end; ++i) utf8_append(w, cps[i]);
    words.push_back(w);
    begin = end;
  }
  EXPECT_EQ(begin, cps.size());
  return words;
}

using Words = std::vector<std::string>;

}  // namespace

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(split(PreKind::Gpt2, "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split(PreKind::Gpt2, "It's 2024!"), (Words{"It", "'s", " 2024", "!"}));
  EXPECT_EQ(split(PreKind::Gpt2, "HELLO'S"), (Words{"HELLO", "'", "S"}));
  EXPECT_EQ(split(PreKind::Gpt2, "a  b"), (Words{"a", " ", " b"}));
  EXPECT_EQ(split(PreKind::Gpt2, "x   "), (Words{"x", "   "}));
  EXPECT_EQ(split(PreKind::Gpt2, "a\n\nb"), (Words{"a", "\n", "\n", "b"}));
  EXPECT_EQ(split(PreKind::Gpt2, " ...?! ok"), (Words{" ...?!", " ok"}));
  EXPECT_EQ(split(PreKind::Gpt2, "\tx"), (Words{"\t", "x"}));
  EXPECT_EQ(split(PreKind::Gpt2, "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC"),
            (Words{"caf\xC3\xA9", " \xE6\x97\xA5\xE6\x9C\xAC"}));
  EXPECT_EQ(split(PreKind::Gpt2, "hi \xF0\x9F\x98\x80\xF0\x9F\x98\x80"),
            (Words{"hi", " \xF0\x9F\x98\x80\xF0\x9F\x98\x80"}));
  EXPECT_EQ(split(PreKind::Gpt2, ""), Words{});
}

TEST(PreTokenizer, DigitsAloneThenGpt2ForSmolLM) {
  EXPECT_EQ(split(PreKind::Digits1Gpt2, "abc 123"), (Words{"abc", " ", "1", "2", "3"}));
  EXPECT_EQ(split(PreKind::Digits1Gpt2, "x12y"), (Words{"x", "1", "2", "y"}));
  EXPECT_EQ(split(PreKind::Digits1Gpt2, "\xD9\xA3\xD9\xA4"),
            (Words{"\xD9\xA3", "\xD9\xA4"}));  // ٣٤
  EXPECT_EQ(split(PreKind::Digits1Gpt2, "It's"), (Words{"It", "'s"}));
}

TEST(PreTokenizer, Llama3) {
  EXPECT_EQ(split(PreKind::Llama3, "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split(PreKind::Llama3, "HELLO'S"), (Words{"HELLO", "'S"}));
  EXPECT_EQ(split(PreKind::Llama3, "12345"), (Words{"123", "45"}));
  EXPECT_EQ(split(PreKind::Llama3, "a\n\nb"), (Words{"a", "\n\n", "b"}));
  EXPECT_EQ(split(PreKind::Llama3, "x  \n  y"), (Words{"x", "  \n", " ", " y"}));
  EXPECT_EQ(split(PreKind::Llama3, "...\n\nnext"), (Words{"...\n\n", "next"}));
  EXPECT_EQ(split(PreKind::Llama3, "!hello"), (Words{"!hello"}));
  EXPECT_EQ(split(PreKind::Llama3, "x "), (Words{"x", " "}));
}

TEST(PreTokenizer, Qwen2SplitsEveryDigit) {
  EXPECT_EQ(split(PreKind::Qwen2, "12345"), (Words{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(split(PreKind::Qwen2, "abc123 def"), (Words{"abc", "1", "2", "3", " def"}));
  EXPECT_EQ(split(PreKind::Qwen2, "We'RE"), (Words{"We", "'RE"}));
}

TEST(PreTokenizer, NamesMapToFamilies) {
  EXPECT_EQ(pre_info("smollm").kind, PreKind::Digits1Gpt2);
  EXPECT_FALSE(pre_info("smollm").clean_spaces);
  EXPECT_EQ(pre_info("llama-bpe").kind, PreKind::Llama3);
  EXPECT_TRUE(pre_info("llama-bpe").ignore_merges);
  EXPECT_EQ(pre_info("qwen2").kind, PreKind::Qwen2);
  EXPECT_EQ(pre_info("gpt-2").kind, PreKind::Gpt2);
  EXPECT_THROW(pre_info("no-such-pre"), duet::Error);
}

TEST(PreTokenizer, LongInputIsLinear) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "word, 12 ";
  std::vector<uint32_t> cps;
  utf8_decode(text, cps);
  std::vector<uint32_t> ends;
  pre_tokenize(PreKind::Llama3, cps, ends);
  EXPECT_EQ(ends.back(), cps.size());
}
