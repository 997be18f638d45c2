// Spoken-form normalization: every category an LLM emits becomes words, never symbols or digits.
#include <gtest/gtest.h>

#include <string>

#include "text/normalize.hpp"

using duet::text::normalize_for_speech;

namespace {

bool has_digit_or_symbol(const std::string& s) {
  for (const char c : s) {
    if ((c >= '0' && c <= '9') || c == '$' || c == '%' || c == '*' || c == '#' || c == '`' ||
        c == '@' || c == '/' || c == '_' || c == '[' || c == ']') {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST(Normalize, Numbers) {
  EXPECT_EQ(duet::text::number_to_words(0), "zero");
  EXPECT_EQ(duet::text::number_to_words(42), "forty two");
  EXPECT_EQ(duet::text::number_to_words(1234567), "one million two hundred thirty four thousand five hundred sixty seven");
  EXPECT_EQ(normalize_for_speech("I have 3 cats."), "I have three cats.");
  EXPECT_EQ(normalize_for_speech("Pi is 3.14."), "Pi is three point one four.");
  EXPECT_EQ(normalize_for_speech("It was -5 today"), "It was minus five today");
  EXPECT_EQ(normalize_for_speech("Population 1,250,000."), "Population one million two hundred fifty thousand.");
  EXPECT_EQ(normalize_for_speech("In 1984 it rained."), "In nineteen eighty four it rained.");
}

TEST(Normalize, Ordinals) {
  EXPECT_EQ(duet::text::ordinal_to_words(1), "first");
  EXPECT_EQ(duet::text::ordinal_to_words(22), "twenty second");
  EXPECT_EQ(duet::text::ordinal_to_words(40), "fortieth");
  EXPECT_EQ(normalize_for_speech("the 3rd and 21st"), "the third and twenty first");
}

TEST(Normalize, DatesTimesCurrencyPercent) {
  EXPECT_EQ(normalize_for_speech("on 2024-03-15."), "on March fifteenth twenty twenty four.");
  EXPECT_EQ(normalize_for_speech("on 12/25/2023"), "on December twenty fifth twenty twenty three");
  EXPECT_EQ(normalize_for_speech("at 3:30 pm."), "at three thirty p m.");
  EXPECT_EQ(normalize_for_speech("at 14:05"), "at fourteen oh five");
  EXPECT_EQ(normalize_for_speech("at 5pm"), "at five p m");
  EXPECT_EQ(normalize_for_speech("It costs $12.50."), "It costs twelve dollars and fifty cents.");
  EXPECT_EQ(normalize_for_speech("$1 and $3"), "one dollar and three dollars");
  EXPECT_EQ(normalize_for_speech("$2 million"), "two million dollars");
  EXPECT_EQ(normalize_for_speech("\xE2\x82\xAC" "5"), "five euros");
  EXPECT_EQ(normalize_for_speech("up 45%."), "up forty five percent.");
}

TEST(Normalize, AbbreviationsUrlsEmail) {
  EXPECT_EQ(normalize_for_speech("Dr. Smith vs. Mr. Jones"), "Doctor Smith versus Mister Jones");
  EXPECT_EQ(normalize_for_speech("e.g. apples"), "for example apples");
  EXPECT_EQ(normalize_for_speech("See https://www.example.com/docs?x=1 now."),
            "See example dot com now.");
  EXPECT_EQ(normalize_for_speech("Mail jane.doe@mail.org today"),
            "Mail jane dot doe at mail dot org today");
}

TEST(Normalize, EmojiMarkdownAndJunk) {
  EXPECT_EQ(normalize_for_speech("Great job \xF0\x9F\x8E\x89\xF0\x9F\x91\x8D!"), "Great job!");
  EXPECT_EQ(normalize_for_speech("# Title\n\n- **bold** item\n- `code` item\n"),
            "Title. bold item. code item");
  EXPECT_EQ(normalize_for_speech("Read [the docs](http://x.io) now"), "Read the docs now");
  EXPECT_EQ(normalize_for_speech("```\nint x = 1;\n```\nDone."), "Done.");
  EXPECT_EQ(normalize_for_speech("a\x01" "b\x7F" "c"), "a b c");
  EXPECT_EQ(normalize_for_speech("bad \xFF\xFE bytes"), "bad bytes");
  EXPECT_EQ(normalize_for_speech(""), "");
  EXPECT_EQ(normalize_for_speech("?!..."), "?!...");
  const std::string mixed = normalize_for_speech(
      "On 1/2/2025 at 10:15am, 3 of 4 users (75%) paid $9.99 via https://pay.example.com #1 *now*");
  EXPECT_FALSE(has_digit_or_symbol(mixed)) << mixed;
}
