// SentencePiece-style encoding as llama.cpp's "llama" (SPM) vocabularies need it (Llama 2,
// Gemma): spaces become U+2581, every UTF-8 character starts as a symbol, adjacent symbols whose
// concatenation is a token merge highest score first (ties: leftmost); leftovers fall back to
// <0xNN> byte tokens. Must never allocate per merge step.
#pragma once

#include <string_view>
#include <vector>

#include "text/vocab.hpp"

namespace duet::text {

class SpmEncoder {
 public:
  explicit SpmEncoder(const Vocab& vocab);
  // Appends the tokens of plain text; `space_prefix` prepends one space first.
  void encode(std::string_view text, bool space_prefix, std::vector<Token>& out) const;

 private:
  const Vocab* vocab_;
  Token byte_token_[256];  // <0xNN>, else the raw one-byte token, else unk
};

}  // namespace duet::text
