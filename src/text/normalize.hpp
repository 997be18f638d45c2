// Spoken-form text normalization for speech synthesis: turns what an LLM writes (numbers,
// ordinals, dates, times, currency, percentages, abbreviations, URLs, e-mail addresses, emoji,
// markdown) into plain words a phonemizer reads correctly, keeping sentence punctuation.
// Must never emit digits, markup or symbols the voice would read out literally, and never
// reorder the words of the text. English only for now.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace duet::text {

// The spoken form of `text` (any bytes; invalid UTF-8 and control characters become spaces).
// Emoji and other pictographs are dropped; markdown markup is removed, keeping its text.
std::string normalize_for_speech(std::string_view text);

// True for a word whose trailing period does not end a sentence ("Dr.", "e.g.", "etc." is not
// one of them at the end of a text, but is here), or a single-letter initial ("J.").
bool is_abbreviation(std::string_view word_with_period);

// "one hundred twenty three" for 123; negative numbers start with "minus".
std::string number_to_words(int64_t n);
// "twenty first" for 21.
std::string ordinal_to_words(int64_t n);

}  // namespace duet::text
