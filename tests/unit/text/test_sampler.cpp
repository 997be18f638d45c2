// Unit tests for the sampler: greedy argmax, seed reproducibility, top-k / top-p / min-p
// restricting the candidate set, and the repetition penalty lowering repeated tokens' chances.
// Must never need a model file.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/error.hpp"
#include "text/sampler.hpp"

using namespace duet::text;

namespace {

std::vector<float> ramp(size_t n) {  // logits 0, 0.1, 0.2, ... : token n-1 most likely
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 0.1f * static_cast<float>(i);
  return v;
}

SamplerConfig plain(float temperature) {
  return {
      .temperature = temperature, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .repeat_penalty = 1.0f};
}

}  // namespace

TEST(Sampler, GreedyPicksArgmax) {
  Sampler s(plain(0.0f), 5);
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
  EXPECT_EQ(s.sample(logits), 1);
  EXPECT_EQ(s.sample(logits), 1);
  EXPECT_EQ(s.last_candidates().size(), 1u);
  const std::vector<float> ties = {3.0f, 3.0f, 1.0f};
  Sampler t(plain(0.0f), 3);
  EXPECT_EQ(t.sample(ties), 0);
}

TEST(Sampler, SameSeedSameTokens) {
  const auto logits = ramp(100);
  auto cfg = plain(1.0f);
  cfg.seed = 42;
  Sampler a(cfg, 100), b(cfg, 100);
  std::vector<Token> ta, tb;
  for (int i = 0; i < 200; ++i) {
    ta.push_back(a.sample(logits));
    tb.push_back(b.sample(logits));
  }
  EXPECT_EQ(ta, tb);
  cfg.seed = 43;
  Sampler c(cfg, 100);
  std::vector<Token> tc;
  for (int i = 0; i < 200; ++i) tc.push_back(c.sample(logits));
  EXPECT_NE(ta, tc);
  a.reset();
  std::vector<Token> again;
  for (int i = 0; i < 200; ++i) again.push_back(a.sample(logits));
  EXPECT_EQ(again, ta);
}

TEST(Sampler, TopKKeepsTheKBest) {
  auto cfg = plain(1.0f);
  cfg.top_k = 5;
  Sampler s(cfg, 100);
  const auto logits = ramp(100);
  for (int i = 0; i < 300; ++i) EXPECT_GE(s.sample(logits), 95);
  ASSERT_EQ(s.last_candidates().size(), 5u);
  EXPECT_EQ(s.last_candidates()[0].token, 99);
  float sum = 0;
  for (const auto& c : s.last_candidates()) sum += c.p;
  EXPECT_NEAR(sum, 1.0f, 1e-5f);
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.25, 0.125, ... (logits log2 steps).
  std::vector<float> logits(20);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = -static_cast<float>(i) * std::log(2.0f);
  auto cfg = plain(1.0f);
  cfg.top_p = 0.8f;  // 0.5 + 0.25 = 0.75 < 0.8 <= 0.875
  Sampler s(cfg, logits.size());
  for (int i = 0; i < 300; ++i) EXPECT_LE(s.sample(logits), 2);
  EXPECT_EQ(s.last_candidates().size(), 3u);
}

TEST(Sampler, TopPOverALargeVocabulary) {
  const size_t n = 262144;
  std::vector<float> logits(n, 0.0f);
  logits[7] = 20.0f;  // nearly all the mass
  auto cfg = plain(1.0f);
  cfg.top_p = 0.9f;
  Sampler s(cfg, n);
  EXPECT_EQ(s.sample(logits), 7);
  EXPECT_EQ(s.last_candidates().size(), 1u);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  // p(0) = e^2 / Z, p(1) = e^1.5 / Z, others e^0 / Z: min_p 0.5 keeps tokens within log(0.5) of
  // max.
  std::vector<float> logits = {2.0f, 1.5f, 0.0f, 0.0f, 0.0f};
  auto cfg = plain(1.0f);
  cfg.min_p = 0.5f;
  Sampler s(cfg, logits.size());
  for (int i = 0; i < 300; ++i) EXPECT_LE(s.sample(logits), 1);
  EXPECT_EQ(s.last_candidates().size(), 2u);
}

TEST(Sampler, TemperatureSharpensTheDistribution) {
  const std::vector<float> logits = {1.0f, 0.0f};
  Sampler hot(plain(2.0f), 2), cold(plain(0.25f), 2);
  hot.sample(logits);
  cold.sample(logits);
  const auto p0 = [](const Sampler& s) {
    for (const auto& c : s.last_candidates())
      if (c.token == 0) return c.p;
    return 0.0f;
  };
  EXPECT_NEAR(p0(hot), 1.0f / (1.0f + std::exp(-0.5f)), 1e-5f);
  EXPECT_NEAR(p0(cold), 1.0f / (1.0f + std::exp(-4.0f)), 1e-5f);
}

TEST(Sampler, RepetitionPenaltyLowersRepeatedTokens) {
  const std::vector<float> logits = {2.0f, 2.0f, 2.0f, -1.0f};
  auto cfg = plain(1.0f);
  cfg.repeat_penalty = 2.0f;
  cfg.penalty_last_n = 4;
  Sampler s(cfg, logits.size());
  s.accept(0);
  s.accept(0);
  s.accept(3);
  s.sample(logits);
  std::map<Token, float> p;
  for (const auto& c : s.last_candidates()) p[c.token] = c.p;
  EXPECT_LT(p[0], p[1]);  // 2 / 2 = 1 < 2
  EXPECT_NEAR(p[1], p[2], 1e-6f);
  Sampler fresh(plain(1.0f), logits.size());
  fresh.sample(logits);
  std::map<Token, float> q;
  for (const auto& c : fresh.last_candidates()) q[c.token] = c.p;
  EXPECT_LT(p[3], q[3]);  // negative logit: -1 * 2 = -2
  // The window forgets: after 4 more accepts of token 1, token 0 is no longer penalised.
  for (int i = 0; i < 4; ++i) s.accept(1);
  s.sample(logits);
  p.clear();
  for (const auto& c : s.last_candidates()) p[c.token] = c.p;
  EXPECT_LT(p[1], p[0]);
  EXPECT_NEAR(p[0], p[2], 1e-6f);
}

TEST(Sampler, GreedyHonoursPenalties) {
  auto cfg = plain(0.0f);
  cfg.repeat_penalty = 3.0f;
  Sampler s(cfg, 3);
  const std::vector<float> logits = {3.0f, 2.0f, 0.0f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, RejectsBadInput) {
  EXPECT_THROW(Sampler(plain(1.0f), 0), duet::Error);
  Sampler s(plain(1.0f), 4);
  const std::vector<float> wrong(3, 0.0f);
  EXPECT_THROW(s.sample(wrong), duet::Error);
}
