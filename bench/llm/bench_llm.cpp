// Benchmark program (never a test): prefill and decode speed of Duet's LLM on one GGUF file, and
// the process's peak resident memory. Prints one JSON object. bench/llm/bench_llm.py runs it next
// to llama.cpp on the same file and computes the ratios.
// Usage: bench_llm MODEL.gguf THREADS PREFILL_TOKENS DECODE_TOKENS
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "models/llm_model.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s MODEL.gguf THREADS PREFILL_TOKENS DECODE_TOKENS\n", argv[0]);
    return 2;
  }
  using clock = std::chrono::steady_clock;
  try {
    const int threads = std::atoi(argv[2]);
    const int n_prefill = std::atoi(argv[3]);
    const int n_decode = std::atoi(argv[4]);
    auto model = duet::models::LlmModel::load(argv[1]);
    duet::models::LlmSession session(
        model, {.n_ctx = n_prefill + n_decode + 8, .n_batch = 512, .n_threads = threads});
    // A deterministic prompt of ordinary tokens (ids spread over the vocabulary).
    std::vector<int32_t> prompt(static_cast<size_t>(n_prefill));
    const auto n_vocab = static_cast<int32_t>(model->config().n_vocab);
    for (int i = 0; i < n_prefill; ++i) prompt[static_cast<size_t>(i)] = (1000 + i * 7919) % std::min(n_vocab, 30000);
    // Warm-up: one short pass so page faults of the weights are not timed.
    session.decode(std::span<const int32_t>(prompt.data(), 8));
    session.truncate(0);

    const auto t0 = clock::now();
    auto logits = session.decode(prompt);
    const auto t1 = clock::now();
    for (int i = 0; i < n_decode; ++i) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      const int32_t one[1] = {next};
      logits = session.decode(one);
    }
    const auto t2 = clock::now();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double prefill_s = std::chrono::duration<double>(t1 - t0).count();
    const double decode_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("{\"prefill_tok_s\": %.2f, \"decode_tok_s\": %.2f, \"peak_rss_mb\": %.1f}\n",
                n_prefill / prefill_s, n_decode / decode_s, ru.ru_maxrss / 1024.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_llm: %s\n", e.what());
    return 1;
  }
  return 0;
}
