// bench_runtime_whisper_encoder MODEL.gguf [THREADS] [FRAMES] [REPS]: times WhisperState::encode()
// (conv stem, transformer layers, cross-attention K/V) over FRAMES mel frames (default 1000, the
// shortest window Duet encodes) on THREADS threads (default 2), and prints the best and median of
// REPS runs (default 8). Then the decoder over that window as a look at the transcript uses it:
// one pass over 1, 8, 16 and 32 tokens with every token's logits (a prompt and its draft), and
// one sequential step after 16 tokens. The mel input is a fixed pseudo-random pattern: the cost
// does not depend on the values. Must never assert on timings: numbers are for people.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "core/cancel.hpp"
#include "models/whisper.hpp"
#include "runtime/thread_pool.hpp"

int main(int argc, char** argv) {
  using namespace duet;
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_runtime_whisper_encoder MODEL.gguf [THREADS] [FRAMES] [REPS]\n");
    return 2;
  }
  try {
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const int64_t frames = argc > 3 ? std::atoll(argv[3]) : 1000;
    const int reps = argc > 4 ? std::max(1, std::atoi(argv[4])) : 8;
    const auto model = whisper::WhisperModel::load(argv[1]);
    rt::ThreadPool pool(threads);
    whisper::WhisperState state(model, &pool);
    std::vector<float> mel(static_cast<size_t>(model->hparams().n_mels * frames));
    uint32_t s = 12345;
    for (float& v : mel) {
      s = s * 1664525u + 1013904223u;
      v = static_cast<float>(s >> 8) / static_cast<float>(1u << 24) * 1.5f - 0.5f;  // log-mel-like range
    }
    const CancelToken cancel;
    state.encode(mel, frames, cancel);  // warm-up: sizes the scratch
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      state.encode(mel, frames, cancel);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%s: encoder, %lld frames (%lld positions), %d threads: best %.1f ms, median %.1f ms\n",
                argv[1], static_cast<long long>(frames), static_cast<long long>(state.n_audio()), threads,
                ms.front(), ms[ms.size() / 2]);

    // Ordinary text tokens (ids 300..): the decoder's cost does not depend on which.
    const auto time_decoder = [&](int64_t n_tokens, int64_t n_past) {
      std::vector<int32_t> ids(static_cast<size_t>(n_tokens));
      std::vector<int64_t> rows(static_cast<size_t>(n_tokens));
      for (int64_t i = 0; i < n_tokens; ++i) {
        ids[static_cast<size_t>(i)] = static_cast<int32_t>(300 + i);
        rows[static_cast<size_t>(i)] = i;
      }
      std::vector<double> t;
      for (int r = 0; r < reps + 1; ++r) {  // the first run sizes the scratch
        const auto t0 = std::chrono::steady_clock::now();
        state.decode_rows(ids, n_past, rows, cancel);
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      t.erase(t.begin());
      std::sort(t.begin(), t.end());
      return std::pair(t.front(), t[t.size() / 2]);
    };
    for (const int64_t n : {1, 8, 16, 32}) {
      const auto [best, median] = time_decoder(n, 0);
      std::printf("decoder pass, %lld tokens with their logits: best %.2f ms, median %.2f ms\n",
                  static_cast<long long>(n), best, median);
    }
    const auto [best, median] = time_decoder(1, 16);
    std::printf("decoder step after 16 tokens: best %.2f ms, median %.2f ms\n", best, median);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_runtime_whisper_encoder: %s\n", e.what());
    return 1;
  }
  return 0;
}
