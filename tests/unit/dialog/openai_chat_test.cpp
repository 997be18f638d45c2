// Unit tests of the chat-completions JSON: the streamed request body, chunks, whole completions
// and the server's error messages. Must never need the network.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dialog/openai_chat.hpp"

namespace openai = duet::dialog::openai;
using duet::dialog::ChatMessage;
using duet::dialog::ReplyOptions;

TEST(OpenAiChat, RequestBodyCarriesConversationAndOptions) {
  const ChatMessage messages[] = {{"system", "Be brief."}, {"user", "Hi \"there\""}};
  ReplyOptions options;
  options.max_tokens = 33;
  options.temperature = 0.0f;
  options.top_p = 0.5f;
  options.seed = 42;
  const auto body = nlohmann::json::parse(openai::chat_request_body("smol", messages, options));
  EXPECT_EQ(body["model"], "smol");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["content"], "Hi \"there\"");
  EXPECT_EQ(body["max_tokens"], 33);
  EXPECT_EQ(body["temperature"], 0.0);
  EXPECT_EQ(body["top_p"], 0.5);
  EXPECT_EQ(body["seed"], 42);
}

TEST(OpenAiChat, RequestBodySurvivesInvalidUtf8) {
  const ChatMessage messages[] = {{"user", "bad \xFF byte"}};
  const std::string body = openai::chat_request_body("m", messages, ReplyOptions{});
  EXPECT_TRUE(nlohmann::json::accept(body));
}

TEST(OpenAiChat, ParsesContentFinishAndUsage) {
  const auto first = openai::parse_stream_chunk(
      R"({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]})");
  EXPECT_EQ(first.content, "");
  EXPECT_FALSE(first.finish_reason);
  const auto piece = openai::parse_stream_chunk(
      R"({"choices":[{"index":0,"delta":{"content":" there"},"logprobs":null,"finish_reason":null}]})");
  EXPECT_EQ(piece.content, " there");
  const auto last = openai::parse_stream_chunk(
      R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})");
  ASSERT_TRUE(last.finish_reason);
  EXPECT_EQ(*last.finish_reason, "length");
  const auto usage = openai::parse_stream_chunk(
      R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}})");
  ASSERT_TRUE(usage.usage);
  EXPECT_EQ(usage.usage->prompt_tokens, 12);
  EXPECT_EQ(usage.usage->completion_tokens, 5);
}

TEST(OpenAiChat, NullContentIsEmpty) {
  const auto chunk =
      openai::parse_stream_chunk(R"({"choices":[{"delta":{"content":null},"finish_reason":"stop"}]})");
  EXPECT_EQ(chunk.content, "");
  EXPECT_EQ(chunk.finish_reason.value_or(""), "stop");
}

TEST(OpenAiChat, MalformedChunksThrowWithTheirText) {
  for (const char* bad : {"not json", "[1,2]", R"({"id":"x"})", R"({"choices":[3]})",
                          R"({"choices":[{"delta":{"content":7}}]})"}) {
    try {
      (void)openai::parse_stream_chunk(bad);
      ADD_FAILURE() << "no throw for " << bad;
    } catch (const duet::Error& e) {
      EXPECT_NE(std::string(e.what()).find("malformed"), std::string::npos) << e.what();
    }
  }
}

TEST(OpenAiChat, ErrorObjectInTheStreamThrowsTheServersWords) {
  try {
    (void)openai::parse_stream_chunk(R"({"error":{"message":"context too long","code":400}})");
    FAIL() << "no throw";
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("context too long"), std::string::npos) << e.what();
  }
}

TEST(OpenAiChat, ParsesWholeCompletion) {
  const auto done = openai::parse_completion(
      R"({"choices":[{"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}})");
  EXPECT_EQ(done.content, "Hello!");
  EXPECT_EQ(done.finish_reason.value_or(""), "stop");
  EXPECT_EQ(done.usage->completion_tokens, 2);
}

TEST(OpenAiChat, ErrorMessageFindsTheServersWords) {
  EXPECT_EQ(openai::error_message(R"({"error":{"message":"bad key","type":"auth"}})"), "bad key");
  EXPECT_EQ(openai::error_message(R"({"error":"model not found"})"), "model not found");
  EXPECT_EQ(openai::error_message(R"({"detail":"Not Found"})"), "Not Found");
  EXPECT_EQ(openai::error_message("<html>oops</html>\n"), "<html>oops</html>");
  EXPECT_EQ(openai::error_message(""), "(empty body)");
  const std::string long_body(5000, 'x');
  EXPECT_LT(openai::error_message(long_body).size(), 400u);
}
