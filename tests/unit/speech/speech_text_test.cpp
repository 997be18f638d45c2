// Text clean-up shared by voices: malformed UTF-8 and NUL become spaces, valid text is untouched,
// whitespace-only text is recognised. Must never need a voice to run.
#include <gtest/gtest.h>

#include <string>

#include "speech/speech_text.hpp"

namespace duet {
namespace {

using namespace std::string_literals;

TEST(ReplaceInvalidUtf8, KeepsValidText) {
  const std::string text = "Grüße, 東京, emoji 🙂, ascii.";
  EXPECT_EQ(replace_invalid_utf8(text), text);
  EXPECT_EQ(replace_invalid_utf8(""), "");
}

TEST(ReplaceInvalidUtf8, ReplacesMalformedBytesWithSpaces) {
  EXPECT_EQ(replace_invalid_utf8("a\xFF" "b"), "a b");
  EXPECT_EQ(replace_invalid_utf8("a\xC0\xAF" "b"), "a  b");           // overlong '/'
  EXPECT_EQ(replace_invalid_utf8("a\xED\xA0\x80" "b"), "a   b");      // UTF-16 surrogate
  EXPECT_EQ(replace_invalid_utf8("a\xF4\x90\x80\x80" "b"), "a    b");  // beyond U+10FFFF
  EXPECT_EQ(replace_invalid_utf8("ab\xE2\x82"), "ab  ");              // cut-off sequence
  EXPECT_EQ(replace_invalid_utf8("\x80\x80"), "  ");                  // stray continuations
  EXPECT_EQ(replace_invalid_utf8("a\0b"s), "a b");                    // embedded NUL
}

TEST(IsBlankText, RecognisesWhitespaceOnly) {
  EXPECT_TRUE(is_blank_text(""));
  EXPECT_TRUE(is_blank_text(" \t\r\n\v\f"));
  // no-break space, ideographic space, zero-width space, byte-order mark
  EXPECT_TRUE(is_blank_text("\xC2\xA0\xE3\x80\x80\xE2\x80\x8B\xEF\xBB\xBF"));
  EXPECT_FALSE(is_blank_text("  a  "));
  EXPECT_FALSE(is_blank_text("\xE6\x9D\xB1"));
  EXPECT_FALSE(is_blank_text("\xFF"));
}

}  // namespace
}  // namespace duet
