// Specification of LlmSession and generate() on the real default LLM (SmolLM2-135M, skipped when
// it is not pulled): the KV cache keeps prefixes, rolls back exactly, refuses overflow, and
// generation streams whole UTF-8 characters, stops at limits and is cancelled within one token.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "models/llm_generate.hpp"
#include "models/llm_model.hpp"

namespace {

using duet::models::GenerateOptions;
using duet::models::LlmModel;
using duet::models::LlmSession;
using duet::models::StopReason;

std::shared_ptr<const LlmModel> default_model() {
  static const std::shared_ptr<const LlmModel> model = []() -> std::shared_ptr<const LlmModel> {
    const char* env = std::getenv("DUET_MODELS");
    const std::filesystem::path dir = env ? env : DUET_SOURCE_DIR "/models";
    const auto path = dir / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf";
    if (!std::filesystem::exists(path)) return nullptr;
    return LlmModel::load(path);
  }();
  return model;
}

#define REQUIRE_MODEL()                                                   \
  auto model = default_model();                                           \
  if (!model) GTEST_SKIP() << "SmolLM2 is not pulled (duet models pull)"

std::vector<int32_t> tokens(const LlmModel& m, const std::string& text) {
  return m.tokenizer().encode(text, {.add_special = false, .parse_special = false});
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

void expect_same_logits(const std::vector<float>& a, std::span<const float> b) {
  ASSERT_EQ(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  EXPECT_LT(worst, 1e-4f);
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

TEST(LlmSession, ExtendingThePromptReusesTheCachedPrefix) {
  REQUIRE_MODEL();
  const auto a = tokens(*model, "The capital of France is Paris.");
  auto ab = a;
  const auto b = tokens(*model, " The capital of Italy is");
  ab.insert(ab.end(), b.begin(), b.end());

  LlmSession fresh(model, {.n_ctx = 128, .n_threads = 1});
  const auto expected = copy(fresh.decode(ab));

  LlmSession incremental(model, {.n_ctx = 128, .n_threads = 1});
  incremental.decode(a);
  expect_same_logits(expected, incremental.sync(ab));
  EXPECT_EQ(incremental.n_past(), static_cast<int64_t>(ab.size()));
  EXPECT_EQ(incremental.history(), ab);
}

TEST(LlmSession, TruncateRollsBackExactly) {
  REQUIRE_MODEL();
  const auto a = tokens(*model, "Once upon a time");
  const auto b = tokens(*model, " there was a dragon");
  const auto c = tokens(*model, " in a castle");
  auto ac = a;
  ac.insert(ac.end(), c.begin(), c.end());

  LlmSession reference(model, {.n_ctx = 128, .n_threads = 1});
  const auto expected = copy(reference.decode(ac));

  LlmSession s(model, {.n_ctx = 128, .n_threads = 1});
  s.decode(a);
  s.decode(b);
  s.truncate(static_cast<int64_t>(a.size()));
  EXPECT_EQ(s.n_past(), static_cast<int64_t>(a.size()));
  expect_same_logits(expected, s.decode(c));
  EXPECT_THROW(s.truncate(s.n_past() + 1), duet::Error);
}

TEST(LlmSession, ContextOverflowAndBadTokensAreClearErrors) {
  REQUIRE_MODEL();
  LlmSession s(model, {.n_ctx = 16, .n_threads = 1});
  std::vector<int32_t> many(20, 42);
  EXPECT_THROW(s.decode(many), duet::Error);
  EXPECT_EQ(s.n_past(), 0);
  std::vector<int32_t> bad = {1, -5};
  EXPECT_THROW(s.decode(bad), duet::Error);
  std::vector<int32_t> huge = {static_cast<int32_t>(model->config().n_vocab)};
  EXPECT_THROW(s.decode(huge), duet::Error);
}

TEST(LlmSession, ACancelledDecodeLeavesTheCacheAsBefore) {
  REQUIRE_MODEL();
  LlmSession s(model, {.n_ctx = 64, .n_threads = 1});
  const auto a = tokens(*model, "Hello there");
  s.decode(a);
  duet::CancelToken cancel;
  cancel.cancel();
  EXPECT_THROW(s.decode(tokens(*model, " friend"), cancel), duet::Cancelled);
  EXPECT_EQ(s.history(), a);
}

TEST(Generate, GreedyIsDeterministicAndStopsAtTheLimit) {
  REQUIRE_MODEL();
  GenerateOptions opt;
  opt.max_tokens = 12;
  opt.sampling.temperature = 0;
  const auto prompt = tokens(*model, "The three primary colors are");
  LlmSession s1(model, {.n_ctx = 128, .n_threads = 1});
  LlmSession s2(model, {.n_ctx = 128, .n_threads = 1});
  const auto r1 = duet::models::generate(s1, prompt, opt);
  const auto r2 = duet::models::generate(s2, prompt, opt);
  EXPECT_EQ(r1.tokens, r2.tokens);
  EXPECT_EQ(r1.text, r2.text);
  EXPECT_EQ(r1.tokens.size(), 12u);
  EXPECT_EQ(r1.reason, StopReason::Length);
}

TEST(Generate, SeededSamplingIsReproducible) {
  REQUIRE_MODEL();
  GenerateOptions opt;
  opt.max_tokens = 16;
  opt.sampling.temperature = 1.0f;
  opt.sampling.seed = 1234;
  const auto prompt = tokens(*model, "My favourite animal is");
  LlmSession s(model, {.n_ctx = 128, .n_threads = 1});
  const auto r1 = duet::models::generate(s, prompt, opt);
  const auto r2 = duet::models::generate(s, prompt, opt);  // reuses the cached prompt
  EXPECT_EQ(r1.text, r2.text);
  EXPECT_GT(r2.reused_tokens, 0);
}

TEST(Generate, StreamsWholeCharactersAndTheSameTextItReturns) {
  REQUIRE_MODEL();
  GenerateOptions opt;
  opt.max_tokens = 40;
  opt.sampling.temperature = 0;
  std::string streamed;
  LlmSession s(model, {.n_ctx = 128, .n_threads = 1});
  const auto r = duet::models::generate(s, tokens(*model, "Emoji and accents: 😀 café, naïve, 日本語:"), opt,
                                        [&](std::string_view piece) {
                                          EXPECT_TRUE(valid_utf8(piece)) << piece;
                                          streamed.append(piece);
                                        });
  EXPECT_EQ(streamed, r.text);
}

TEST(Generate, CancellationStopsWithinOneToken) {
  REQUIRE_MODEL();
  GenerateOptions opt;
  opt.max_tokens = 64;
  opt.sampling.temperature = 0;
  duet::CancelToken cancel;
  int pieces = 0;
  LlmSession s(model, {.n_ctx = 128, .n_threads = 1});
  const auto r = duet::models::generate(s, tokens(*model, "Count: 1, 2, 3,"), opt,
                                        [&](std::string_view) {
                                          if (++pieces == 3) cancel.cancel();
                                        },
                                        cancel);
  EXPECT_EQ(r.reason, StopReason::Cancelled);
  EXPECT_LE(r.tokens.size(), 4u);
}

TEST(Generate, StopStringsEndTheReplyBeforeTheStop) {
  REQUIRE_MODEL();
  GenerateOptions opt;
  opt.max_tokens = 48;
  opt.sampling.temperature = 0;
  opt.stop_strings = {","};
  LlmSession s(model, {.n_ctx = 128, .n_threads = 1});
  const auto r = duet::models::generate(s, tokens(*model, "1, 2, 3, 4,"), opt);
  EXPECT_EQ(r.reason, StopReason::StopString);
  EXPECT_EQ(r.text.find(','), std::string::npos) << r.text;
}
