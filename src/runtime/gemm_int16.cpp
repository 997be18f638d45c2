// The integer GEMM's driver: packing weights at load (per-row quantization into panel order),
// admission, scratch layout (quantized activation rows and their scales) and the split of items
// over the thread pool, item by item through the micro-kernel of the chosen width. Portable code:
// the AVX2 and AVX-512 work is in gemm_int16_avx2.cpp and gemm_int16_avx512.cpp. Must never
// allocate in gemm_int16().
#include "runtime/gemm_int16.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "runtime/quants.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/weight_row_quantizer.hpp"

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

  std::vector<float> row;
  for (int64_t o = 0; o < w.n_out; ++o) {
    int16_t* panel = p->panel(o / kInt16Panel);
    const int64_t c = o % kInt16Panel;
    p->scale[static_cast<size_t>(o)] =
        quantize_weight_row(w, o, kInt16WeightMax, "int16 GEMM packing", row, [&](int64_t k, int32_t q) {
          panel[(k / 2) * 2 * kInt16Panel + c * 2 + k % 2] = static_cast<int16_t>(q);
        });
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

  const int64_t micro = wide ? kInt16TokensAvx512 : kInt16Tokens;
  const int64_t mc = token_block(n_tokens, kInt16TokenBlock, micro);
  const int64_t n_items = ((n_tokens + mc - 1) / mc) * p.n_panels;
  const auto micro_kernel = wide ? &kern::int16_micro_avx512 : &kern::int16_micro_avx2;
  const size_t qs = static_cast<size_t>(p.n_in_even);
  const size_t ys = static_cast<size_t>(p.n_out);
  // Item = (token block, panel): each input slice of the panel against the block's tokens, a
  // micro-kernel's worth at a time.
  auto work = [&](int64_t b, int64_t e, int) {
    for (int64_t item = b; item < e; ++item) {
      const int64_t t0 = (item / p.n_panels) * mc;
      const int64_t t1 = std::min(n_tokens, t0 + mc);
      const int64_t panel = item % p.n_panels;
      const int64_t o0 = panel * kInt16Panel;
      const int nr = static_cast<int>(std::min<int64_t>(kInt16Panel, p.n_out - o0));
      for (int64_t k0 = 0; k0 < p.n_in_even; k0 += kInt16Depth) {
        const int64_t np = std::min(kInt16Depth, p.n_in_even - k0) / 2;
        for (int64_t t = t0; t < t1; t += micro) {
          const int m = static_cast<int>(std::min<int64_t>(micro, t1 - t));
          micro_kernel(np, q + static_cast<size_t>(t) * qs + k0, qs, m, p.panel(panel) + k0 * kInt16Panel, q_scale + t,
                       p.scale.get() + o0, y + static_cast<size_t>(t) * ys + o0, ys, nr, k0 > 0);
        }
      }
    }
  };
  if (parallel && n_items > 1) {
    pool->parallel_for(n_items, work);
  } else {
    work(0, n_items, 0);
  }
}

}  // namespace duet::rt
