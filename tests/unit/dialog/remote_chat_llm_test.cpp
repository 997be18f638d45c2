// Unit tests of RemoteChatLlm against a scripted loopback HTTP server: streamed text, the request
// it sends, a cancel that closes the stream within milliseconds, and the errors a user sees for a
// refused connection, a bad URL, HTTP errors and a cut stream. Must never reach beyond 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "dialog/chat_llm_remote.hpp"
#include "fake_http_server.hpp"

using duet::CancelToken;
using duet::dialog::ChatMessage;
using duet::dialog::RemoteChatLlm;
using duet::dialog::ReplyEnd;
using duet::dialog::ReplyOptions;
using duet::test::FakeConnection;
using duet::test::FakeHttpServer;

namespace {

const std::vector<ChatMessage> kConversation = {{"system", "Be brief."}, {"user", "Hello?"}};

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const duet::Error& e) {
    return e.what();
  }
  return "(no error)";
}

int free_port() {
  FakeHttpServer probe([](FakeConnection&, const std::string&) {});
  return probe.port();  // closed again when probe goes; nothing listens there afterwards
}

}  // namespace

TEST(RemoteChatLlm, StreamsPiecesAndSendsTheRequest) {
  FakeHttpServer server([](FakeConnection& c, const std::string&) {
    c.send(duet::test::sse_head());
    c.send(duet::test::sse_piece("Hello"));
    c.send(duet::test::sse_piece(" world"));
    c.send("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
  });
  RemoteChatLlm llm(server.url() + "/", "smol", "sk-test");
  EXPECT_EQ(llm.name(), "remote:" + server.url() + "/ smol");
  EXPECT_EQ(llm.endpoint(), server.url() + "/chat/completions");
  std::vector<std::string> pieces;
  const auto result = llm.reply(kConversation, ReplyOptions{},
                                [&](std::string_view p) { pieces.emplace_back(p); }, CancelToken());
  EXPECT_EQ(result.text, "Hello world");
  EXPECT_EQ(result.end, ReplyEnd::Finished);
  EXPECT_EQ(pieces, (std::vector<std::string>{"Hello", " world"}));
  const std::string& req = server.request();
  EXPECT_EQ(req.rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Authorization: Bearer sk-test"), std::string::npos);
  EXPECT_NE(req.find("\"stream\":true"), std::string::npos);
  EXPECT_NE(req.find("\"Hello?\""), std::string::npos);
}

TEST(RemoteChatLlm, CancelClosesTheStreamWithinMilliseconds) {
  std::atomic<double> closed_after_ms{-2};
  std::optional<FakeHttpServer> server;
  server.emplace([&](FakeConnection& c, const std::string&) {
    c.send(duet::test::sse_head());
    c.send(duet::test::sse_piece("first"));
    closed_after_ms = c.wait_closed_ms(5000);  // then silence, as during a long generation
  });
  RemoteChatLlm llm(server->url(), "smol", "");
  CancelToken cancel;
  std::chrono::steady_clock::time_point raised;
  int calls = 0;
  std::thread canceller;
  const auto result = llm.reply(kConversation, ReplyOptions{}, [&](std::string_view) {
    if (calls++ > 0) return;
    canceller = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      raised = std::chrono::steady_clock::now();
      cancel.cancel();
    });
  }, cancel);
  const double returned_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - raised).count();
  canceller.join();
  EXPECT_EQ(result.end, ReplyEnd::Cancelled);
  EXPECT_EQ(result.text, "first");
  EXPECT_EQ(calls, 1);
  EXPECT_LT(returned_ms, 50.0);
  server.reset();  // joins the server's thread: it has seen the connection close by now
  EXPECT_GE(closed_after_ms.load(), 0.0);
  EXPECT_LT(closed_after_ms.load(), 1000.0);
}

TEST(RemoteChatLlm, NextReplyAfterACancelWorks) {
  std::atomic<int> connection{0};
  FakeHttpServer server([&](FakeConnection& c, const std::string&) {
    c.send(duet::test::sse_head());
    if (connection++ == 0) {
      c.send(duet::test::sse_piece("stale"));
      c.wait_closed_ms(5000);
      return;
    }
    c.send(duet::test::sse_piece("fresh"));
    c.send("data: [DONE]\n\n");
  }, 2);
  RemoteChatLlm llm(server.url(), "smol", "");
  CancelToken first;
  const auto cut = llm.reply(kConversation, ReplyOptions{},
                             [&](std::string_view) { first.cancel(); }, first);
  EXPECT_EQ(cut.end, ReplyEnd::Cancelled);
  std::string text;
  const auto next = llm.reply(kConversation, ReplyOptions{},
                              [&](std::string_view p) { text += p; }, CancelToken());
  EXPECT_EQ(next.end, ReplyEnd::Finished);
  EXPECT_EQ(text, "fresh");
}

TEST(RemoteChatLlm, AlreadyCancelledReturnsAtOnce) {
  FakeHttpServer server([](FakeConnection& c, const std::string&) { c.wait_closed_ms(2000); });
  RemoteChatLlm llm(server.url(), "smol", "");
  CancelToken cancel;
  cancel.cancel();
  const auto start = std::chrono::steady_clock::now();
  const auto result = llm.reply(kConversation, ReplyOptions{}, [](std::string_view) {
    ADD_FAILURE() << "on_text after cancel";
  }, cancel);
  EXPECT_EQ(result.end, ReplyEnd::Cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
}

TEST(RemoteChatLlm, RefusedConnectionSaysToCheckTheServer) {
  RemoteChatLlm llm("http://127.0.0.1:" + std::to_string(free_port()) + "/v1", "smol", "");
  const std::string what = error_of(
      [&] { llm.reply(kConversation, ReplyOptions{}, [](std::string_view) {}, CancelToken()); });
  EXPECT_NE(what.find("remote LLM"), std::string::npos) << what;
  EXPECT_NE(what.find("check that the server is running"), std::string::npos) << what;
}

TEST(RemoteChatLlm, UrlWithoutSchemeIsRefusedUpFront) {
  const std::string what = error_of([] { RemoteChatLlm("localhost:8080/v1", "m", ""); });
  EXPECT_NE(what.find("http://"), std::string::npos) << what;
}

TEST(RemoteChatLlm, NotFoundSaysToCheckTheBaseUrl) {
  FakeHttpServer server([](FakeConnection& c, const std::string&) {
    c.send(duet::test::json_answer(404, "Not Found", R"({"detail":"Not Found"})"));
  });
  RemoteChatLlm llm(server.url(), "smol", "");
  const std::string what = error_of(
      [&] { llm.reply(kConversation, ReplyOptions{}, [](std::string_view) {}, CancelToken()); });
  EXPECT_NE(what.find("HTTP 404 Not Found: Not Found"), std::string::npos) << what;
  EXPECT_NE(what.find("/v1"), std::string::npos) << what;
}

TEST(RemoteChatLlm, ServerErrorCarriesItsMessage) {
  FakeHttpServer server([](FakeConnection& c, const std::string&) {
    c.send(duet::test::json_answer(401, "Unauthorized",
                                   R"({"error":{"message":"Incorrect API key provided"}})"));
  });
  RemoteChatLlm llm(server.url(), "smol", "bad");
  const std::string what = error_of(
      [&] { llm.reply(kConversation, ReplyOptions{}, [](std::string_view) {}, CancelToken()); });
  EXPECT_NE(what.find("Incorrect API key provided"), std::string::npos) << what;
  EXPECT_NE(what.find("API key"), std::string::npos) << what;
}

TEST(RemoteChatLlm, StreamCutBeforeTheEndIsAnError) {
  FakeHttpServer server([](FakeConnection& c, const std::string&) {
    c.send(duet::test::sse_head());
    c.send(duet::test::sse_piece("par"));
  });
  RemoteChatLlm llm(server.url(), "smol", "");
  const std::string what = error_of(
      [&] { llm.reply(kConversation, ReplyOptions{}, [](std::string_view) {}, CancelToken()); });
  EXPECT_NE(what.find("closed the stream"), std::string::npos) << what;
}

TEST(RemoteChatLlm, MalformedEventIsAnError) {
  FakeHttpServer server([](FakeConnection& c, const std::string&) {
    c.send(duet::test::sse_head());
    c.send("data: {\"oops\": 1}\n\n");
    c.wait_closed_ms(2000);
  });
  RemoteChatLlm llm(server.url(), "smol", "");
  const std::string what = error_of(
      [&] { llm.reply(kConversation, ReplyOptions{}, [](std::string_view) {}, CancelToken()); });
  EXPECT_NE(what.find("malformed"), std::string::npos) << what;
}

TEST(RemoteChatLlm, NonStreamedAnswerIsAccepted) {
  FakeHttpServer server([](FakeConnection& c, const std::string&) {
    c.send(duet::test::json_answer(
        200, "OK", R"({"choices":[{"message":{"content":"Hi."},"finish_reason":"length"}]})"));
  });
  RemoteChatLlm llm(server.url(), "smol", "");
  std::string got;
  const auto result = llm.reply(kConversation, ReplyOptions{},
                                [&](std::string_view p) { got += p; }, CancelToken());
  EXPECT_EQ(got, "Hi.");
  EXPECT_EQ(result.end, ReplyEnd::Length);
}
