// Specification of playout: replies play in order, pulls report where a reply starts and drains,
// and clearing stops the sound at once while reporting what was heard.
#include <gtest/gtest.h>

#include <vector>

#include "dialog/playout.hpp"

namespace duet::dialog {
namespace {

TEST(Playout, PlaysQueuedAudioInOrderThenSilence) {
  Playout p;
  p.append(1, std::vector<float>(30, 0.5f));
  std::vector<float> out(20);
  auto r = p.pull(out);
  EXPECT_EQ(r.answer_samples, 20u);
  EXPECT_EQ(r.started, 1u);
  EXPECT_EQ(r.started_offset, 0u);
  EXPECT_EQ(r.drained, 0u);
  r = p.pull(out);
  EXPECT_EQ(r.answer_samples, 10u);
  EXPECT_EQ(r.drained, 1u);
  EXPECT_EQ(out[9], 0.5f);
  EXPECT_EQ(out[10], 0.0f);
  EXPECT_EQ(p.played(1), 30);
  EXPECT_EQ(p.queued(), 0u);
}

TEST(Playout, ClearStopsTheSoundAndSaysHowMuchWasHeard) {
  Playout p;
  p.append(7, std::vector<float>(100, 0.25f));
  std::vector<float> out(40);
  p.pull(out);
  const auto cut = p.clear();
  EXPECT_EQ(cut.reply, 7u);
  EXPECT_EQ(cut.played, 40);
  const auto r = p.pull(out);
  EXPECT_EQ(r.answer_samples, 0u);
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

TEST(Playout, ASecondReplyStartsMidBuffer) {
  Playout p;
  p.append(1, std::vector<float>(5, 0.1f));
  p.append(2, std::vector<float>(5, 0.2f));
  std::vector<float> out(8);
  const auto r = p.pull(out);
  EXPECT_EQ(r.drained, 1u);
  EXPECT_EQ(r.started, 2u);
  EXPECT_EQ(r.started_offset, 5u);
  EXPECT_EQ(p.played(2), 3);
}

TEST(Playout, IsAttachedOnlyOnceSomethingPulls) {
  Playout p;
  EXPECT_FALSE(p.attached());
  std::vector<float> out(4);
  p.pull(out);
  EXPECT_TRUE(p.attached());
}

}  // namespace
}  // namespace duet::dialog
