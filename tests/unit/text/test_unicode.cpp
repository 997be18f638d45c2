// Unit tests for the Unicode helpers: class table, White_Space, lenient UTF-8 decoding and the
// complete-prefix rule the streaming detokenizer relies on.
// Must never need a model file.
#include <gtest/gtest.h>

#include "text/unicode.hpp"

using namespace duet::text;

TEST(Unicode, ClassesOfCommonCodePoints) {
  EXPECT_EQ(cp_class('a'), CpClass::Letter);
  EXPECT_EQ(cp_class('Z'), CpClass::Letter);
  EXPECT_EQ(cp_class('7'), CpClass::Number);
  EXPECT_EQ(cp_class(' '), CpClass::Separator);
  EXPECT_EQ(cp_class('\n'), CpClass::Control);
  EXPECT_EQ(cp_class('!'), CpClass::Punctuation);
  EXPECT_EQ(cp_class('$'), CpClass::Symbol);
  EXPECT_EQ(cp_class(0x00E9), CpClass::Letter);   // é
  EXPECT_EQ(cp_class(0x0301), CpClass::Mark);     // combining acute
  EXPECT_EQ(cp_class(0x65E5), CpClass::Letter);   // 日
  EXPECT_EQ(cp_class(0x0645), CpClass::Letter);   // Arabic meem
  EXPECT_EQ(cp_class(0x0663), CpClass::Number);   // Arabic-Indic three
  EXPECT_EQ(cp_class(0x2167), CpClass::Number);   // Roman numeral eight (Nl)
  EXPECT_EQ(cp_class(0x00BD), CpClass::Number);   // ½ (No)
  EXPECT_EQ(cp_class(0x1F600), CpClass::Symbol);  // 😀
  EXPECT_EQ(cp_class(0x200D), CpClass::Control);  // ZWJ (Cf)
  EXPECT_EQ(cp_class(0xE000), CpClass::Control);  // private use
  EXPECT_EQ(cp_class(0x0378), CpClass::Unassigned);
  EXPECT_EQ(cp_class(0x10FFFF), CpClass::Unassigned);
  EXPECT_EQ(cp_class(0x110000), CpClass::Unassigned);
  EXPECT_FALSE(unicode_table_version().empty());
}

TEST(Unicode, WhiteSpaceProperty) {
  for (uint32_t cp : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u,
                      0x200Au, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(is_whitespace(cp)) << cp;
  }
  for (uint32_t cp : {0x08u, 0x1Cu, 0x1Fu, 0x200Bu, 0x200Du, 0xFEFFu, uint32_t('a'), 0x180Eu}) {
    EXPECT_FALSE(is_whitespace(cp)) << cp;
  }
}

TEST(Unicode, DecodeEncodeRoundTrip) {
  const std::string text = "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80";  // a é 日 😀
  std::vector<uint32_t> cps;
  utf8_decode(text, cps);
  EXPECT_EQ(cps, (std::vector<uint32_t>{'a', 0xE9, 0x65E5, 0x1F600}));
  std::string back;
  for (uint32_t cp : cps) utf8_append(back, cp);
  EXPECT_EQ(back, text);
}

TEST(Unicode, MalformedBytesBecomeReplacementOneByteAtATime) {
  std::vector<uint32_t> cps;
  utf8_decode(
      "\xFF"
      "a"
      "\xE6\x97"
      "b"
      "\x80",
      cps);
  EXPECT_EQ(cps, (std::vector<uint32_t>{kReplacementChar, 'a', kReplacementChar, kReplacementChar,
                                        'b', kReplacementChar}));
  utf8_decode("\xF0\x9F\x98", cps);  // truncated at the end
  EXPECT_EQ(cps.size(), 3u);
}

TEST(Unicode, CompletePrefixHoldsUnfinishedCharacters) {
  EXPECT_EQ(utf8_complete_prefix(""), 0u);
  EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
  EXPECT_EQ(utf8_complete_prefix("ab\xF0"), 2u);
  EXPECT_EQ(utf8_complete_prefix("ab\xF0\x9F"), 2u);
  EXPECT_EQ(utf8_complete_prefix("ab\xF0\x9F\x98"), 2u);
  EXPECT_EQ(utf8_complete_prefix("ab\xF0\x9F\x98\x80"), 6u);
  EXPECT_EQ(utf8_complete_prefix("\xC3"), 0u);
  EXPECT_EQ(utf8_complete_prefix("\xC3\xA9"), 2u);
  EXPECT_EQ(utf8_complete_prefix("\xE2\x96"), 0u);
  EXPECT_EQ(utf8_complete_prefix("x\x80"), 2u);  // stray continuation: nothing to wait for
}
