// Byte-level BPE (GPT-2 / Llama 3 / Qwen2 / SmolLM2): pre-tokenize into words, map each word's
// bytes to their byte-level symbols, then apply merges lowest rank first (ties: leftmost).
// Must never allocate per merge step; scratch buffers live in the caller-owned BpeScratch.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/pretokenizer.hpp"
#include "text/vocab.hpp"

namespace duet::text {

struct BpeScratch;

class BpeEncoder {
 public:
  explicit BpeEncoder(const Vocab& vocab);  // throws duet::Error for an unsupported pre-tokenizer
  ~BpeEncoder();
  BpeEncoder(const BpeEncoder&) = delete;
  BpeEncoder& operator=(const BpeEncoder&) = delete;
  // Appends the tokens of plain text (no special-token handling) to out.
  void encode(std::string_view text, std::vector<Token>& out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // piece id of the merged text
  };
  int32_t piece_id(std::string_view text);  // builder only: find or add
  void encode_word(BpeScratch& s, std::vector<Token>& out) const;
  void emit_piece(int32_t piece, std::vector<Token>& out) const;

  const Vocab* vocab_;
  PreInfo pre_;
  // Pieces: every token text (id = token id) plus merge texts that are not tokens (id >= size).
  std::deque<std::string> extra_pieces_;  // deque: views into it stay valid
  std::unordered_map<std::string_view, int32_t> extra_index_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left piece << 32 | right piece)
  int32_t byte_piece_[256];
};

}  // namespace duet::text
