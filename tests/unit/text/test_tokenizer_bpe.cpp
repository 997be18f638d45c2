// Unit tests for the byte-level BPE tokenizer on a hand-built vocabulary: merge order by rank,
// byte fallback, special-token splitting (priority, parse_special), BOS, decoding.
// Must never need a model file.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "synthetic_vocab.hpp"

using namespace duet::text;
using namespace duet::text::synth;

namespace {

BpeSpec base_spec() {
  BpeSpec s;
  s.merges = {{"h", "e"}, {"l", "l"},    {"he", "ll"},   {"hell", "o"}, {" ", "w"}, {" w", "o"},
              {"r", "l"}, {" wo", "rl"}, {" worl", "d"}, {"a", "b"},    {"b", "c"}};
  s.specials = {{"<|im_start|>", TokenType::Control}, {"<|im_end|>", TokenType::Control},
                {"<tool>", TokenType::UserDefined},   {"<|im_start|>user", TokenType::Control},
                {"QRS", TokenType::UserDefined},      {"PQ", TokenType::UserDefined}};
  return s;
}
// Ids from bpe_vocab's layout.
constexpr Token kHello = 259, kWorld = 264, kAb = 265, kBc = 266;
constexpr Token kImStart = 267, kImEnd = 268, kTool = 269, kImStartUser = 270, kQrs = 271;

}  // namespace

TEST(TokenizerBpe, MergesByRank) {
  const auto tok = Tokenizer::from_data(bpe_vocab(base_spec()));
  EXPECT_EQ(tok.encode("hello world"), (std::vector<Token>{kHello, kWorld}));
  EXPECT_EQ(tok.encode("abc"), (std::vector<Token>{kAb, 'c'}));
  BpeSpec swapped = base_spec();
  std::swap(swapped.merges[9], swapped.merges[10]);  // "b c" now ranks before "a b"
  const auto tok2 = Tokenizer::from_data(bpe_vocab(swapped));
  const Token bc = tok2.find_token("bc");
  ASSERT_NE(bc, kNoToken);
  EXPECT_EQ(tok2.encode("abc"), (std::vector<Token>{'a', bc}));
}

TEST(TokenizerBpe, UnmergedBytesAreByteTokens) {
  const auto tok = Tokenizer::from_data(bpe_vocab(base_spec()));
  EXPECT_EQ(tok.encode("\xC3\xA9!"), (std::vector<Token>{0xC3, 0xA9, '!'}));
  EXPECT_EQ(tok.encode(" "), (std::vector<Token>{' '}));
  EXPECT_TRUE(tok.encode("").empty());
}

TEST(TokenizerBpe, SpecialTokensOnlyWhenParsingButUserDefinedAlways) {
  const auto tok = Tokenizer::from_data(bpe_vocab(base_spec()));
  const std::string text = "<|im_start|>hello<|im_end|>";
  EXPECT_EQ(tok.encode(text, {.parse_special = true}),
            (std::vector<Token>{kImStart, kHello, kImEnd}));
  const auto plain = tok.encode(text, {.parse_special = false});
  EXPECT_EQ(std::count(plain.begin(), plain.end(), kImStart), 0);
  EXPECT_EQ(tok.decode(plain), text);
  EXPECT_EQ(tok.encode("a<tool>b", {.parse_special = false}),
            (std::vector<Token>{'a', kTool, 'b'}));
}

TEST(TokenizerBpe, LongerSpecialTokensClaimFirst) {
  const auto tok = Tokenizer::from_data(bpe_vocab(base_spec()));
  EXPECT_EQ(tok.encode("<|im_start|>user", {.parse_special = true}),
            (std::vector<Token>{kImStartUser}));
  // "QRS" (longer) wins over the overlapping "PQ" even though "PQ" starts first.
  EXPECT_EQ(tok.encode("PQRS"), (std::vector<Token>{'P', kQrs}));
}

TEST(TokenizerBpe, IgnoreMergesTakesWholeWordTokens) {
  BpeSpec spec = base_spec();
  spec.specials.push_back({"xyz", TokenType::Normal});
  const Token xyz = 273;
  spec.pre = "gpt2";
  EXPECT_EQ(Tokenizer::from_data(bpe_vocab(spec)).encode("xyz"),
            (std::vector<Token>{'x', 'y', 'z'}));
  spec.pre = "llama-bpe";
  auto data = bpe_vocab(spec);
  data.add_bos = 0;
  EXPECT_EQ(Tokenizer::from_data(std::move(data)).encode("xyz"), (std::vector<Token>{xyz}));
}

TEST(TokenizerBpe, BosWhenTheModelAsksAndDecodeOptions) {
  auto data = bpe_vocab(base_spec());
  data.bos = kImStart;
  data.eos = kImEnd;
  data.add_bos = 1;
  const auto tok = Tokenizer::from_data(std::move(data));
  const auto ids = tok.encode("hello");
  EXPECT_EQ(ids, (std::vector<Token>{kImStart, kHello}));
  EXPECT_EQ(tok.encode("hello", {.add_special = false}), (std::vector<Token>{kHello}));
  EXPECT_EQ(tok.decode(ids), "hello");
  EXPECT_EQ(tok.decode(ids, {.unparse_special = true}), "<|im_start|>hello");
  EXPECT_EQ(tok.decode(ids, {.remove_special = true, .unparse_special = true}), "hello");
  EXPECT_TRUE(tok.is_eog(kImEnd));
  EXPECT_TRUE(tok.is_control(kImStart));
  EXPECT_FALSE(tok.is_control(kHello));
}

TEST(TokenizerBpe, RoundTripsArbitraryText) {
  const auto tok = Tokenizer::from_data(bpe_vocab(base_spec()));
  for (const std::string text :
       {"hello world", "  two  spaces ", "tab\tnew\nline", "caf\xC3\xA9 \xE6\x97\xA5",
        "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "It's 1234", "a<tool>b"}) {
    EXPECT_EQ(tok.decode(tok.encode(text)), text);
  }
}

TEST(TokenizerBpe, PiecesMapBytesBack) {
  const auto tok = Tokenizer::from_data(bpe_vocab(base_spec()));
  EXPECT_EQ(tok.token_to_piece(' '), " ");
  EXPECT_EQ(tok.token_to_piece(kWorld), " world");
  EXPECT_EQ(tok.token_to_piece(kImStart), "");
  EXPECT_EQ(tok.token_to_piece(kImStart, true), "<|im_start|>");
  EXPECT_EQ(tok.token_to_piece(kTool), "<tool>");
  EXPECT_EQ(tok.token_to_piece(99999), "");
}

TEST(TokenizerBpe, RejectsUnknownPreTokenizer) {
  BpeSpec spec = base_spec();
  spec.pre = "mystery";
  EXPECT_THROW(Tokenizer::from_data(bpe_vocab(spec)), duet::Error);
}
