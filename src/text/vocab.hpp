// A tokenizer vocabulary as GGUF describes it: token texts, scores and types, merges, special ids
// and the model's flags (add BOS, space prefix, ...), plus the derived attributes llama.cpp
// computes (EOG set, unused tokens). Immutable once built. Must never depend on a model file:
// GGUF reading lives in vocab_gguf.cpp so tests can build vocabularies by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duet::text {

using Token = int32_t;
inline constexpr Token kNoToken = -1;

// Token attributes (bit flags, same meaning as llama.cpp's llama_token_attr).
enum TokenAttr : uint16_t {
  kAttrUnknown = 1 << 0,
  kAttrUnused = 1 << 1,
  kAttrNormal = 1 << 2,
  kAttrControl = 1 << 3,
  kAttrUserDefined = 1 << 4,
  kAttrByte = 1 << 5,
};

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6
};

enum class VocabKind { Bpe, Spm };

// Everything needed to build a Vocab, as read from GGUF (or written by a test).
struct VocabData {
  VocabKind kind = VocabKind::Bpe;
  std::string pre;  // tokenizer.ggml.pre ("" when absent)
  std::vector<std::string> tokens;
  std::vector<float> scores;        // empty: all 0
  std::vector<int32_t> types;       // empty: all Normal
  std::vector<std::string> merges;  // BPE only: "left right", rank = index
  // Special ids from metadata; kNoToken when absent (then the kind's defaults apply).
  Token bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
        sep = kNoToken, pad = kNoToken;
  // Flags from metadata; -1 when absent (then the kind's/pre's defaults apply).
  int add_bos = -1, add_eos = -1, add_space_prefix = -1;
};

struct SpecialIds {
  Token bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
        sep = kNoToken, pad = kNoToken;
};

class Vocab {
 public:
  explicit Vocab(VocabData data);  // throws duet::Error on inconsistent data
  Vocab(const Vocab&) = delete;    // the lookup map points into this object's strings
  Vocab& operator=(const Vocab&) = delete;

  VocabKind kind() const { return kind_; }
  const std::string& pre() const { return pre_; }
  size_t size() const { return texts_.size(); }
  bool valid(Token t) const { return t >= 0 && static_cast<size_t>(t) < texts_.size(); }
  const std::string& text(Token t) const { return texts_[static_cast<size_t>(t)]; }
  float score(Token t) const { return scores_.empty() ? 0.0f : scores_[static_cast<size_t>(t)]; }
  uint16_t attr(Token t) const { return attrs_[static_cast<size_t>(t)]; }
  // Exact lookup of a token's text; kNoToken when absent.
  Token find(std::string_view text) const {
    auto it = index_.find(text);
    return it == index_.end() ? kNoToken : it->second;
  }

  const SpecialIds& special() const { return special_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  bool escape_whitespace() const { return kind_ == VocabKind::Spm; }
  bool clean_spaces() const { return clean_spaces_; }
  const std::vector<Token>& eog() const { return eog_; }
  bool is_eog(Token t) const;
  // Tokens the special-token splitter looks for (control, user-defined, unknown).
  const std::vector<Token>& special_tokens() const { return special_tokens_; }
  const std::vector<std::string>& merges() const { return merges_; }

 private:
  void derive_attributes();
  VocabKind kind_;
  std::string pre_;
  std::vector<std::string> texts_;
  std::vector<float> scores_;
  std::vector<uint16_t> attrs_;
  std::vector<std::string> merges_;
  std::unordered_map<std::string_view, Token> index_;
  SpecialIds special_;
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false, clean_spaces_ = false;
  std::vector<Token> eog_;
  std::vector<Token> special_tokens_;
};

}  // namespace duet::text
