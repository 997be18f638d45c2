// Unit tests for the SentencePiece-style tokenizer on a hand-built vocabulary: merges by score,
// U+2581 for spaces, space prefix, <0xNN> byte fallback, special tokens, decoding.
// Must never need a model file.
#include <gtest/gtest.h>

#include "synthetic_vocab.hpp"

using namespace duet::text;
using namespace duet::text::synth;

namespace {

const std::vector<std::pair<std::string, float>> kPieces = {{"\xE2\x96\x81", -1},
                                                            {"h", -5},
                                                            {"e", -5},
                                                            {"l", -5},
                                                            {"o", -5},
                                                            {"he", -3},
                                                            {"ll", -3},
                                                            {"hell", -2},
                                                            {"hello", -1.5f},
                                                            {"\xE2\x96\x81hello", -1},
                                                            {"a", -5},
                                                            {"b", -5},
                                                            {"c", -5},
                                                            {"ab", -2},
                                                            {"bc", -1}};
constexpr Token kSpace = kSpmFirstPiece, kA = kSpmFirstPiece + 10, kB = kSpmFirstPiece + 11,
                kHello = kSpmFirstPiece + 8, kSpaceHello = kSpmFirstPiece + 9,
                kBc = kSpmFirstPiece + 14;
constexpr Token kByte0 = 3;
const std::vector<std::pair<std::string, TokenType>> kSpecials = {
    {"<start_of_turn>", TokenType::Control}, {"\n", TokenType::UserDefined}};
constexpr Token kStartOfTurn = kSpmFirstPiece + 15, kNewline = kSpmFirstPiece + 16;

}  // namespace

TEST(TokenizerSpm, MergesHighestScoreFirst) {
  const auto tok = Tokenizer::from_data(spm_vocab(kPieces));
  EXPECT_EQ(tok.encode("abc", {.add_special = false}), (std::vector<Token>{kA, kBc}));
  EXPECT_EQ(tok.encode(" hello", {.add_special = false}), (std::vector<Token>{kSpaceHello}));
  EXPECT_EQ(tok.encode("hello", {.add_special = false}), (std::vector<Token>{kHello}));
}

TEST(TokenizerSpm, BosByDefaultAndSpacePrefixWhenAsked) {
  auto data = spm_vocab(kPieces);
  data.add_space_prefix = 1;
  const auto tok = Tokenizer::from_data(std::move(data));
  const auto ids = tok.encode("hello");
  EXPECT_EQ(ids, (std::vector<Token>{1, kSpaceHello}));
  // As llama.cpp: the prefix space is dropped from the first token only, and BOS is that token.
  EXPECT_EQ(tok.decode(ids), " hello");
  EXPECT_EQ(tok.decode(std::vector<Token>{kSpaceHello}), "hello");
  const auto tok2 = Tokenizer::from_data(spm_vocab(kPieces));
  EXPECT_EQ(tok2.decode(std::vector<Token>{kSpaceHello}), " hello");
}

TEST(TokenizerSpm, ByteFallbackForUnknownCharacters) {
  const auto tok = Tokenizer::from_data(spm_vocab(kPieces));
  const auto ids = tok.encode("a\xE2\x82\xAC b", {.add_special = false});  // a€ b
  EXPECT_EQ(ids, (std::vector<Token>{kA, kByte0 + 0xE2, kByte0 + 0x82, kByte0 + 0xAC, kSpace, kB}));
  EXPECT_EQ(tok.decode(ids), "a\xE2\x82\xAC b");
}

TEST(TokenizerSpm, SpecialTokens) {
  const auto tok = Tokenizer::from_data(spm_vocab(kPieces, kSpecials));
  EXPECT_EQ(tok.encode("<start_of_turn>a\nb", {.add_special = false, .parse_special = true}),
            (std::vector<Token>{kStartOfTurn, kA, kNewline, kB}));
  const auto plain = tok.encode("<start_of_turn>a\nb", {.add_special = false});
  EXPECT_EQ(std::count(plain.begin(), plain.end(), kStartOfTurn), 0);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), kNewline), 1);  // user-defined: always
  EXPECT_EQ(tok.decode(plain), "<start_of_turn>a\nb");
  EXPECT_EQ(tok.token_to_piece(kStartOfTurn), "");
  EXPECT_EQ(tok.token_to_piece(kStartOfTurn, true), "<start_of_turn>");
  EXPECT_EQ(tok.token_to_piece(kByte0 + 'A'), "A");
}

TEST(TokenizerSpm, LongInputIsFast) {
  const auto tok = Tokenizer::from_data(spm_vocab(kPieces));
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "hello abc ";
  const auto ids = tok.encode(text, {.add_special = false});
  EXPECT_EQ(tok.decode(ids), text);
}
