// Runtime benchmarks: matmul throughput (GFLOP/s and weight GB/s) for Q4_1, Q4_K, Q6_K, Q8_0, Q5_0 and
// F16 weights at the shapes of 135M-270M models, decode (1 token) and prefill (64 tokens; 512 at
// Gemma 3 shapes, a whole prompt), 1 and 2
// threads (weights rotate through enough copies to exceed the caches, as a real forward pass does);
// the cost of one empty ThreadPool::parallel_for; decode attention over a long F16 cache; and the
// Whisper tiny encoder's GEMM shapes (float weights, 500-1000 tokens) through the tile kernels
// (matmul_tiles, the old path) and the packed GEMM (matmul) in the same run. Must never assert on
// timings: numbers are for people.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/attention.hpp"
#include "runtime/matmul.hpp"
#include "runtime/thread_pool.hpp"

namespace {

using namespace duet::rt;

constexpr size_t kWorkingSetBytes = size_t{384} << 20;  // well past any L3

struct Fixture {
  std::vector<std::vector<uint8_t>> copies;  // each: type [n_out, n_in]
  std::vector<float> x;                      // f32 [n_tokens, n_in]
  std::vector<float> y;                      // f32 [n_tokens, n_out]
  std::vector<uint8_t> scratch;
};

Fixture make_fixture(DType type, int64_t n_in, int64_t n_out, int64_t n_tokens) {
  Fixture f;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(n_in * n_out));
  for (float& v : w) v = dist(rng);
  const size_t rb = dtype_row_bytes(type, n_in);
  std::vector<uint8_t> q(rb * static_cast<size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) quantize_row(type, w.data() + r * n_in, q.data() + r * rb, n_in);
  const size_t n_copies = std::max<size_t>(1, std::min<size_t>(64, kWorkingSetBytes / q.size()));
  f.copies.assign(n_copies, q);
  f.x.resize(static_cast<size_t>(n_in * n_tokens));
  for (float& v : f.x) v = dist(rng);
  f.y.resize(static_cast<size_t>(n_out * n_tokens));
  f.scratch.resize(matmul_scratch_bytes(type, n_in, n_tokens));
  return f;
}

void bench(benchmark::State& state, DType type, int64_t n_in, int64_t n_out, int64_t n_tokens, int threads,
           bool tiles_only) {
  Fixture f = make_fixture(type, n_in, n_out, n_tokens);
  ThreadPool pool(threads);
  size_t i = 0;
  for (auto _ : state) {
    const WeightView w = WeightView::of(type, n_in, n_out, f.copies[i].data());
    if (tiles_only) {
      matmul_tiles(w, f.x.data(), n_tokens, f.y.data(), f.scratch, &pool);
    } else {
      matmul(w, f.x.data(), n_tokens, f.y.data(), f.scratch, &pool);
    }
    benchmark::DoNotOptimize(f.y.data());
    i = (i + 1) % f.copies.size();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n_in * n_out * n_tokens * iters / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(f.copies[0].size()) * iters / 1e9,
                                              benchmark::Counter::kIsRate);
}

void bench_parallel_for(benchmark::State& state) {
  ThreadPool pool(2);
  std::vector<int64_t> sink(2 * 16);
  for (auto _ : state) {
    pool.parallel_for(2, [&](int64_t b, int64_t e, int t) { sink[static_cast<size_t>(t) * 16] += e - b; });
  }
  benchmark::DoNotOptimize(sink.data());
}

// One decode step of SmolLM2-135M-like attention: 9 heads, 3 KV heads, head_dim 64.
void bench_attention(benchmark::State& state, int64_t n_kv, int threads) {
  const int64_t n_head = 9, n_head_kv = 3, hd = 64;
  KvCache cache(1, n_kv, n_head_kv, hd, DType::F16);
  KvLayer layer = cache.layer(0);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> kv(static_cast<size_t>(n_kv * n_head_kv * hd));
  for (float& v : kv) v = dist(rng);
  kv_store(layer, 0, kv.data(), kv.data(), n_kv);
  std::vector<float> q(static_cast<size_t>(n_head * hd)), out(q.size());
  for (float& v : q) v = dist(rng);
  ThreadPool pool(threads);
  std::vector<float> scratch(attention_scratch_floats(n_kv, threads));
  AttentionParams p;
  p.n_head = n_head;
  p.n_head_kv = n_head_kv;
  p.head_dim = hd;
  for (auto _ : state) {
    attention(q.data(), 1, layer, n_kv - 1, n_kv, p, out.data(), scratch, &pool);
    benchmark::DoNotOptimize(out.data());
  }
}

}  // namespace

int main(int argc, char** argv) {
  struct Shape {
    int64_t n_in, n_out;
  };
  // SmolLM2-135M: 576 x 1536 (ffn up/gate), 1536 x 576 (down), 576 x 49152 (output head);
  // Gemma 3 270M: 640 x 2048, 2048 x 640.
  const Shape shapes[] = {{576, 1536}, {1536, 576}, {640, 2048}, {2048, 640}, {576, 49152}};
  const DType types[] = {DType::Q4_1, DType::Q4_K, DType::Q6_K, DType::Q8_0, DType::Q5_0, DType::F16};
  for (DType type : types) {
    for (const Shape& s : shapes) {
      const int64_t block = dtype_layout(static_cast<uint32_t>(type))->block_elems;
      if (s.n_in % block != 0) continue;  // e.g. K-quants need rows of 256
      for (int64_t tokens : {1, 64, 512}) {
        if (tokens > 1 && s.n_out == 49152) continue;  // logits are only computed for one token
        if (tokens == 512 && s.n_in != 640 && s.n_out != 640) continue;  // a Gemma 3 prefill: its shapes only
        for (int threads : {1, 2}) {
          const std::string name = std::string(dtype_name(type)) + "/" + std::to_string(s.n_in) + "x" +
                                   std::to_string(s.n_out) + "/tokens:" + std::to_string(tokens) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), bench, type, s.n_in, s.n_out, tokens, threads, false)
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  // Whisper tiny encoder: conv1 (80 mels x 3 taps -> 384, 1000 frames), conv2 (384 x 3 -> 384,
  // 500 positions), q/k/v/o and cross k/v (384 -> 384), FFN up (384 -> 1536) and down (1536 -> 384).
  struct Gemm {
    int64_t n_in, n_out, n_tokens;
  };
  const Gemm encoder[] = {{240, 384, 1000}, {1152, 384, 500}, {384, 384, 500}, {384, 1536, 500}, {1536, 384, 500}};
  for (DType type : {DType::F16, DType::F32, DType::BF16}) {
    for (const Gemm& g : encoder) {
      if (type != DType::F16 && g.n_out != 1536) continue;  // other float types: one shape
      for (int threads : {1, 2}) {
        for (bool tiles : {true, false}) {
          const std::string name = "Encoder/" + std::string(dtype_name(type)) + "/" + std::to_string(g.n_in) + "x" +
                                   std::to_string(g.n_out) + "/tokens:" + std::to_string(g.n_tokens) +
                                   "/threads:" + std::to_string(threads) + (tiles ? "/tiles" : "/packed");
          benchmark::RegisterBenchmark(name.c_str(), bench, type, g.n_in, g.n_out, g.n_tokens, threads, tiles)
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        }
      }
    }
  }
  benchmark::RegisterBenchmark("ThreadPool/parallel_for_empty/threads:2", bench_parallel_for)->UseRealTime();
  for (int64_t n_kv : {512, 4096}) {
    for (int threads : {1, 2}) {
      const std::string name = "Attention/decode_f16/n_kv:" + std::to_string(n_kv) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), bench_attention, n_kv, threads)->UseRealTime()->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
