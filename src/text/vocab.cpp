// Builds a Vocab from VocabData: the text index, attributes from token types, special ids with
// the tokenizer kind's defaults, and llama.cpp's derived rules (EOT/EOG detection by token text,
// "unused" control tokens). Must never keep a reference to the VocabData it was built from.
#include "text/vocab.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "text/pretokenizer.hpp"

namespace duet::text {
namespace {

uint16_t attr_from_type(int32_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::Normal:
      return kAttrNormal;
    case TokenType::Unknown:
      return kAttrUnknown;
    case TokenType::Control:
      return kAttrControl;
    case TokenType::UserDefined:
      return kAttrUserDefined;
    case TokenType::Unused:
      return kAttrUnused;
    case TokenType::Byte:
      return kAttrByte;
    default:
      return 0;
  }
}

// Texts that mark the end of a turn, in order of preference for the EOT id.
constexpr std::array<std::string_view, 10> kEotTexts = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",      "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<end_of_utterance>", "[EOT]"};
// Texts that end generation whenever they appear (llama.cpp's list, so token attributes match it;
// note "</s>" becomes control this way even where it is an HTML tag, as in Gemma 3).
constexpr std::array<std::string_view, 22> kEogTexts = {"<|eot_id|>",
                                                        "<|im_end|>",
                                                        "<|end|>",
                                                        "<|return|>",
                                                        "<|call|>",
                                                        "<|flush|>",
                                                        "<|calls|>",
                                                        "<end_of_turn>",
                                                        "<|endoftext|>",
                                                        "</s>",
                                                        "<|eom_id|>",
                                                        "<EOT>",
                                                        "_<EOT>",
                                                        "[EOT]",
                                                        "[EOS]",
                                                        "<|end_of_text|>",
                                                        "<end_of_utterance>",
                                                        "<eos>",
                                                        "<turn|>",
                                                        "<|tool_response>",
                                                        "<｜end▁of▁sentence｜>",
                                                        "[e~["};

}  // namespace

Vocab::Vocab(VocabData data)
    : kind_(data.kind),
      pre_(std::move(data.pre)),
      texts_(std::move(data.tokens)),
      scores_(std::move(data.scores)),
      merges_(std::move(data.merges)) {
  const size_t n = texts_.size();
  if (n == 0) fail("tokenizer vocabulary is empty");
  if (!scores_.empty() && scores_.size() < n)
    fail("tokenizer has {} scores for {} tokens", scores_.size(), n);
  if (!data.types.empty() && data.types.size() < n)
    fail("tokenizer has {} token types for {} tokens", data.types.size(), n);
  scores_.resize(scores_.empty() ? 0 : n);

  attrs_.resize(n, kAttrNormal);
  index_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (texts_[i].empty()) texts_[i] = "[EMPTY_" + std::to_string(i) + "]";
    if (!data.types.empty()) attrs_[i] = attr_from_type(data.types[i]);
  }
  for (size_t i = 0; i < n; ++i) index_[texts_[i]] = static_cast<Token>(i);  // later duplicates win

  // Kind defaults, then metadata.
  if (kind_ == VocabKind::Spm) {
    special_ = {.bos = 1, .eos = 2, .unk = 0};
    add_bos_ = true;
    add_space_prefix_ = true;
    clean_spaces_ = false;
  } else {
    special_ = {.bos = 11, .eos = 11};
    const PreInfo info = pre_info(pre_);
    add_bos_ = info.add_bos;
    clean_spaces_ = info.clean_spaces;
  }
  const auto pick = [&](Token& id, Token from_meta) {
    if (id != kNoToken && !valid(id)) id = kNoToken;  // default out of range: disabled
    if (from_meta != kNoToken && valid(from_meta)) id = from_meta;
  };
  pick(special_.bos, data.bos);
  pick(special_.eos, data.eos);
  pick(special_.eot, data.eot);
  pick(special_.eom, data.eom);
  pick(special_.unk, data.unk);
  pick(special_.sep, data.sep);
  pick(special_.pad, data.pad);
  if (data.add_bos >= 0) add_bos_ = data.add_bos != 0;
  if (data.add_eos >= 0) add_eos_ = data.add_eos != 0;
  if (data.add_space_prefix >= 0) add_space_prefix_ = data.add_space_prefix != 0;
  if (add_bos_ && special_.bos == kNoToken) fail("tokenizer asks for BOS but has no BOS token");
  if (add_eos_ && special_.eos == kNoToken) fail("tokenizer asks for EOS but has no EOS token");
  derive_attributes();
}

void Vocab::derive_attributes() {
  const auto mark_control = [&](Token t) { attrs_[static_cast<size_t>(t)] |= kAttrControl; };
  if (special_.eot == kNoToken) {
    for (std::string_view text : kEotTexts) {
      if (Token t = find(text); t != kNoToken) {
        special_.eot = t;
        break;
      }
    }
  }
  if (special_.eom == kNoToken) special_.eom = find("<|eom_id|>");
  if (special_.eot != kNoToken) mark_control(special_.eot);
  if (special_.eom != kNoToken) mark_control(special_.eom);

  // Control tokens named "unused..." are unused slots.
  for (size_t i = 0; i < texts_.size(); ++i) {
    if ((attrs_[i] & kAttrControl) && texts_[i].find("unused") != std::string::npos)
      attrs_[i] |= kAttrUnused;
  }

  for (std::string_view text : kEogTexts) {
    if (Token t = find(text); t != kNoToken) {
      eog_.push_back(t);
      mark_control(t);
    }
  }
  for (Token t : {special_.eos, special_.eot, special_.eom}) {
    if (t != kNoToken) eog_.push_back(t);
  }
  std::sort(eog_.begin(), eog_.end());
  eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());

  for (size_t i = 0; i < texts_.size(); ++i) {
    if (attrs_[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown))
      special_tokens_.push_back(static_cast<Token>(i));
  }
}

bool Vocab::is_eog(Token t) const {
  return std::binary_search(eog_.begin(), eog_.end(), t);
}

}  // namespace duet::text
