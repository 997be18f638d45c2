// Test tool: streams one reply from an OpenAI-compatible chat-completions server through
// RemoteChatLlm and prints what happens as JSON lines on stdout: {"piece", "ms"} per piece, then
// {"end", "text", "reply_tokens", "cancel_ms"}; a duet::Error goes to stderr as "error: ..." with
// exit status 1. Drives tests/python/test_remote_llm.py. Test-only; must never be used by the
// engine.
//   remote_chat URL MODEL PROMPT [--key K] [--max-tokens N] [--temp T] [--cancel-after-first]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dialog/chat_llm_remote.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

const char* end_name(duet::dialog::ReplyEnd end) {
  switch (end) {
    case duet::dialog::ReplyEnd::Finished: return "finished";
    case duet::dialog::ReplyEnd::Length: return "length";
    case duet::dialog::ReplyEnd::Cancelled: return "cancelled";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s URL MODEL PROMPT [--key K] [--max-tokens N] [--temp T] "
                 "[--cancel-after-first]\n",
                 argv[0]);
    return 2;
  }
  std::string key;
  bool cancel_after_first = false;
  duet::dialog::ReplyOptions options;
  options.temperature = 0.0f;
  for (int i = 4; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--key" && has_value) {
      key = argv[++i];
    } else if (arg == "--max-tokens" && has_value) {
      options.max_tokens = std::atoi(argv[++i]);
    } else if (arg == "--temp" && has_value) {
      options.temperature = std::strtof(argv[++i], nullptr);
    } else if (arg == "--cancel-after-first") {
      cancel_after_first = true;
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", arg.c_str());
      return 2;
    }
  }
  try {
    duet::dialog::RemoteChatLlm llm(argv[1], argv[2], key);
    const std::vector<duet::dialog::ChatMessage> messages = {
        {"system", "You are a helpful assistant."}, {"user", argv[3]}};
    duet::CancelToken cancel;
    std::thread canceller;
    Clock::time_point cancelled_at{};
    const auto start = Clock::now();
    const auto result = llm.reply(messages, options, [&](std::string_view piece) {
      std::cout << nlohmann::json{{"piece", std::string(piece)}, {"ms", ms_since(start)}}.dump()
                << std::endl;
      if (cancel_after_first && !canceller.joinable()) {
        // Raised from another thread, as the engine's barge-in does.
        canceller = std::thread([&] {
          cancelled_at = Clock::now();
          cancel.cancel();
        });
      }
    }, cancel);
    if (canceller.joinable()) canceller.join();
    nlohmann::json end = {{"end", end_name(result.end)},
                          {"text", result.text},
                          {"reply_tokens", result.reply_tokens},
                          {"prompt_tokens", result.prompt_tokens},
                          {"ms", ms_since(start)}};
    if (cancel_after_first) end["cancel_ms"] = ms_since(cancelled_at);
    std::cout << end.dump() << std::endl;
    return 0;
  } catch (const duet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
