// Unicode helpers for the tokenizers: lenient UTF-8 decoding/encoding (invalid bytes become
// U+FFFD, as llama.cpp does, so token ids match it), code point classes (letter, number, ...)
// from a generated range table, and the White_Space property. Must never allocate per code point
// lookup or throw on malformed input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duet::text {

// General-category class of a code point; the values are the table's encoding (see
// gen_unicode_data.py), never reorder.
enum class CpClass : uint8_t {
  Unassigned = 0,
  Number = 1,
  Letter = 2,
  Separator = 3,
  Mark = 4,
  Punctuation = 5,
  Symbol = 6,
  Control = 7,  // Cc, Cf, Cs, Co
};

inline constexpr uint32_t kReplacementChar = 0xFFFD;

CpClass cp_class(uint32_t cp);
inline bool is_letter(uint32_t cp) {
  return cp_class(cp) == CpClass::Letter;
}
inline bool is_number(uint32_t cp) {
  return cp_class(cp) == CpClass::Number;
}
// Unicode White_Space property (what regex \s means in the pre-tokenizer patterns).
bool is_whitespace(uint32_t cp);

// Byte length of the UTF-8 sequence a lead byte announces (1 for ASCII and stray bytes, 2..4).
inline size_t utf8_lead_len(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes one code point at `offset` and advances it. A malformed sequence yields U+FFFD and
// advances by one byte. Sequences are checked for continuation bytes only (as llama.cpp does).
uint32_t utf8_decode_one(std::string_view s, size_t& offset);
// Appends the decoding of s to out (cleared first).
void utf8_decode(std::string_view s, std::vector<uint32_t>& out);
// Appends the UTF-8 encoding of cp (code points above U+10FFFF encode as U+FFFD).
void utf8_append(std::string& out, uint32_t cp);
std::string utf8_encode(uint32_t cp);

// Length of the longest prefix of s that ends on a complete UTF-8 character boundary, treating
// a trailing incomplete (but so far well-formed) sequence as not yet complete.
size_t utf8_complete_prefix(std::string_view s);

// ASCII-only lower-casing (what the contraction rules need).
inline uint32_t ascii_lower(uint32_t cp) {
  return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
}

// The Unicode version the class table was generated from.
std::string_view unicode_table_version();

}  // namespace duet::text
