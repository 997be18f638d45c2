// Benchmark of the streaming Piper voice: time to the first audio chunk for a typical reply and
// the real-time factor (synthesis time / audio time) of the whole reply, best of N runs, also as
// CPU time (all threads; the fairer figure on a shared machine). Prints one JSON line. Must never
// assert on timings.
//
//   bench_tts [--model PATH.gguf] [--threads N] [--runs N] [--text "..."]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>

#include "core/cancel.hpp"
#include "speech/piper_voice.hpp"

namespace {

constexpr const char* kTypicalReply =
    "Sure, I can help with that. The quickest way is to open the settings, choose the network "
    "tab, and switch the connection off and on again. If that does not work, let me know and "
    "we will try something else.";

}  // namespace

int main(int argc, char** argv) {
  std::string model;
  std::string text = kTypicalReply;
  int threads = 2;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--model") model = argv[i + 1];
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--runs") runs = std::stoi(argv[i + 1]);
    else if (a == "--text") text = argv[i + 1];
  }
  try {
    duet::PiperVoice voice(model.empty() ? "piper" : "piper:" + model, threads);
    using Clock = std::chrono::steady_clock;
    double best_first = 1e9, best_total = 1e9, best_cpu = 1e9, best_first_cpu = 1e9, audio_s = 0;
    for (int r = 0; r < runs; ++r) {
      duet::PiperControls c;
      c.seed = 1;
      auto stream = voice.stream(c);
      const auto t0 = Clock::now();
      const std::clock_t c0 = std::clock();
      stream->push_text(text);
      stream->finish();
      const duet::CancelToken cancel;
      double first = -1, first_cpu = -1;
      size_t samples = 0;
      while (auto chunk = stream->next_chunk(cancel)) {
        if (first < 0) {
          first = std::chrono::duration<double>(Clock::now() - t0).count();
          first_cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
        }
        samples += chunk->samples.size();
      }
      const double total = std::chrono::duration<double>(Clock::now() - t0).count();
      best_first = std::min(best_first, first);
      best_first_cpu = std::min(best_first_cpu, first_cpu);
      best_total = std::min(best_total, total);
      best_cpu = std::min(best_cpu, static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
      audio_s = static_cast<double>(samples) / stream->sample_rate();
    }
    std::printf("{\"engine\": \"duet\", \"threads\": %d, \"first_chunk_ms\": %.1f, "
                "\"first_chunk_cpu_ms\": %.1f, "
                "\"total_s\": %.3f, \"audio_s\": %.3f, \"rtf\": %.4f, \"cpu_s\": %.3f, "
                "\"cpu_rtf\": %.4f}\n",
                threads, best_first * 1e3, best_first_cpu * 1e3, best_total, audio_s, best_total / audio_s, best_cpu,
                best_cpu / audio_s);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tts: %s\n", e.what());
    return 1;
  }
}
