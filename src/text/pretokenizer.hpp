// Byte-level BPE pre-tokenizers: split text (as code points) into the words BPE merges within,
// following the splitting regex each model family declares (GPT-2, StarCoder/SmolLM, Llama 3,
// Qwen2), implemented as hand-written scanners over Unicode classes. Must never use std::regex
// and must stay linear in the input length.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace duet::text {

enum class PreKind {
  Gpt2,         // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Digits1Gpt2,  // every \p{N} alone first, then Gpt2 inside the rest (starcoder, smollm, ...)
  Llama3,       // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
                // ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  Qwen2,        // as Llama3 but \p{N} (one digit per word)
};

// What a tokenizer.ggml.pre name means for a BPE vocabulary.
struct PreInfo {
  PreKind kind = PreKind::Gpt2;
  bool ignore_merges = false;  // a word that is itself a token is emitted whole
  bool clean_spaces = true;    // decode() removes spaces before punctuation
  bool add_bos = false;        // default when GGUF has no add_bos_token
};

// Throws duet::Error naming the value when the pre-tokenizer is not supported.
PreInfo pre_info(std::string_view pre_name);

// Splits cps into words, appending each word's end offset (in code points) to word_ends.
void pre_tokenize(PreKind kind, std::span<const uint32_t> cps, std::vector<uint32_t>& word_ends);

}  // namespace duet::text
