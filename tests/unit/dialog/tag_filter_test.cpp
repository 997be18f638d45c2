// Specification of TagFilter: a reply streamed token by token loses the bracketed tags a model
// copies from the prompt ("[third speaker]"), in any split of its pieces, without doubled blanks;
// a tag cut short at the end is dropped; brackets too long to be a tag, and all other text, pass
// through unchanged and in order.
#include "dialog/tag_filter.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace duet::dialog {
namespace {

// The text through the filter, cut into pieces of `step` bytes (a token stream's shape).
std::string streamed(const std::string& text, size_t step) {
  TagFilter f;
  std::string out;
  for (size_t i = 0; i < text.size(); i += step) out += f.push(std::string_view(text).substr(i, step));
  f.finish();
  return out;
}

TEST(TagFilter, DropsACopiedTagInAnySplit) {
  const std::string reply = "I'll make it tomorrow. [third speaker]You're welcome!";
  for (size_t step = 1; step <= reply.size(); ++step) {
    EXPECT_EQ(streamed(reply, step), "I'll make it tomorrow. You're welcome!") << "pieces of " << step;
  }
}

TEST(TagFilter, LeavesNoDoubledBlankWhereATagWas) {
  EXPECT_EQ(without_tags("It takes ten minutes. [second speaker, sighing] Enjoy."),
            "It takes ten minutes. Enjoy.");
  EXPECT_EQ(without_tags("[music] Sure, here is one."), "Sure, here is one.");
  EXPECT_EQ(without_tags("Sure![laughs] Here."), "Sure! Here.");
}

TEST(TagFilter, HoldsAnOpenTagAndDropsItAtTheEnd) {
  TagFilter f;
  EXPECT_EQ(f.push("Good night. [third"), "Good night. ");
  EXPECT_EQ(f.push(" spe"), "");
  f.finish();  // the token limit cut the tag short: nothing of it is said
  EXPECT_EQ(f.push("Next reply."), "Next reply.");
}

TEST(TagFilter, PassesBracketsTooLongForATagAsWritten) {
  const std::string long_aside(TagFilter::kMaxTagBytes + 10, 'x');
  const std::string text = "See [" + long_aside + "] there.";
  for (size_t step : {1u, 7u, 1000u}) EXPECT_EQ(streamed(text, step), text);
}

TEST(TagFilter, LeavesTextWithoutTagsUnchanged) {
  const std::vector<std::string> texts = {"", "Paris is the capital of France.",
                                          "Costs 5 dollars (about 4 euros); ok?", "  spaced  out  ",
                                          "a ] stray closing bracket", "Ünïcödé text, 東京."};
  for (const auto& t : texts) {
    for (size_t step : {1u, 3u, 1000u}) EXPECT_EQ(streamed(t, step), t);
  }
}

}  // namespace
}  // namespace duet::dialog
