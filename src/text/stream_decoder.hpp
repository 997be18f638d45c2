// Streaming detokenizer: turns generated tokens into text one token at a time, holding back the
// bytes of a UTF-8 character until all of them have arrived (byte tokens and byte-level BPE can
// split an emoji over several tokens). The concatenation of everything it emits equals
// Tokenizer::decode() of the same tokens, except llama.cpp's optional clean-up of spaces before
// punctuation (clean_spaces vocabularies). Must never emit part of a UTF-8 character.
#pragma once

#include <string>
#include <string_view>

#include "text/tokenizer.hpp"

namespace duet::text {

class StreamDecoder {
 public:
  // `special`: render control tokens as text (else they produce nothing).
  explicit StreamDecoder(const Tokenizer& tokenizer, bool special = false);

  // Adds one token; returns the text that became complete (valid until the next call).
  std::string_view push(Token token);
  // Returns whatever is still held (an unfinished or malformed sequence) and resets.
  std::string flush();
  // Forgets everything (start of a new reply).
  void reset();
  // Bytes held back waiting for the rest of a character.
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  bool special_;
  bool first_ = true;
  std::string pending_;
  std::string ready_;
};

}  // namespace duet::text
