// Phrase splitting of streamed text: short first phrase, then sentences; never inside a word.
#include <gtest/gtest.h>

#include <string>

#include "speech/phrase_splitter.hpp"

using duet::PhraseSplitter;

TEST(PhraseSplitter, ShortFirstPhraseThenSentences) {
  PhraseSplitter s;
  s.push("Sure thing, I can help with that. The first step is simple. Then ");
  EXPECT_EQ(s.next(false).value(), "Sure thing,");
  EXPECT_EQ(s.next(false).value(), "I can help with that.");
  EXPECT_EQ(s.next(false).value(), "The first step is simple.");
  EXPECT_FALSE(s.next(false).has_value());  // "Then" may still grow
  s.push("we go");
  EXPECT_FALSE(s.next(false).has_value());
  EXPECT_EQ(s.next(true).value(), "Then we go");
  EXPECT_FALSE(s.next(true).has_value());
  EXPECT_TRUE(s.empty());
}

TEST(PhraseSplitter, OneWordBeforeAClauseMarkIsAFirstPhrase) {
  PhraseSplitter s;
  s.push("Sure, I can help with that. Okay ");
  EXPECT_EQ(s.next(false).value(), "Sure,");
  EXPECT_EQ(s.next(false).value(), "I can help with that.");
  EXPECT_FALSE(s.next(false).has_value());
}

TEST(PhraseSplitter, FirstPhraseIsCutAfterAFewWords) {
  PhraseSplitter s;
  s.push("one two three four five six seven eight ");
  EXPECT_EQ(s.next(false).value(), "one two three");
}

TEST(PhraseSplitter, AbbreviationsAndNumbersDoNotEndSentences) {
  PhraseSplitter s;
  s.push("Hello there. Dr. Smith paid 3.5 dollars to J. Doe today. Next");
  EXPECT_EQ(s.next(false).value(), "Hello there.");
  EXPECT_EQ(s.next(false).value(), "Dr. Smith paid 3.5 dollars to J. Doe today.");
}

TEST(PhraseSplitter, TextArrivingInPiecesGivesTheSamePhrases) {
  const std::string text = "Hi, there. This is a test, of streaming! Does it work? Yes.";
  PhraseSplitter whole;
  whole.push(text);
  std::string a, b;
  while (auto p = whole.next(true)) a += *p + "|";
  PhraseSplitter pieces;
  for (const char c : text) {
    pieces.push(std::string(1, c));
    while (auto p = pieces.next(false)) b += *p + "|";
  }
  while (auto p = pieces.next(true)) b += *p + "|";
  EXPECT_EQ(a, b);
}

TEST(PhraseSplitter, VeryLongTextWithoutPunctuationIsBounded) {
  PhraseSplitter s;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "word ";
  s.push(text);
  int phrases = 0;
  while (auto p = s.next(true)) {
    ++phrases;
    EXPECT_LE(p->size(), 5u * PhraseSplitter::kMaxPhraseWords);
  }
  EXPECT_GT(phrases, 30);
}
