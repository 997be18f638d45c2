// The integer GEMM's driver: packing weights at load (per-row quantization into panel order),
// admission, scratch layout (quantized activation rows and their scales) and the split of items
// over the thread pool. Portable code: the AVX2 work is in gemm_int16_avx2.cpp. Must never
// allocate in gemm_int16().
#include "runtime/gemm_int16.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "runtime/quants.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {
namespace {

constexpr size_t kAlign = 64;

size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

}  // namespace

std::shared_ptr<const Int16Panels> pack_int16_panels(const WeightView& w) {
  if (w.n_in <= 0 || w.n_out <= 0 || !w.data) {
    fail("int16 GEMM packing: empty weights ({} x {})", w.n_out, w.n_in);
  }
  auto p = std::make_shared<Int16Panels>();
  p->n_in = w.n_in;
  p->n_out = w.n_out;
  p->n_in_even = (w.n_in + 1) / 2 * 2;
  p->n_panels = (w.n_out + kInt16Panel - 1) / kInt16Panel;
  p->data = ZeroedPages(static_cast<size_t>(p->n_panels * p->n_in_even * kInt16Panel) * sizeof(int16_t));
  p->scale = std::make_unique<float[]>(static_cast<size_t>(p->n_panels * kInt16Panel));  // zeroed

  std::vector<float> row(static_cast<size_t>(w.n_in));
  for (int64_t o = 0; o < w.n_out; ++o) {
    dequantize_row(w.type, w.data + static_cast<size_t>(o) * w.row_bytes, row.data(), w.n_in);
    float max_abs = 0.0f;
    for (int64_t k = 0; k < w.n_in; ++k) {
      if (!std::isfinite(row[k])) fail("int16 GEMM packing: weight row {} holds a non-finite value", o);
      max_abs = std::max(max_abs, std::fabs(row[k]));
    }
    const float scale = max_abs / static_cast<float>(kInt16WeightMax);
    const float inv = max_abs > 0.0f ? 1.0f / scale : 0.0f;
    p->scale[static_cast<size_t>(o)] = scale;
    int16_t* panel = p->panel(o / kInt16Panel);
    const int64_t c = o % kInt16Panel;
    for (int64_t k = 0; k < w.n_in; ++k) {
      const long q = std::lrint(row[k] * inv);
      panel[(k / 2) * 2 * kInt16Panel + c * 2 + k % 2] =
          static_cast<int16_t>(std::clamp<long>(q, -kInt16WeightMax, kInt16WeightMax));
    }
  }
  return p;
}

bool gemm_int16_applies(const WeightView& w, Isa isa, int64_t n_tokens) {
  return w.int16 && isa == Isa::Avx2 && cpu_has_avx2() && n_tokens >= kInt16MinTokens;
}

size_t gemm_int16_scratch_bytes(int64_t n_in, int64_t n_tokens) {
  const auto rows = static_cast<size_t>(std::max<int64_t>(n_tokens, 0));
  const auto even = static_cast<size_t>((std::max<int64_t>(n_in, 0) + 1) / 2 * 2);
  return round_up(rows * even * sizeof(int16_t)) + round_up(rows * sizeof(float)) + kAlign;
}

void gemm_int16(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                std::span<uint8_t> scratch, ThreadPool* pool, MicroKernel kernel) {
  if (!w.int16) fail("int16 GEMM: the weights were not packed for it");
  if (!cpu_has_avx2()) fail("int16 GEMM: this CPU has no AVX2");
  const bool wide = kernel == MicroKernel::Avx512;
  if (wide && !cpu_has_avx512()) fail("int16 GEMM: this CPU has no AVX-512 VNNI");
  const Int16Panels& p = *w.int16;
  if (p.n_in != w.n_in || p.n_out != w.n_out) {
    fail("int16 GEMM: packed weights are {} x {}, the view {} x {}", p.n_out, p.n_in, w.n_out, w.n_in);
  }
  if (n_tokens <= 0) return;
  const size_t need = gemm_int16_scratch_bytes(p.n_in, n_tokens);
  if (scratch.size() < need) {
    fail("matmul scratch too small for the int16 GEMM: {} bytes, need {} ({} inputs, {} tokens)",
         scratch.size(), need, p.n_in, n_tokens);
  }
  const auto base = reinterpret_cast<uintptr_t>(scratch.data());
  uint8_t* at = scratch.data() + (kAlign - base % kAlign) % kAlign;
  auto* q = reinterpret_cast<int16_t*>(at);
  auto* q_scale = reinterpret_cast<float*>(
      at + round_up(static_cast<size_t>(n_tokens * p.n_in_even) * sizeof(int16_t)));

  const bool parallel = pool && pool->size() > 1;
  auto quantize = [&](int64_t b, int64_t e, int) {
    kern::int16_quantize_rows_avx2(x, p.n_in, p.n_in_even, b, e, q, q_scale);
  };
  if (parallel) {
    pool->parallel_for(n_tokens, quantize);
  } else {
    quantize(0, n_tokens, 0);
  }

  // Near-equal token blocks of at most kInt16TokenBlock, rounded up to whole micro-kernels.
  const int64_t micro = wide ? kInt16TokensAvx512 : kInt16Tokens;
  const int64_t n_blocks = (n_tokens + kInt16TokenBlock - 1) / kInt16TokenBlock;
  int64_t mc = (n_tokens + n_blocks - 1) / n_blocks;
  mc = (mc + micro - 1) / micro * micro;
  const int64_t n_items = ((n_tokens + mc - 1) / mc) * p.n_panels;
  auto work = [&](int64_t b, int64_t e, int) {
    if (wide) {
      kern::gemm_int16_avx512_items(p, q, q_scale, n_tokens, y, mc, b, e);
    } else {
      kern::gemm_int16_avx2_items(p, q, q_scale, n_tokens, y, mc, b, e);
    }
  };
  if (parallel && n_items > 1) {
    pool->parallel_for(n_items, work);
  } else {
    work(0, n_items, 0);
  }
}

}  // namespace duet::rt
