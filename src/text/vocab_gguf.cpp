// Reads a tokenizer from GGUF metadata (tokenizer.ggml.*) into VocabData and builds a Tokenizer.
// Must never accept a tokenizer model it cannot reproduce exactly: unknown kinds are an error.
#include "core/error.hpp"
#include "runtime/gguf.hpp"
#include "text/tokenizer.hpp"

namespace duet::text {
namespace {

Token optional_id(const rt::GgufFile& f, std::string_view key) {
  if (!f.has(key)) return kNoToken;
  const int64_t v = f.get_int(key);
  return (v < 0 || v > INT32_MAX) ? kNoToken : static_cast<Token>(v);
}

int optional_flag(const rt::GgufFile& f, std::string_view key) {
  if (!f.has(key)) return -1;
  return f.get_bool(key) ? 1 : 0;
}

VocabData read_vocab(const rt::GgufFile& f) {
  VocabData d;
  const std::string model = f.get_string("tokenizer.ggml.model");
  if (model == "gpt2") {
    d.kind = VocabKind::Bpe;
  } else if (model == "llama") {
    d.kind = VocabKind::Spm;
  } else {
    fail(
        "tokenizer.ggml.model '{}' is not supported (Duet reads 'gpt2' byte-level BPE and "
        "'llama' SentencePiece vocabularies)",
        model);
  }
  d.pre = f.get_string("tokenizer.ggml.pre", "");
  if (d.kind == VocabKind::Bpe && d.pre.empty()) d.pre = "default";
  d.tokens = f.get_array("tokenizer.ggml.tokens").strings;
  if (d.tokens.empty()) fail("tokenizer.ggml.tokens is missing or not an array of strings");
  if (f.has("tokenizer.ggml.scores")) {
    const auto& a = f.get_array("tokenizer.ggml.scores");
    if (!a.floats.empty()) {
      d.scores.assign(a.floats.begin(), a.floats.end());
    } else {
      d.scores.assign(a.ints.begin(), a.ints.end());
    }
  }
  if (f.has("tokenizer.ggml.token_type")) {
    const auto& a = f.get_array("tokenizer.ggml.token_type");
    d.types.assign(a.ints.begin(), a.ints.end());
  }
  if (d.kind == VocabKind::Bpe) {
    if (!f.has("tokenizer.ggml.merges")) fail("BPE tokenizer without tokenizer.ggml.merges");
    d.merges = f.get_array("tokenizer.ggml.merges").strings;
  }
  d.bos = optional_id(f, "tokenizer.ggml.bos_token_id");
  d.eos = optional_id(f, "tokenizer.ggml.eos_token_id");
  d.eot = optional_id(f, "tokenizer.ggml.eot_token_id");
  d.eom = optional_id(f, "tokenizer.ggml.eom_token_id");
  d.unk = optional_id(f, "tokenizer.ggml.unknown_token_id");
  d.sep = optional_id(f, "tokenizer.ggml.seperator_token_id");
  d.pad = optional_id(f, "tokenizer.ggml.padding_token_id");
  d.add_bos = optional_flag(f, "tokenizer.ggml.add_bos_token");
  d.add_eos = optional_flag(f, "tokenizer.ggml.add_eos_token");
  d.add_space_prefix = optional_flag(f, "tokenizer.ggml.add_space_prefix");
  return d;
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const rt::GgufFile& gguf) {
  return with_context(fmt::format("tokenizer of {}", gguf.name()),
                      [&] { return from_data(read_vocab(gguf)); });
}

}  // namespace duet::text
