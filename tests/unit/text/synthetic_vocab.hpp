// Small hand-built vocabularies for the tokenizer unit tests (no model file needed): a byte-level
// BPE one and a SentencePiece-style one. Must never depend on a real model's ids.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "text/byte_unicode.hpp"
#include "text/tokenizer.hpp"
#include "text/unicode.hpp"

namespace duet::text::synth {

// Byte-level text of a UTF-8 string (each byte as its GPT-2 stand-in code point).
inline std::string byte_level(std::string_view s) {
  std::string out;
  for (char c : s) utf8_append(out, byte_to_unicode(static_cast<uint8_t>(c)));
  return out;
}

struct BpeSpec {
  std::string pre = "gpt2";
  std::vector<std::pair<std::string, std::string>> merges;  // plain text parts, rank order
  std::vector<std::pair<std::string, TokenType>> specials;  // appended after the merges' tokens
};

// Tokens: the 256 byte symbols (ids 0..255, in byte order), then each merge's result in merge
// order, then the specials.
inline VocabData bpe_vocab(const BpeSpec& spec) {
  VocabData d;
  d.kind = VocabKind::Bpe;
  d.pre = spec.pre;
  for (int b = 0; b < 256; ++b)
    d.tokens.push_back(utf8_encode(byte_to_unicode(static_cast<uint8_t>(b))));
  for (const auto& [l, r] : spec.merges) {
    d.merges.push_back(byte_level(l) + " " + byte_level(r));
    d.tokens.push_back(byte_level(l + r));
  }
  d.types.assign(d.tokens.size(), static_cast<int32_t>(TokenType::Normal));
  for (const auto& [text, type] : spec.specials) {
    d.tokens.push_back(text);
    d.types.push_back(static_cast<int32_t>(type));
  }
  return d;
}

// Ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then `pieces` (text, score) in order,
// then `specials`.
inline VocabData spm_vocab(const std::vector<std::pair<std::string, float>>& pieces,
                           const std::vector<std::pair<std::string, TokenType>>& specials = {}) {
  VocabData d;
  d.kind = VocabKind::Spm;
  const auto add = [&](std::string text, float score, TokenType type) {
    d.tokens.push_back(std::move(text));
    d.scores.push_back(score);
    d.types.push_back(static_cast<int32_t>(type));
  };
  add("<unk>", 0, TokenType::Unknown);
  add("<s>", 0, TokenType::Control);
  add("</s>", 0, TokenType::Control);
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b)
    add(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", 0, TokenType::Byte);
  for (const auto& [text, score] : pieces) add(text, score, TokenType::Normal);
  for (const auto& [text, type] : specials) add(text, -1000, type);
  d.add_space_prefix = 0;
  return d;
}

inline constexpr Token kSpmFirstPiece = 259;

}  // namespace duet::text::synth
