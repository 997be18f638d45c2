// Test tool: greedy continuations with Duet's LLM for several prompts in one model load.
// stdin: {"prompts": [[ids...], ...], "n": 32, "n_ctx": 512}; stdout: [{"tokens": [...],
// "top": [[[id, logit] x 8] per step]}, ...]. Test-only; must never be used by the engine.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/llm_model.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf < request.json\n", argv[0]);
    return 2;
  }
  try {
    const auto request = nlohmann::json::parse(std::cin);
    const int n = request.value("n", 32);
    auto model = duet::models::LlmModel::load(argv[1]);
    duet::models::LlmSession session(model, {.n_ctx = request.value("n_ctx", 512)});
    nlohmann::json out = nlohmann::json::array();
    std::vector<int32_t> order(static_cast<size_t>(model->config().n_vocab));
    for (const auto& prompt : request["prompts"]) {
      const auto ids = prompt.get<std::vector<int32_t>>();
      session.truncate(0);
      auto logits = session.decode(ids);
      nlohmann::json tokens = nlohmann::json::array(), top = nlohmann::json::array();
      for (int i = 0; i < n; ++i) {
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + 8, order.end(),
                          [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
        nlohmann::json step = nlohmann::json::array();
        for (int k = 0; k < 8; ++k) step.push_back({order[k], logits[order[k]]});
        top.push_back(step);
        const int32_t next = order[0];
        tokens.push_back(next);
        const int32_t one[1] = {next};
        logits = session.decode(one);
      }
      out.push_back({{"tokens", tokens}, {"top", top}});
    }
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm_greedy: %s\n", e.what());
    return 1;
  }
  return 0;
}
