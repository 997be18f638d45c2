// Unit tests of SseParser: events across arbitrary chunk borders, every line ending, comments,
// multi-line data, ids and the line-length guard. Must never need the network.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "dialog/sse_parser.hpp"

using duet::dialog::SseEvent;
using duet::dialog::SseParser;

namespace {

std::vector<SseEvent> parse_in_pieces(std::string_view stream, size_t piece) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (size_t i = 0; i < stream.size(); i += piece) {
    parser.feed(stream.substr(i, piece), [&](const SseEvent& e) { events.push_back(e); });
  }
  return events;
}

}  // namespace

TEST(SseParser, DataEventsEndAtBlankLines) {
  const auto events = parse_in_pieces("data: one\n\ndata: two\n\n", 1000);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "one");
  EXPECT_EQ(events[1].data, "two");
  EXPECT_EQ(events[0].event, "");
}

TEST(SseParser, AnySplitGivesTheSameEvents) {
  const std::string stream =
      ": keep-alive\r\n\r\nevent: delta\r\ndata: {\"a\": 1}\r\nid: 7\r\n\r\n"
      "data: line1\rdata: line2\r\rdata:nospace\n\ndata: [DONE]\n\n";
  const auto whole = parse_in_pieces(stream, stream.size());
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole[0].event, "delta");
  EXPECT_EQ(whole[0].data, "{\"a\": 1}");
  EXPECT_EQ(whole[0].id, "7");
  EXPECT_EQ(whole[1].data, "line1\nline2");
  EXPECT_EQ(whole[1].event, "");  // the event type does not carry over
  EXPECT_EQ(whole[1].id, "7");    // the last event id does
  EXPECT_EQ(whole[2].data, "nospace");
  EXPECT_EQ(whole[3].data, "[DONE]");
  for (size_t piece = 1; piece < 9; ++piece) {
    const auto split = parse_in_pieces(stream, piece);
    ASSERT_EQ(split.size(), whole.size()) << "piece " << piece;
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(split[i].data, whole[i].data) << "piece " << piece;
      EXPECT_EQ(split[i].event, whole[i].event) << "piece " << piece;
    }
  }
}

TEST(SseParser, CrLfSplitBetweenPiecesIsOneLineEnd) {
  SseParser parser;
  std::vector<std::string> data;
  auto on = [&](const SseEvent& e) { data.push_back(e.data); };
  parser.feed("data: a\r", on);
  parser.feed("\n\r", on);
  parser.feed("\ndata: b\n\n", on);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0], "a");
  EXPECT_EQ(data[1], "b");
}

TEST(SseParser, CommentsAndEventsWithoutDataAreNotDispatched) {
  const auto events = parse_in_pieces(": ping\n\nevent: x\n\nretry: 10\nfoo: bar\n\n", 3);
  EXPECT_TRUE(events.empty());
}

TEST(SseParser, EmptyDataLineIsAnEvent) {
  const auto events = parse_in_pieces("data\n\ndata:\ndata:\n\n", 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[1].data, "\n");
}

TEST(SseParser, LeadingByteOrderMarkIsIgnored) {
  const auto events = parse_in_pieces("\xEF\xBB\xBF" "data: x\n\n", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParser, UnfinishedEventIsPendingNotDispatched) {
  SseParser parser;
  int count = 0;
  parser.feed("data: half", [&](const SseEvent&) { ++count; });
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(parser.pending());
  parser.feed("\n", [&](const SseEvent&) { ++count; });
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(parser.pending());
  parser.feed("\n", [&](const SseEvent&) { ++count; });
  EXPECT_EQ(count, 1);
  EXPECT_FALSE(parser.pending());
}

TEST(SseParser, EndlessLineThrows) {
  SseParser parser(64);
  const std::string long_line(65, 'x');
  EXPECT_THROW(parser.feed(long_line, [](const SseEvent&) {}), duet::Error);
}

TEST(SseParser, Utf8DataIsKeptByteForByte) {
  const std::string stream = "data: h\xC3\xA9llo \xE2\x82\xAC\n\n";
  const auto events = parse_in_pieces(stream, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "h\xC3\xA9llo \xE2\x82\xAC");
}
