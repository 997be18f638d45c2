// PhraseSplitter: scans the buffered text word by word for the first acceptable boundary.
// Must never split after an abbreviation or initial ("Dr.", "J.") or inside a number ("3.5").
#include "speech/phrase_splitter.hpp"

#include "text/normalize.hpp"

namespace duet {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

}  // namespace

bool PhraseSplitter::empty() const {
  for (const char c : buffer_) {
    if (!is_space(c)) return false;
  }
  return true;
}

std::optional<std::string> PhraseSplitter::next(bool final) {
  int words = 0;
  size_t i = 0;
  const size_t n = buffer_.size();
  std::optional<size_t> cut;
  while (i < n) {
    while (i < n && is_space(buffer_[i])) ++i;
    const size_t start = i;
    while (i < n && !is_space(buffer_[i])) ++i;
    if (i == start) break;
    if (i == n) break;  // the word may still be growing
    ++words;
    const std::string_view word(buffer_.data() + start, i - start);
    // A blank line ends a paragraph (markdown blocks, list items).
    const bool paragraph = buffer_.compare(i, 2, "\n\n") == 0 || buffer_.compare(i, 1, "\n") == 0;
    size_t end = word.size();
    while (end > 0 && (word[end - 1] == '"' || word[end - 1] == '\'' || word[end - 1] == ')' ||
                       word[end - 1] == '*' || word[end - 1] == '_')) {
      --end;
    }
    const char mark = end > 0 ? word[end - 1] : '\0';
    const bool sentence = (mark == '.' || mark == '!' || mark == '?') &&
                          !(mark == '.' && text::is_abbreviation(word.substr(0, end)));
    const bool clause = mark == ',' || mark == ';' || mark == ':';
    if (first_ && (sentence || clause || paragraph)) {  // even one word: "Sure,"
      cut = i;
    } else if (first_ && words >= kFirstPhraseWords) {
      cut = i;
    } else if (!first_ && (sentence || paragraph)) {
      cut = i;
    } else if (!first_ && clause && words >= kLongSentenceWords) {
      cut = i;
    } else if (words >= kMaxPhraseWords) {
      cut = i;
    }
    if (cut) break;
  }
  if (!cut) {
    if (!final || empty()) {
      if (final) buffer_.clear();
      return std::nullopt;
    }
    cut = n;
  }
  std::string phrase = buffer_.substr(0, *cut);
  buffer_.erase(0, *cut);
  first_ = false;
  const size_t b = phrase.find_first_not_of(" \n\t\r");
  const size_t e = phrase.find_last_not_of(" \n\t\r");
  if (b == std::string::npos) return next(final);
  return phrase.substr(b, e - b + 1);
}

}  // namespace duet
