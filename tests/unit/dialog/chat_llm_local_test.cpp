// Specification of the local LLM engine's head start: prefilling a conversation whose last user
// turn is still open computes its opening and its words so far (never the turn's end nor a
// reply's start), and the reply to the finished turn reuses all of it, also when the
// conversation has outgrown the cache and its oldest turns are dropped. Real SmolLM2 weights;
// skips when the default models are not pulled.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "dialog/chat_llm_local.hpp"
#include "store/model_store.hpp"

namespace duet::dialog {
namespace {

std::shared_ptr<const models::LlmModel> smollm_or_null() {
  try {
    return models::LlmModel::load(store::ModelStore(store::ModelStore::default_dir()).require("smollm2-135m-instruct"));
  } catch (const Error&) {
    return nullptr;
  }
}

int64_t reused_after(LocalChatLlm& llm, const std::vector<ChatMessage>& finished) {
  const ReplyResult r = llm.reply(finished, {.max_tokens = 1, .temperature = 0}, [](std::string_view) {}, {});
  return r.reused_tokens;
}

TEST(LocalChatLlmPrefill, AnEmptyOpenTurnComputesItsOpeningWhichTheReplyReuses) {
  auto model = smollm_or_null();
  if (!model) GTEST_SKIP() << "SmolLM2 not pulled (make models)";
  LocalChatLlm llm(model, 2, 512);
  llm.prefill(std::vector<ChatMessage>{{"system", "Be brief."}, {"user", ""}}, {});
  const int64_t warmed = llm.cached_tokens();
  // The system turn closed and the user's opened ("<|im_end|>\n<|im_start|>user\n"): more than
  // the (open) system turn alone...
  LocalChatLlm system_only(model, 2, 512);
  system_only.prefill(std::vector<ChatMessage>{{"system", "Be brief."}}, {});
  EXPECT_GE(warmed, system_only.cached_tokens() + 3);
  // ...and all of it is the start of the finished turn's prompt.
  EXPECT_EQ(reused_after(llm, {{"system", "Be brief."}, {"user", "Name a colour."}}), warmed);
}

TEST(LocalChatLlmPrefill, StableWordsAreComputedWithoutClosingTheTurn) {
  auto model = smollm_or_null();
  if (!model) GTEST_SKIP() << "SmolLM2 not pulled (make models)";
  LocalChatLlm opening(model, 2, 512), words(model, 2, 512);
  opening.prefill(std::vector<ChatMessage>{{"system", "Be brief."}, {"user", ""}}, {});
  words.prefill(std::vector<ChatMessage>{{"system", "Be brief."}, {"user", "What is the capital"}}, {});
  EXPECT_GT(words.cached_tokens(), opening.cached_tokens() + 2);
  // Every token computed ahead is reused: none of them closed the turn or began a reply.
  const int64_t warmed = words.cached_tokens();
  EXPECT_EQ(reused_after(words, {{"system", "Be brief."}, {"user", "What is the capital of France?"}}), warmed);
}

TEST(LocalChatLlmPrefill, AConversationThatOutgrewTheCacheDropsTheSameTurnsAsTheReply) {
  auto model = smollm_or_null();
  if (!model) GTEST_SKIP() << "SmolLM2 not pulled (make models)";
  LocalChatLlm llm(model, 2, 160);
  std::vector<ChatMessage> history{{"system", "Be brief."}};
  for (int i = 0; i < 6; ++i) {
    history.push_back({"user", "Tell me one more thing about the history of the river towns in the north, please."});
    history.push_back({"assistant", "The river towns grew around mills and bridges, and their markets drew traders from far away."});
  }
  // A first reply (one token) sets the room replies ask for, and drops the oldest turns.
  std::vector<ChatMessage> first = history;
  first.push_back({"user", "Go on."});
  EXPECT_GT(reused_after(llm, first), -1);
  std::vector<ChatMessage> open = history;
  open.push_back({"user", "What is the capital"});
  llm.prefill(open, {});
  const int64_t warmed = llm.cached_tokens();
  EXPECT_GT(warmed, 60) << "the head start computed the kept turns";
  std::vector<ChatMessage> finished = history;
  finished.push_back({"user", "What is the capital of France?"});
  EXPECT_EQ(reused_after(llm, finished), warmed) << "every token computed ahead is the reply's prefix";
}

}  // namespace
}  // namespace duet::dialog
