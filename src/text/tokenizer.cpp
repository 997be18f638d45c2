// Tokenizer construction and encoding (see tokenizer.hpp): special-token splitting, then BPE or
// SPM on each plain fragment, with BOS/EOS as the model asks. Must never modify the shared state.
#include "text/tokenizer.hpp"

#include "core/error.hpp"
#include "text/tokenizer_state.hpp"

namespace duet::text {

Tokenizer::State::State(VocabData data) : vocab(std::move(data)), splitter(vocab) {
  if (vocab.kind() == VocabKind::Bpe) {
    bpe = std::make_unique<BpeEncoder>(vocab);
  } else {
    spm = std::make_unique<SpmEncoder>(vocab);
  }
  pieces.reserve(vocab.size());
  for (size_t t = 0; t < vocab.size(); ++t)
    pieces.push_back(render_piece(vocab, static_cast<Token>(t)));
}

Tokenizer Tokenizer::from_data(VocabData data) {
  return Tokenizer(std::make_shared<const State>(std::move(data)));
}

const Vocab& Tokenizer::vocab() const {
  return state_->vocab;
}

bool Tokenizer::is_control(Token t) const {
  return vocab().valid(t) && (vocab().attr(t) & (kAttrControl | kAttrUnknown));
}

std::vector<Token> Tokenizer::encode(std::string_view text, EncodeOptions options) const {
  std::vector<Token> out;
  encode(text, options, out);
  return out;
}

void Tokenizer::encode(std::string_view text, EncodeOptions options,
                       std::vector<Token>& out) const {
  const State& s = *state_;
  const Vocab& v = s.vocab;
  std::vector<Fragment> fragments;
  s.splitter.split(text, options.parse_special, fragments);
  if (options.add_special && v.add_bos()) out.push_back(v.special().bos);
  bool prev_special = true;  // SPM: a space prefix goes before text that starts a segment
  for (const Fragment& f : fragments) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    const std::string_view piece = text.substr(f.begin, f.end - f.begin);
    if (s.bpe) {
      s.bpe->encode(piece, out);
    } else {
      s.spm->encode(piece, v.add_space_prefix() && prev_special, out);
    }
    prev_special = false;
  }
  if (options.add_special && v.add_eos()) out.push_back(v.special().eos);
}

}  // namespace duet::text
