// Token ids back to text (see tokenizer.hpp): per-token pieces (byte-level BPE text mapped back
// to bytes, SPM's U+2581 back to spaces, <0xNN> to its byte) and whole-sequence decoding with
// llama.cpp's leading-space and clean-up rules. Must never return text for control tokens unless
// asked to.
#include <fmt/format.h>

#include "text/byte_unicode.hpp"
#include "text/tokenizer_state.hpp"
#include "text/unicode.hpp"

namespace duet::text {
namespace {

constexpr uint16_t kAttrSpecial = kAttrControl | kAttrUnknown;

std::string unescape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 3;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string byte_level_to_bytes(const std::string& text) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t start = at;
    const uint32_t cp = utf8_decode_one(text, at);
    if (auto b = unicode_to_byte(cp)) {
      out += static_cast<char>(*b);
    } else {
      out += "[UNK_BYTE_0x";
      for (size_t i = start; i < at; ++i)
        out += fmt::format("{:02x}", static_cast<uint8_t>(text[i]));
      out += text + "]";
    }
  }
  return out;
}

uint8_t byte_of_token_text(const std::string& text) {
  // "<0xNN>"
  return static_cast<uint8_t>(std::stoi(text.substr(3, 2), nullptr, 16));
}

}  // namespace

std::string render_piece(const Vocab& vocab, Token t) {
  const uint16_t attr = vocab.attr(t);
  const std::string& text = vocab.text(t);
  if (attr & (kAttrSpecial | kAttrUserDefined)) return text;
  if (attr & kAttrNormal) {
    return vocab.kind() == VocabKind::Spm ? unescape_spaces(text) : byte_level_to_bytes(text);
  }
  if ((attr & kAttrByte) && text.size() == 6 && text.starts_with("<0x")) {
    return std::string(1, static_cast<char>(byte_of_token_text(text)));
  }
  return {};
}

const std::string& Tokenizer::token_to_piece(Token t, bool special) const {
  const State& s = *state_;
  if (!s.vocab.valid(t)) return s.empty;
  if (!special && (s.vocab.attr(t) & kAttrSpecial)) return s.empty;
  return s.pieces[static_cast<size_t>(t)];
}

std::string Tokenizer::decode(std::span<const Token> tokens, DecodeOptions options) const {
  const Vocab& v = state_->vocab;
  bool strip_space = v.add_space_prefix();
  if (options.remove_special && v.add_bos() && !tokens.empty() &&
      tokens.front() == v.special().bos) {
    strip_space = false;
    tokens = tokens.subspan(1);
  }
  if (options.remove_special && v.add_eos() && !tokens.empty() &&
      tokens.back() == v.special().eos) {
    tokens = tokens.subspan(0, tokens.size() - 1);
  }
  std::string out;
  for (Token t : tokens) {
    std::string_view piece = token_to_piece(t, options.unparse_special);
    if (strip_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    strip_space = false;
    out += piece;
  }
  if (v.clean_spaces()) clean_up_spaces(out);
  return out;
}

void clean_up_spaces(std::string& t) {
  // Three in-place passes with a read index i and a write index w <= i, as llama.cpp runs them;
  // reads of t[i - 1] therefore see the text as the pass found it (or the NUL pass 2 leaves).
  size_t n = t.size();
  size_t w = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {  // " ?", " !", " .", " ,": drop the space
    const char x = t[i];
    if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --w;
    t[w++] = x;
  }
  n = w;
  w = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {  // " ' ": drop both spaces around a lone apostrophe
    const char x = t[i];
    if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
      --w;
      t[++i] = '\0';
    }
    t[w++] = x;
  }
  n = w;
  w = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {  // " 's", " 'm", " 're", " 've": attach to the word before
    const char x = t[i];
    if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char a = t[i + 1];
      if (a == 's' || a == 'm') {
        --w;
      } else if (a != 't' && a != 'd' && i + 2 < n) {
        const char b = t[i + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e')) --w;
      }
    }
    t[w++] = x;
  }
  t.resize(w);
}

}  // namespace duet::text
