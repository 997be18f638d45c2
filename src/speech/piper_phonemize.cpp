// espeak-ng clause-by-clause phonemization for Piper voices, rebuilt for libespeak-ng 1.51, which
// lacks espeak_TextToPhonemesWithTerminator: each espeak_TextToPhonemes() call consumes one
// clause, and the clause's terminator is read back from the text it consumed (less the one
// character it reads ahead); the text reaching here is already normalized, so abbreviations and
// numbers no longer hold stray periods.
// Must never call libespeak-ng without holding lock_espeak_engine().
#include "speech/piper_phonemize.hpp"

#include <espeak-ng/speak_lib.h>

#include <array>

#include "core/error.hpp"
#include "speech/espeak_voice.hpp"
#include "text/unicode.hpp"

namespace duet {
namespace {

constexpr int kPhonemeModeIpa = 0x02;

enum class Terminator { None, Period, Question, Exclamation, Comma, Colon, Semicolon };

bool is_closing(char c) { return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}'; }

// The terminator of a clause espeak consumed: the last punctuation mark of the consumed text,
// looking past trailing spaces and closing quotes/brackets.
Terminator clause_terminator(std::string_view consumed) {
  size_t i = consumed.size();
  while (i > 0) {
    const char c = consumed[i - 1];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || is_closing(c)) {
      --i;
      continue;
    }
    break;
  }
  if (i == 0) return Terminator::None;
  switch (consumed[i - 1]) {
    case '.':
      // An ellipsis is a pause, not a sentence end (espeak gives it no terminator).
      if (i >= 2 && consumed[i - 2] == '.') return Terminator::None;
      return Terminator::Period;
    case '?': return Terminator::Question;
    case '!': return Terminator::Exclamation;
    case ',': return Terminator::Comma;
    case ':': return Terminator::Colon;
    case ';': return Terminator::Semicolon;
    default: return Terminator::None;
  }
}

// Removes espeak's "(en)" style language-switch flags.
std::string strip_language_flags(std::string_view phonemes) {
  std::string out;
  out.reserve(phonemes.size());
  for (size_t i = 0; i < phonemes.size(); ++i) {
    if (phonemes[i] == '(') {
      const size_t close = phonemes.find(')', i + 1);
      if (close != std::string_view::npos && close > i + 1) {
        i = close;
        continue;
      }
    }
    out.push_back(phonemes[i]);
  }
  return out;
}

void append_utf8_nfd(std::string_view utf8, std::u32string& out) {
  size_t offset = 0;
  while (offset < utf8.size()) append_nfd(text::utf8_decode_one(utf8, offset), out);
}

}  // namespace

void append_nfd(char32_t cp, std::u32string& out) {
  // Latin-1 letters U+00C0..U+00FF: base letter and combining mark ('\0' = no decomposition).
  static constexpr std::string_view kBase(
      "AAAAAA\0CEEEEIIII\0NOOOOO\0\0UUUUY\0\0aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y", 64);
  static constexpr std::array<char16_t, 64> kMark = {
      0x300, 0x301, 0x302, 0x303, 0x308, 0x30A, 0,     0x327, 0x300, 0x301, 0x302, 0x308, 0x300,
      0x301, 0x302, 0x308, 0,     0x303, 0x300, 0x301, 0x302, 0x303, 0x308, 0,     0,     0x300,
      0x301, 0x302, 0x308, 0x301, 0,     0,     0x300, 0x301, 0x302, 0x303, 0x308, 0x30A, 0,
      0x327, 0x300, 0x301, 0x302, 0x308, 0x300, 0x301, 0x302, 0x308, 0,     0x303, 0x300, 0x301,
      0x302, 0x303, 0x308, 0,     0,     0x300, 0x301, 0x302, 0x308, 0x301, 0,     0x308};
  if (cp >= 0xC0 && cp <= 0xFF) {
    const size_t k = cp - 0xC0;
    if (k < kBase.size() && kBase[k] != '\0' && kMark[k] != 0) {
      out.push_back(static_cast<char32_t>(kBase[k]));
      out.push_back(static_cast<char32_t>(kMark[k]));
      return;
    }
  }
  out.push_back(cp);
}

std::vector<std::u32string> espeak_phonemize(std::string_view text,
                                             const std::string& espeak_voice) {
  std::vector<std::u32string> sentences;
  std::u32string current;
  const std::string input(text);  // NUL-terminated copy for espeak
  {
    const auto lock = lock_espeak_engine();
    if (espeak_SetVoiceByName(espeak_voice.c_str()) != EE_OK) {
      fail("espeak-ng has no voice '{}' (named by the Piper voice's config)", espeak_voice);
    }
    const void* ptr = input.c_str();
    while (ptr != nullptr) {
      const char* before = static_cast<const char*>(ptr);
      const char* phonemes = espeak_TextToPhonemes(&ptr, espeakCHARS_UTF8, kPhonemeModeIpa);
      const char* after =
          ptr != nullptr ? static_cast<const char*>(ptr) : input.c_str() + input.size();
      if (after < before || after > input.c_str() + input.size()) after = before;
      // espeak 1.51 reads one character ahead: the pointer it returns lies one character past
      // the clause, and that character is the first of the next clause.
      const char* clause_end = after;
      if (ptr != nullptr && clause_end > before) {
        do {
          --clause_end;
        } while (clause_end > before && (static_cast<unsigned char>(*clause_end) & 0xC0) == 0x80);
      }
      const std::string_view consumed(before, static_cast<size_t>(clause_end - before));
      append_utf8_nfd(strip_language_flags(phonemes != nullptr ? phonemes : ""), current);
      bool sentence_end = false;
      switch (clause_terminator(consumed)) {
        case Terminator::Period: current += U"."; sentence_end = true; break;
        case Terminator::Question: current += U"?"; sentence_end = true; break;
        case Terminator::Exclamation: current += U"!"; sentence_end = true; break;
        case Terminator::Comma: current += U", "; break;
        case Terminator::Colon: current += U": "; break;
        case Terminator::Semicolon: current += U"; "; break;
        case Terminator::None: break;
      }
      if (sentence_end) {
        sentences.push_back(std::move(current));
        current.clear();
      }
      if (after == before && ptr != nullptr) break;  // no progress: never loop forever
    }
  }
  if (!current.empty()) sentences.push_back(std::move(current));
  // Drop sentences that hold nothing but punctuation and spaces (nothing to say).
  std::vector<std::u32string> kept;
  for (auto& s : sentences) {
    bool has_phoneme = false;
    for (const char32_t c : s) {
      if (c != U' ' && c != U'.' && c != U',' && c != U'?' && c != U'!' && c != U':' &&
          c != U';') {
        has_phoneme = true;
        break;
      }
    }
    if (has_phoneme) kept.push_back(std::move(s));
  }
  return kept;
}

PhonemizedSentence phonemes_to_ids(const std::u32string& phonemes, const PhonemeIdMap& map) {
  const auto find = [&](char32_t c) -> const std::vector<int64_t>& {
    const auto it = map.find(c);
    if (it == map.end()) {
      fail("the voice's phoneme-id map has no '{}' (needed for BOS/pad/EOS)",
           text::utf8_encode(static_cast<uint32_t>(c)));
    }
    return it->second;
  };
  const auto& bos = find(U'^');
  const auto& pad = find(U'_');
  const auto& eos = find(U'$');
  PhonemizedSentence out;
  out.phonemes = phonemes;
  out.ids.insert(out.ids.end(), bos.begin(), bos.end());
  out.ids.insert(out.ids.end(), pad.begin(), pad.end());
  bool at_word_start = true;
  for (const char32_t c : phonemes) {
    const bool separator = c == U' ';
    const auto it = map.find(c);
    if (it != map.end()) {
      if (at_word_start && !separator) {
        out.word_starts.push_back(static_cast<int32_t>(out.ids.size()));
        at_word_start = false;
      }
      out.ids.insert(out.ids.end(), it->second.begin(), it->second.end());
      out.ids.insert(out.ids.end(), pad.begin(), pad.end());
    }
    if (separator) at_word_start = true;
  }
  out.ids.insert(out.ids.end(), eos.begin(), eos.end());
  return out;
}

}  // namespace duet
