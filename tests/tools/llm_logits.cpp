// Test tool: evaluates token ids with Duet's LLM and writes logits as raw little-endian float32
// rows of n_vocab, so pytest can compare them with llama.cpp's.
//   llm_logits MODEL.gguf OUT.bin ID [ID ...]             every position of one batched read
//   llm_logits MODEL.gguf OUT.bin --greedy N ID [ID ...]  the prompt, then N free-running greedy
//                                                          steps, one token per decode: N rows
// Test-only; must never be used by the engine.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/llm_model.hpp"

namespace {

void write_row(std::ofstream& out, std::span<const float> row) {
  out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * sizeof(float)));
}

// The first index of the largest logit, as numpy's argmax picks it.
int32_t argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL.gguf OUT.bin [--greedy N] ID [ID ...]\n", argv[0]);
    return 2;
  }
  try {
    auto model = duet::models::LlmModel::load(argv[1]);
    int first_id = 3;
    int greedy_steps = 0;
    if (std::strcmp(argv[3], "--greedy") == 0) {
      if (argc < 6) throw std::runtime_error("--greedy needs a step count and at least one id");
      greedy_steps = std::atoi(argv[4]);
      first_id = 5;
    }
    std::vector<int32_t> ids;
    for (int i = first_id; i < argc; ++i) ids.push_back(std::atoi(argv[i]));
    const char* batch = std::getenv("DUET_TEST_BATCH");
    duet::models::LlmSession session(model, {.n_ctx = 512, .n_batch = batch ? std::atoi(batch) : 64,
                                             .all_logits = greedy_steps == 0});
    std::ofstream out(argv[2], std::ios::binary);
    if (greedy_steps > 0) {
      auto logits = session.decode(ids);
      for (int step = 0; step < greedy_steps; ++step) {
        write_row(out, logits);
        const int32_t next = argmax(logits);
        if (step + 1 < greedy_steps) logits = session.decode(std::span<const int32_t>(&next, 1));
      }
      return 0;
    }
    session.decode(ids);
    for (size_t i = 0; i < ids.size(); ++i) write_row(out, session.logits_at(static_cast<int64_t>(i)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm_logits: %s\n", e.what());
    return 1;
  }
  return 0;
}
