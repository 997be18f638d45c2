// Unit tests for stop strings across token boundaries. Must never need a model file.
#include <gtest/gtest.h>

#include "text/stop_strings.hpp"

using namespace duet::text;

TEST(StopStrings, DetectsAcrossPiecesAndReportsTextBefore) {
  StopStrings s({"\nUser:", "###"});
  std::string shown;
  auto r = s.push("Hello");
  shown += r.text;
  EXPECT_FALSE(r.stopped);
  r = s.push(" there\nUs");
  shown += r.text;
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(shown, "Hello there");  // "\nUs" is held back
  r = s.push("er: hi");
  shown += r.text;
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(shown, "Hello there");
  EXPECT_EQ(s.matched(), "\nUser:");
  EXPECT_TRUE(s.push("more").stopped);
}

TEST(StopStrings, ReleasesHeldTextWhenItDiverges) {
  StopStrings s({"###"});
  EXPECT_EQ(s.push("a#").text, "a");
  EXPECT_EQ(s.push("#").text, "");
  EXPECT_EQ(s.push("b").text, "##b");
  EXPECT_EQ(s.push("#").text, "");
  EXPECT_EQ(s.flush(), "#");
}

TEST(StopStrings, StopInsideOnePieceAndEarliestWins) {
  StopStrings s({"END", "ND!"});
  const auto r = s.push("the END!");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "the ");
  EXPECT_EQ(s.matched(), "END");
  s.reset();
  EXPECT_FALSE(s.push("again").stopped);
}

TEST(StopStrings, NoStopsPassesEverythingThrough) {
  StopStrings s({});
  EXPECT_EQ(s.push("abc").text, "abc");
  EXPECT_EQ(s.flush(), "");
}
