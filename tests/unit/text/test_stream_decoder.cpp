// Unit tests for the streaming detokenizer: text per token, never half a UTF-8 character, and
// the stream's concatenation equals decode().
#include <gtest/gtest.h>

#include "synthetic_vocab.hpp"
#include "text/stream_decoder.hpp"

using namespace duet::text;
using namespace duet::text::synth;

namespace {

std::vector<std::string> stream(const Tokenizer& tok, const std::vector<Token>& ids) {
  StreamDecoder dec(tok);
  std::vector<std::string> out;
  for (Token t : ids) out.emplace_back(dec.push(t));
  const std::string rest = dec.flush();
  if (!rest.empty()) out.push_back(rest);
  return out;
}

}  // namespace

TEST(StreamDecoder, HoldsEmojiBytesUntilComplete) {
  const auto tok = Tokenizer::from_data(bpe_vocab({}));  // bytes only
  // 👍🏽 = F0 9F 91 8D  F0 9F 8F BD, one byte per token
  const std::string emoji = "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD";
  const auto ids = tok.encode("ok " + emoji);
  const auto parts = stream(tok, ids);
  ASSERT_EQ(parts.size(), ids.size());
  EXPECT_EQ(parts[0], "o");
  EXPECT_EQ(parts[1], "k");
  EXPECT_EQ(parts[2], " ");
  EXPECT_EQ(parts[3], "");
  EXPECT_EQ(parts[4], "");
  EXPECT_EQ(parts[5], "");
  EXPECT_EQ(parts[6], "\xF0\x9F\x91\x8D");
  EXPECT_EQ(parts[10], "\xF0\x9F\x8F\xBD");
  std::string joined;
  for (const auto& p : parts) joined += p;
  EXPECT_EQ(joined, tok.decode(ids));
}

TEST(StreamDecoder, ZwjSequenceSplitsOnlyBetweenCodePoints) {
  const auto tok = Tokenizer::from_data(spm_vocab({{"a", -1}}));
  const std::string family = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9";  // 👨 ZWJ 👩
  const auto ids = tok.encode(family, {.add_special = false});
  ASSERT_EQ(ids.size(), 11u);  // all byte fallback
  StreamDecoder dec(tok);
  std::string joined;
  for (Token t : ids) {
    const std::string_view part = dec.push(t);
    std::vector<uint32_t> cps;
    utf8_decode(part, cps);
    for (uint32_t cp : cps) EXPECT_NE(cp, kReplacementChar);
    joined += part;
  }
  EXPECT_EQ(dec.pending_bytes(), 0u);
  EXPECT_EQ(joined, family);
}

TEST(StreamDecoder, FlushReturnsUnfinishedBytesAndControlTokensAreSilent) {
  auto data = spm_vocab({{"a", -1}}, {{"<end_of_turn>", TokenType::Control}});
  const auto tok = Tokenizer::from_data(std::move(data));
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(3 + 0xE2), "");
  EXPECT_EQ(dec.pending_bytes(), 1u);
  EXPECT_EQ(dec.flush(), "\xE2");
  EXPECT_EQ(dec.push(kSpmFirstPiece + 1), "");  // control token
  StreamDecoder with_special(tok, true);
  EXPECT_EQ(with_special.push(kSpmFirstPiece + 1), "<end_of_turn>");
}
