// Duet's text tokenizer: byte-level BPE or SentencePiece-style, built from a GGUF file's
// tokenizer.ggml.* metadata, producing the same token ids as llama.cpp. Cheap to copy (shares one
// immutable state) and safe to use from several threads at once. Must never mutate shared state
// while encoding or decoding.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/vocab.hpp"

namespace duet::rt {
class GgufFile;
}

namespace duet::text {

struct EncodeOptions {
  bool add_special = true;     // add BOS/EOS where the model asks for them (add_bos_token, ...)
  bool parse_special = false;  // recognise control tokens such as <|im_start|> written in the text
};

struct DecodeOptions {
  bool remove_special = false;   // drop a leading BOS / trailing EOS the model adds itself
  bool unparse_special = false;  // render control tokens as their text (else they vanish)
};

class Tokenizer {
 public:
  static Tokenizer from_gguf(const rt::GgufFile& gguf);  // throws duet::Error
  static Tokenizer from_data(VocabData data);            // throws duet::Error

  std::vector<Token> encode(std::string_view text, EncodeOptions options = {}) const;
  // Appends to out instead of returning a new vector.
  void encode(std::string_view text, EncodeOptions options, std::vector<Token>& out) const;

  // One token's bytes (may be part of a UTF-8 character). Control/unknown tokens are empty
  // unless `special`.
  const std::string& token_to_piece(Token token, bool special = false) const;
  // Whole-sequence text, as llama.cpp's llama_detokenize (leading-space strip, clean-up rules).
  std::string decode(std::span<const Token> tokens, DecodeOptions options = {}) const;

  const Vocab& vocab() const;
  size_t vocab_size() const { return vocab().size(); }
  Token bos() const { return vocab().special().bos; }
  Token eos() const { return vocab().special().eos; }
  Token eot() const { return vocab().special().eot; }
  Token pad() const { return vocab().special().pad; }
  Token unk() const { return vocab().special().unk; }
  bool add_bos() const { return vocab().add_bos(); }
  bool is_eog(Token t) const { return vocab().is_eog(t); }
  bool is_control(Token t) const;  // control or unknown (never rendered as text by default)
  // Exact vocabulary lookup; kNoToken when no token has this text.
  Token find_token(std::string_view text) const { return vocab().find(text); }

  struct State;

 private:
  explicit Tokenizer(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace duet::text
