// The 8-bit integer GEMM's driver: packing weights at load (per-row quantization into panel order,
// with each row's offset sum), admission, scratch layout (quantized activation rows and their
// scales) and the split of items over the thread pool. Portable code: the AVX-512 work is in
// gemm_int8_avx512.cpp. Must never allocate in gemm_int8().
#include "runtime/gemm_int8.hpp"

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

bool gemm_int8_available() { return cpu_has_avx512() && best_micro_kernel() == MicroKernel::Avx512; }

std::shared_ptr<const Int8Panels> pack_int8_panels(const WeightView& w) {
  if (w.n_in <= 0 || w.n_out <= 0 || !w.data) {
    fail("int8 GEMM packing: empty weights ({} x {})", w.n_out, w.n_in);
  }
  if (w.n_in > kInt8MaxInputs) {
    fail("int8 GEMM packing: rows of {} inputs, at most {} sum exactly in int32", w.n_in, kInt8MaxInputs);
  }
  auto p = std::make_shared<Int8Panels>();
  p->n_in = w.n_in;
  p->n_out = w.n_out;
  p->n_in_pad = (w.n_in + 3) / 4 * 4;
  p->n_panels = (w.n_out + kInt8Panel - 1) / kInt8Panel;
  p->data = ZeroedPages(static_cast<size_t>(p->n_panels * p->n_in_pad * kInt8Panel));
  p->scale = std::make_unique<float[]>(static_cast<size_t>(p->n_panels * kInt8Panel));     // zeroed
  p->offset = std::make_unique<int32_t[]>(static_cast<size_t>(p->n_panels * kInt8Panel));  // zeroed

  std::vector<float> row;
  for (int64_t o = 0; o < w.n_out; ++o) {
    int8_t* panel = p->panel(o / kInt8Panel);
    const int64_t c = o % kInt8Panel;
    int32_t sum = 0;
    p->scale[static_cast<size_t>(o)] =
        quantize_weight_row(w, o, kInt8WeightMax, "int8 GEMM packing", row, [&](int64_t k, int32_t q) {
          panel[(k / 4) * 4 * kInt8Panel + c * 4 + k % 4] = static_cast<int8_t>(q);
          sum += q;
        });
    p->offset[static_cast<size_t>(o)] = kInt8Offset * sum;
  }
  return p;
}

bool gemm_int8_applies(const WeightView& w, Isa isa, int64_t n_tokens) {
  return w.int8 && isa == Isa::Avx2 && gemm_int8_available() && n_tokens >= kInt8MinTokens;
}

size_t gemm_int8_scratch_bytes(int64_t n_in, int64_t n_tokens) {
  const auto rows = static_cast<size_t>(std::max<int64_t>(n_tokens, 0));
  const auto pad = static_cast<size_t>((std::max<int64_t>(n_in, 0) + 3) / 4 * 4);
  return round_up(rows * pad) + round_up(rows * sizeof(float)) + kAlign;
}

void gemm_int8(const WeightView& w, const float* x, int64_t n_tokens, float* y, std::span<uint8_t> scratch,
               ThreadPool* pool) {
  if (!w.int8) fail("int8 GEMM: the weights were not packed for it");
  if (!cpu_has_avx512()) fail("int8 GEMM: this CPU has no AVX-512 VNNI");
  const Int8Panels& p = *w.int8;
  if (p.n_in != w.n_in || p.n_out != w.n_out) {
    fail("int8 GEMM: packed weights are {} x {}, the view {} x {}", p.n_out, p.n_in, w.n_out, w.n_in);
  }
  if (n_tokens <= 0) return;
  const size_t need = gemm_int8_scratch_bytes(p.n_in, n_tokens);
  if (scratch.size() < need) {
    fail("matmul scratch too small for the int8 GEMM: {} bytes, need {} ({} inputs, {} tokens)", scratch.size(),
         need, p.n_in, n_tokens);
  }
  const auto base = reinterpret_cast<uintptr_t>(scratch.data());
  uint8_t* q = scratch.data() + (kAlign - base % kAlign) % kAlign;
  auto* q_scale = reinterpret_cast<float*>(q + round_up(static_cast<size_t>(n_tokens * p.n_in_pad)));

  const bool parallel = pool && pool->size() > 1;
  auto quantize = [&](int64_t b, int64_t e, int) {
    kern::int8_quantize_rows_avx512(x, p.n_in, p.n_in_pad, b, e, q, q_scale);
  };
  if (parallel) {
    pool->parallel_for(n_tokens, quantize);
  } else {
    quantize(0, n_tokens, 0);
  }

  const int64_t mc = token_block(n_tokens, kInt8TokenBlock, kInt8Tokens);
  const int64_t n_items = ((n_tokens + mc - 1) / mc) * p.n_panels;
  auto work = [&](int64_t b, int64_t e, int) { kern::gemm_int8_avx512_items(p, q, q_scale, n_tokens, y, mc, b, e); };
  if (parallel && n_items > 1) {
    pool->parallel_for(n_items, work);
  } else {
    work(0, n_items, 0);
  }
}

}  // namespace duet::rt
