// Unit tests of ChatStreamReader: a recorded llama-cpp-python stream fed in every split gives the
// same text, multi-byte characters cut between chunks reach on_text whole, the reply's end and
// counts, and errors inside the stream. Must never need the network.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "dialog/chat_stream_reader.hpp"
#include "text/unicode.hpp"

using duet::dialog::ChatStreamReader;
using duet::dialog::ReplyEnd;

namespace {

std::string chunk(std::string_view content_json, std::string_view finish = "null") {
  return "data: {\"id\": \"chatcmpl-1\", \"object\": \"chat.completion.chunk\", \"choices\": "
         "[{\"index\": 0, \"delta\": " +
         std::string(content_json) + ", \"logprobs\": null, \"finish_reason\": " +
         std::string(finish) + "}]}\r\n\r\n";
}

// What llama-cpp-python's server sends (its recorded shape; Python's JSON escapes non-ASCII).
std::string recorded_stream() {
  return chunk(R"({"role": "assistant"})") + chunk(R"({"content": "Hi"})") +
         chunk(R"({"content": " there \u00e2"})") + chunk(R"({})", "\"length\"") +
         "data: [DONE]\r\n\r\n";
}

bool is_whole_utf8(std::string_view piece) {
  return duet::text::utf8_complete_prefix(piece) == piece.size();
}

}  // namespace

TEST(ChatStreamReader, ReadsRecordedStreamInEverySplit) {
  const std::string stream = recorded_stream();
  for (size_t piece = 1; piece <= stream.size(); piece += (piece < 16 ? 1 : 37)) {
    std::vector<std::string> pieces;
    ChatStreamReader reader([&](std::string_view p) { pieces.emplace_back(p); });
    for (size_t i = 0; i < stream.size(); i += piece) reader.feed(std::string_view(stream).substr(i, piece));
    ASSERT_TRUE(reader.done()) << "piece " << piece;
    const auto result = reader.result();
    EXPECT_EQ(result.text, "Hi there \xC3\xA2");
    EXPECT_EQ(result.end, ReplyEnd::Length);
    EXPECT_EQ(result.reply_tokens, 2);  // no usage: the number of content pieces
    std::string joined;
    for (const auto& p : pieces) joined += p;
    EXPECT_EQ(joined, result.text);
  }
}

TEST(Utf8Joiner, CharacterCutBetweenPiecesArrivesWhole) {
  duet::dialog::Utf8Joiner joiner;
  EXPECT_EQ(joiner.push("caf\xC3"), "caf");
  EXPECT_TRUE(joiner.pending());
  EXPECT_EQ(joiner.push("\xA9 \xE2\x82"), "\xC3\xA9 ");
  EXPECT_EQ(joiner.push("\xAC"), "\xE2\x82\xAC");
  EXPECT_EQ(joiner.push("\xF0\x9F"), "");
  EXPECT_EQ(joiner.push("\x98"), "");
  EXPECT_EQ(joiner.push("\x80!"), "\xF0\x9F\x98\x80!");
  EXPECT_FALSE(joiner.pending());
}

TEST(ChatStreamReader, EscapedAndRawNonAsciiArriveWhole) {
  // Python servers escape non-ASCII (a surrogate pair for an emoji), others send raw UTF-8.
  const std::string stream = chunk(R"({"content": "caf\u00e9 \ud83d\ude00"})") +
                             chunk("{\"content\": \" \xE2\x82\xAC!\"}") + chunk("{}", "\"stop\"") +
                             "data: [DONE]\n\n";
  for (size_t piece = 1; piece <= stream.size(); ++piece) {
    std::vector<std::string> pieces;
    ChatStreamReader reader([&](std::string_view p) { pieces.emplace_back(p); });
    for (size_t i = 0; i < stream.size(); i += piece) {
      reader.feed(std::string_view(stream).substr(i, piece));
    }
    ASSERT_TRUE(reader.done());
    for (const auto& p : pieces) EXPECT_TRUE(is_whole_utf8(p)) << p;
    EXPECT_EQ(reader.result().text, "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC!");
    EXPECT_EQ(reader.result().end, ReplyEnd::Finished);
  }
}

TEST(ChatStreamReader, InvalidUtf8InTheJsonIsAClearError) {
  ChatStreamReader reader([](std::string_view) {});
  try {
    reader.feed(chunk("{\"content\": \"caf\xC3\"}"));
    FAIL() << "no throw";
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("malformed"), std::string::npos) << e.what();
  }
}

TEST(ChatStreamReader, UsageChunkGivesTokenCounts) {
  std::string stream = chunk(R"({"content": "ok"})") + chunk("{}", "\"stop\"") +
                       "data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 9, "
                       "\"completion_tokens\": 1}}\n\ndata: [DONE]\n\n";
  ChatStreamReader reader([](std::string_view) {});
  reader.feed(stream);
  const auto r = reader.result();
  EXPECT_EQ(r.prompt_tokens, 9);
  EXPECT_EQ(r.reply_tokens, 1);
}

TEST(ChatStreamReader, NothingAfterDoneCounts) {
  ChatStreamReader reader([](std::string_view) {});
  reader.feed("data: [DONE]\n\n" + chunk(R"({"content": "late"})"));
  EXPECT_EQ(reader.result().text, "");
}

TEST(ChatStreamReader, ErrorEventAndMalformedDataThrow) {
  ChatStreamReader a([](std::string_view) {});
  EXPECT_THROW(a.feed("event: error\ndata: {\"error\": {\"message\": \"overloaded\"}}\n\n"),
               duet::Error);
  ChatStreamReader b([](std::string_view) {});
  EXPECT_THROW(b.feed("data: {not json\n\n"), duet::Error);
  ChatStreamReader c([](std::string_view) {});
  try {
    c.feed("data: {\"error\": {\"message\": \"context window exceeded\"}}\n\n");
    FAIL() << "no throw";
  } catch (const duet::Error& e) {
    EXPECT_NE(std::string(e.what()).find("context window exceeded"), std::string::npos);
  }
}

TEST(ChatStreamReader, WholeCompletionIsOnePiece) {
  std::vector<std::string> pieces;
  ChatStreamReader reader([&](std::string_view p) { pieces.emplace_back(p); });
  reader.feed_completion(R"({"choices":[{"message":{"content":"Hello."},"finish_reason":"stop"}]})");
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0], "Hello.");
  EXPECT_TRUE(reader.done());
}
