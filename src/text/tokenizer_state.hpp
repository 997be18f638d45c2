// The immutable state behind a Tokenizer (vocabulary, splitter, encoder, decoded piece cache).
// Internal to src/text; must never be exposed by a public header.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "text/bpe.hpp"
#include "text/special_split.hpp"
#include "text/spm.hpp"
#include "text/tokenizer.hpp"
#include "text/vocab.hpp"

namespace duet::text {

struct Tokenizer::State {
  explicit State(VocabData data);
  Vocab vocab;
  SpecialSplitter splitter;
  std::unique_ptr<BpeEncoder> bpe;  // exactly one of bpe / spm
  std::unique_ptr<SpmEncoder> spm;
  std::vector<std::string> pieces;  // token_to_piece(t, special = true)
  std::string empty;
};

// Decoded bytes of one token as llama.cpp's token_to_piece(special = true) gives them.
std::string render_piece(const Vocab& vocab, Token t);
// llama.cpp's clean_up_tokenization_spaces passes over decoded text.
void clean_up_spaces(std::string& text);

}  // namespace duet::text
