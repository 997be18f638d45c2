// The packed float GEMM's driver: admission (types, ISA, token count), scratch layout (one
// 64-byte-aligned panel buffer per thread) and the split of items over the thread pool. Portable
// code: the AVX2 work is in gemm_float_avx2.cpp. Must never allocate.
#include "runtime/gemm_float.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {
namespace {

constexpr size_t kAlign = 64;

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

size_t panel_bytes(int64_t n_in) {
  const size_t b = sizeof(float) * kGemmPanel * static_cast<size_t>(std::min(n_in, kGemmDepth));
  return (b + kAlign - 1) / kAlign * kAlign;
}

}  // namespace

bool gemm_float_applies(DType w_type, Isa isa, int64_t n_tokens) {
  return is_float(w_type) && isa == Isa::Avx2 && cpu_has_avx2() && n_tokens >= kGemmMinTokens;
}

size_t gemm_float_scratch_bytes(int64_t n_in) {
  return panel_bytes(n_in) * kGemmMaxThreads + kAlign;
}

void gemm_float(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                std::span<uint8_t> scratch, ThreadPool* pool, MicroKernel kernel) {
  if (!is_float(w.type) || !cpu_has_avx2()) {
    fail("packed float GEMM: weights of type {} on {} CPU", dtype_name(w.type),
         cpu_has_avx2() ? "an AVX2" : "a non-AVX2");
  }
  const bool wide = kernel == MicroKernel::Avx512;
  if (wide && !cpu_has_avx512()) fail("packed float GEMM: this CPU has no AVX-512");
  const int threads = pool ? pool->size() : 1;
  if (threads > kGemmMaxThreads) fail("packed float GEMM: {} threads, at most {}", threads, kGemmMaxThreads);
  if (n_tokens <= 0 || w.n_out <= 0 || w.n_in <= 0) return;
  const size_t pb = panel_bytes(w.n_in);
  const size_t need = pb * static_cast<size_t>(threads) + kAlign;
  if (scratch.size() < need) {
    fail("matmul scratch too small for the float GEMM: {} bytes, need {} ({} inputs, {} threads)",
         scratch.size(), need, w.n_in, threads);
  }
  const auto base = reinterpret_cast<uintptr_t>(scratch.data());
  uint8_t* buffers = scratch.data() + (kAlign - base % kAlign) % kAlign;

  const int64_t mc = token_block(n_tokens, kGemmTokenBlock, wide ? kGemmTokensAvx512 : kGemmTokens);
  const int64_t n_panels = (w.n_out + kGemmPanel - 1) / kGemmPanel;
  const int64_t n_items = ((n_tokens + mc - 1) / mc) * n_panels;

  auto work = [&](int64_t b, int64_t e, int t) {
    auto* panel = reinterpret_cast<float*>(buffers + static_cast<size_t>(t) * pb);
    kern::gemm_float_avx2_items(w, x, n_tokens, y, mc, b, e, panel, kernel);
  };
  if (pool && threads > 1 && n_items > 1) {
    pool->parallel_for(n_items, work);
  } else {
    work(0, n_items, 0);
  }
}

}  // namespace duet::rt
