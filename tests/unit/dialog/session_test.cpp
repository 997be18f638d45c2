// Specification of a Session driven by commands alone (no audio): with the real default models,
// a text turn gets a streamed answer, the conversation stays in the KV cache between turns, and
// truncation and cancellation follow the published Realtime semantics.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "dialog/engine.hpp"
#include "dialog/session.hpp"
#include "dialog/trace.hpp"
#include "speech/piper_voice.hpp"

namespace duet::dialog {
namespace {

// Collects frames and lets a test wait for one kind.
class Recorder {
 public:
  Session::Observer observer() {
    return [this](const Frame& f) {
      std::lock_guard lock(mu_);
      frames_.push_back(f);
      cv_.notify_all();
    };
  }
  // The first frame of `kind` after index `from`, waiting up to `seconds`.
  Frame wait_for(FrameKind kind, size_t from = 0, double seconds = 120) {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
      for (size_t i = from; i < frames_.size(); ++i) {
        if (frames_[i].kind == kind) return frames_[i];
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        ADD_FAILURE() << "no " << frame_kind_name(kind) << " frame in time";
        return {};
      }
    }
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return frames_.size();
  }
  std::vector<Frame> of(FrameKind kind) {
    std::lock_guard lock(mu_);
    std::vector<Frame> out;
    for (const auto& f : frames_) {
      if (f.kind == kind) out.push_back(f);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Frame> frames_;
};

std::shared_ptr<Engine> engine_or_skip() {
  try {
    return Engine::load({});
  } catch (const Error&) {
    return nullptr;
  }
}

SessionConfig text_only() {
  SessionConfig c;
  c.audio_output = false;
  c.reply.temperature = 0;
  c.reply.max_tokens = 24;
  c.instructions = "You are a helpful assistant. Answer in one short sentence.";
  return c;
}

// The turn's trace says some of its prompt was already in the LLM's cache.
void expect_prompt_partly_cached(const Frame& trace) {
  EXPECT_NE(trace.detail.find("\"reused_tokens\""), std::string::npos) << trace.detail;
  EXPECT_EQ(trace.detail.find("\"reused_tokens\":0,"), std::string::npos) << trace.detail;
}

TEST(Session, ATextTurnGetsAStreamedAnswerThatEntersTheHistory) {
  auto engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "default models not pulled (make models)";
  Recorder rec;
  Session s(engine, text_only(), rec.observer());
  s.add_message("user", "What is the capital of France?");
  s.create_response();
  const Frame done = rec.wait_for(FrameKind::ResponseDone);
  EXPECT_EQ(done.detail == "completed" || done.detail == "incomplete", true) << done.detail;
  EXPECT_FALSE(done.text.empty());
  std::string streamed;
  for (const auto& d : rec.of(FrameKind::TextDelta)) streamed += d.text;
  EXPECT_EQ(streamed, done.text);
  const auto h = s.history();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].role, "assistant");
  EXPECT_EQ(h[1].text, done.text);
}

TEST(Session, ASecondTurnReusesTheCachedConversation) {
  auto engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "default models not pulled (make models)";
  Recorder rec;
  Session s(engine, text_only(), rec.observer());
  s.add_message("user", "Name a colour.");
  s.create_response();
  rec.wait_for(FrameKind::Trace);
  const size_t mark = rec.size();
  s.add_message("user", "Name an animal.");
  s.create_response();
  expect_prompt_partly_cached(rec.wait_for(FrameKind::Trace, mark));
}

TEST(Session, TheInstructionsAreInTheCacheBeforeTheFirstTurn) {
  auto engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "default models not pulled (make models)";
  Recorder rec;
  Session s(engine, text_only(), rec.observer());
  s.add_message("user", "Name a colour.");
  s.create_response();
  expect_prompt_partly_cached(rec.wait_for(FrameKind::Trace));
}

TEST(Session, RespondingWithoutAnyUserMessageIsAnError) {
  auto engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "default models not pulled (make models)";
  Recorder rec;
  Session s(engine, text_only(), rec.observer());
  s.create_response();
  const Frame err = rec.wait_for(FrameKind::Error);
  EXPECT_NE(err.text.find("no user message"), std::string::npos) << err.text;
}

TEST(Session, TruncatingBeyondAnAnswersAudioIsAnErrorAndUnknownItemsToo) {
  auto engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "default models not pulled (make models)";
  Recorder rec;
  SessionConfig c = text_only();
  c.audio_output = true;
  c.reply.max_tokens = 12;
  Session s(engine, c, rec.observer());
  s.add_message("user", "Say hello.");
  s.create_response();
  const Frame done = rec.wait_for(FrameKind::ResponseDone);
  const auto h = s.history();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_GT(h[1].audio_ms, 0);
  EXPECT_THROW(s.truncate(h[1].id, h[1].audio_ms + 1000), Error);
  EXPECT_THROW(s.truncate(h[0].id, 0), Error);  // a user item
  EXPECT_THROW(s.truncate(999999, 0), Error);
  s.truncate(h[1].id, 0);
  s.drain();
  EXPECT_TRUE(s.history()[1].truncated);
  EXPECT_EQ(s.history()[1].text, "");
  (void)done;
}

TEST(Session, CancellingAResponseStopsItAndMarksItCancelled) {
  auto engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "default models not pulled (make models)";
  Recorder rec;
  SessionConfig c = text_only();
  c.reply.max_tokens = 200;
  c.instructions = "You are a storyteller. Tell very long stories.";
  Session s(engine, c, rec.observer());
  s.add_message("user", "Tell me a long story about the sea.");
  s.create_response();
  rec.wait_for(FrameKind::TextDelta);
  s.cancel_response();
  const Frame done = rec.wait_for(FrameKind::ResponseDone);
  EXPECT_EQ(done.detail, "cancelled");
  EXPECT_FALSE(s.responding());
}

}  // namespace
}  // namespace duet::dialog
