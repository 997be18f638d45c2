// Benchmark program (never a test): the machine's streaming read bandwidth with N threads, the
// ceiling of a decode that reads every weight once per token. bench/llm/bench_llm.py puts it next
// to the decode's own bandwidth. Prints one JSON object; must never be used by the engine.
// Usage: bench_read_bandwidth THREADS [MIB]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

// Sums a slice with four independent accumulators, so loads (not the adds) set the pace.
uint64_t sum_slice(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s THREADS [MIB]\n", argv[0]);
    return 2;
  }
  const int threads = std::max(1, std::atoi(argv[1]));
  const size_t mib = argc == 3 ? static_cast<size_t>(std::max(64, std::atoi(argv[2]))) : 1024;
  const size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
  std::vector<uint64_t> buf(n);
  for (size_t i = 0; i < n; ++i) buf[i] = i * 0x9E3779B97F4A7C15ull;  // every page resident
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  double best_s = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const size_t lo = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
        const size_t hi = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
        sums[static_cast<size_t>(t)] = sum_slice(buf.data() + lo, hi - lo);
      });
    }
    for (auto& th : pool) th.join();
    best_s = std::min(best_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  uint64_t check = 0;
  for (uint64_t s : sums) check ^= s;
  std::printf("{\"threads\": %d, \"mib\": %zu, \"read_gb_s\": %.2f, \"checksum\": %llu}\n", threads, mib,
              static_cast<double>(n * sizeof(uint64_t)) / best_s / 1e9, static_cast<unsigned long long>(check));
  return 0;
}
