// bench_runtime_model MODEL.gguf [THREADS] [TOKENS]: times every matmul of one forward pass of a
// real GGUF model (all 2-D blk.* weights, plus the output head: output.weight or the tied
// token_embd) for TOKENS tokens (default 1: decode) on THREADS threads (default 2), best of a few
// runs, and prints the total time and weight GB/s - the number to hold against llama.cpp's
// per-token time on the same threads. Must never assert on timings.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "runtime/gguf.hpp"
#include "runtime/matmul.hpp"
#include "runtime/thread_pool.hpp"

int main(int argc, char** argv) {
  using namespace duet::rt;
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_runtime_model MODEL.gguf [THREADS] [TOKENS]\n");
    return 2;
  }
  try {
    const GgufFile file = GgufFile::open(argv[1]);
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const int64_t tokens = argc > 3 ? std::atoll(argv[3]) : 1;
    std::vector<WeightView> weights;
    bool has_output = false;
    for (const TensorInfo& t : file.tensors()) {
      if (t.n_dims == 2 && t.name.rfind("blk.", 0) == 0) weights.push_back(WeightView::of(t));
      if (t.name == "output.weight") {
        weights.push_back(WeightView::of(t));
        has_output = true;
      }
    }
    if (!has_output) weights.push_back(WeightView::of(file.tensor("token_embd.weight")));
    int64_t max_in = 0, max_out = 0;
    size_t scratch_bytes = 0, total_bytes = 0;
    for (const WeightView& w : weights) {
      max_in = std::max(max_in, w.n_in);
      max_out = std::max(max_out, w.n_out);
      scratch_bytes = std::max(scratch_bytes, matmul_scratch_bytes(w.type, w.n_in, tokens));
      total_bytes += w.row_bytes * static_cast<size_t>(w.n_out);
    }
    std::vector<float> x(static_cast<size_t>(max_in * tokens), 0.01f);
    std::vector<float> y(static_cast<size_t>(max_out * tokens));
    std::vector<uint8_t> scratch(scratch_bytes);
    ThreadPool pool(threads);
    double best = 1e30, best_head = 1e30;
    for (int rep = 0; rep < 12; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t i = 0; i + 1 < weights.size(); ++i) {
        matmul(weights[i], x.data(), tokens, y.data(), scratch, &pool);
      }
      const auto t1 = std::chrono::steady_clock::now();
      matmul(weights.back(), x.data(), 1, y.data(), scratch, &pool);  // logits of the last token only
      const auto t2 = std::chrono::steady_clock::now();
      best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
      best_head = std::min(best_head, std::chrono::duration<double>(t2 - t1).count());
    }
    const double head_bytes = static_cast<double>(weights.back().row_bytes * weights.back().n_out);
    std::printf("%s: %zu matmuls, %.1f MB of weights, %d threads, %lld tokens\n", argv[1], weights.size(),
                static_cast<double>(total_bytes) / 1e6, threads, static_cast<long long>(tokens));
    std::printf("  layers: %.3f ms (%.1f GB/s)  head: %.3f ms (%.1f GB/s)  total: %.3f ms\n", best * 1e3,
                (static_cast<double>(total_bytes) - head_bytes) / best / 1e9, best_head * 1e3,
                head_bytes / best_head / 1e9, (best + best_head) * 1e3);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_runtime_model: %s\n", e.what());
    return 1;
  }
  return 0;
}
