// Test tool: evaluates token ids with Duet's LLM and writes the logits of every position as raw
// little-endian float32 [n_tokens, n_vocab], so pytest can compare them with llama.cpp's.
// Usage: llm_logits MODEL.gguf OUT.bin ID [ID ...]. Test-only; must never be used by the engine.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "models/llm_model.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL.gguf OUT.bin ID [ID ...]\n", argv[0]);
    return 2;
  }
  try {
    auto model = duet::models::LlmModel::load(argv[1]);
    std::vector<int32_t> ids;
    for (int i = 3; i < argc; ++i) ids.push_back(std::atoi(argv[i]));
    const char* batch = std::getenv("DUET_TEST_BATCH");
    duet::models::LlmSession session(model, {.n_ctx = 512, .n_batch = batch ? std::atoi(batch) : 64, .all_logits = true});
    session.decode(ids);
    std::ofstream out(argv[2], std::ios::binary);
    for (size_t i = 0; i < ids.size(); ++i) {
      auto l = session.logits_at(static_cast<int64_t>(i));
      out.write(reinterpret_cast<const char*>(l.data()), static_cast<std::streamsize>(l.size() * sizeof(float)));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm_logits: %s\n", e.what());
    return 1;
  }
  return 0;
}
