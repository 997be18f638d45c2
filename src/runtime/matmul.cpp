// matmul(): weights a model packed for an integer GEMM take it with enough tokens (gemm_int8.hpp,
// gemm_int16.hpp); float weights with enough tokens go to the packed GEMM (gemm_float.hpp); everything
// else quantizes activations once, then splits output rows over the pool and runs the type's tile
// kernel (tile_rows weight rows x tile_cols tokens), or for more tokens than a tile takes its
// gemm_rows kernel where it has one. Must never allocate or read past the weight rows and
// activation rows it was given.
#include "runtime/matmul.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "runtime/gemm_float.hpp"
#include "runtime/gemm_int16.hpp"
#include "runtime/gemm_int8.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {
namespace {

constexpr size_t kScratchAlign = 64;
// Below this many multiply-adds a job is not worth waking the workers for.
constexpr int64_t kMinParallelMacs = 1 << 15;

}  // namespace

WeightView WeightView::of(const TensorInfo& t) {
  if (t.ne[2] != 1 || t.ne[3] != 1) {
    fail("tensor '{}' has {} dimensions; a matmul weight must be 2-D", t.name, t.n_dims);
  }
  return of(t.type, t.ne[0], t.ne[1], t.data);
}

WeightView WeightView::of(DType type, int64_t n_in, int64_t n_out, const void* data) {
  WeightView w;
  w.type = type;
  w.n_in = n_in;
  w.n_out = n_out;
  w.data = static_cast<const uint8_t*>(data);
  w.row_bytes = dtype_row_bytes(type, n_in);
  return w;
}

const uint8_t* quantize_activations(DType act, Isa isa, const float* x, int64_t n_in, int64_t n_tokens,
                                    std::span<uint8_t> scratch, ThreadPool* pool) {
  const QuantTraits* at = quant_traits(act, isa);
  const size_t a_stride = dtype_row_bytes(act, n_in);
  const size_t need = a_stride * static_cast<size_t>(n_tokens) + kScratchAlign;
  if (scratch.size() < need) {
    fail("matmul scratch too small: {} bytes, need {} ({} x {} tokens)", scratch.size(), need,
         dtype_name(act), n_tokens);
  }
  const auto base = reinterpret_cast<uintptr_t>(scratch.data());
  uint8_t* q = scratch.data() + ((kScratchAlign - base % kScratchAlign) % kScratchAlign);
  auto quantize = [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) at->from_float(x + i * n_in, q + static_cast<size_t>(i) * a_stride, n_in);
  };
  if (pool && n_tokens >= 8) {
    pool->parallel_for(n_tokens, quantize);
  } else {
    quantize(0, n_tokens, 0);
  }
  return q;
}

int64_t token_block(int64_t n_tokens, int64_t max_block, int64_t micro) {
  const int64_t n_blocks = (n_tokens + max_block - 1) / max_block;
  const int64_t mc = (n_tokens + n_blocks - 1) / n_blocks;
  return (mc + micro - 1) / micro * micro;
}

size_t matmul_scratch_bytes(DType w_type, int64_t n_in, int64_t n_tokens) {
  const QuantTraits* t = quant_traits(w_type, Isa::Scalar);
  if (!t || !t->vec_dot) fail("no matmul kernel for weights of type {}", dtype_name(w_type));
  if (t->act_type == DType::F32) {
    return n_tokens >= kGemmMinTokens ? gemm_float_scratch_bytes(n_in) : 0;
  }
  return dtype_row_bytes(t->act_type, n_in) * static_cast<size_t>(n_tokens) + kScratchAlign;
}

size_t matmul_scratch_bytes(const WeightView& w, int64_t n_tokens) {
  size_t bytes = matmul_scratch_bytes(w.type, w.n_in, n_tokens);
  if (w.int16 && n_tokens >= kInt16MinTokens) bytes = std::max(bytes, gemm_int16_scratch_bytes(w.n_in, n_tokens));
  if (w.int8 && n_tokens >= kInt8MinTokens) bytes = std::max(bytes, gemm_int8_scratch_bytes(w.n_in, n_tokens));
  return bytes;
}

void run_row_tiles(const QuantTraits& t, const WeightView& w, int64_t tile_begin, int64_t tile_end,
                   const uint8_t* a, size_t a_stride, int64_t n_tokens, float* y) {
  const int tr = t.tile_rows;
  const int tc = t.tile_cols;
  if (t.gemm_rows && n_tokens > tc) {
    const int64_t r0 = tile_begin * tr;
    const int64_t r1 = std::min(tile_end * tr, w.n_out);
    t.gemm_rows(w.n_in, w.data + static_cast<size_t>(r0) * w.row_bytes, w.row_bytes, static_cast<int>(r1 - r0), a,
                a_stride, static_cast<int>(n_tokens), y + r0, static_cast<size_t>(w.n_out));
    return;
  }
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const int64_t r0 = tile * tr;
    const int nr = static_cast<int>(std::min<int64_t>(tr, w.n_out - r0));
    const uint8_t* wr = w.data + static_cast<size_t>(r0) * w.row_bytes;
    for (int64_t c0 = 0; c0 < n_tokens; c0 += tc) {
      const int nc = static_cast<int>(std::min<int64_t>(tc, n_tokens - c0));
      t.gemm(w.n_in, wr, w.row_bytes, nr, a + static_cast<size_t>(c0) * a_stride, a_stride, nc,
             y + c0 * w.n_out + r0, static_cast<size_t>(w.n_out));
    }
  }
}

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y,
            std::span<uint8_t> scratch, ThreadPool* pool, Isa isa) {
  if (gemm_int8_applies(w, isa, n_tokens)) {
    gemm_int8(w, x, n_tokens, y, scratch, pool);
    return;
  }
  if (gemm_int16_applies(w, isa, n_tokens)) {
    gemm_int16(w, x, n_tokens, y, scratch, pool);
    return;
  }
  if (gemm_float_applies(w.type, isa, n_tokens) && (!pool || pool->size() <= kGemmMaxThreads)) {
    gemm_float(w, x, n_tokens, y, scratch, pool);
    return;
  }
  matmul_tiles(w, x, n_tokens, y, scratch, pool, isa);
}

void matmul_tiles(const WeightView& w, const float* x, int64_t n_tokens, float* y,
                  std::span<uint8_t> scratch, ThreadPool* pool, Isa isa) {
  const QuantTraits* t = quant_traits(w.type, isa);
  if (!t || !t->gemm) fail("no matmul kernel for weights of type {}", dtype_name(w.type));
  if (n_tokens <= 0 || w.n_out <= 0) return;
  const int64_t n_in = w.n_in;

  // Activations in the type the kernel dots against.
  const uint8_t* a = reinterpret_cast<const uint8_t*>(x);
  size_t a_stride = static_cast<size_t>(n_in) * sizeof(float);
  if (t->act_type != DType::F32) {
    a_stride = dtype_row_bytes(t->act_type, n_in);
    a = quantize_activations(t->act_type, isa, x, n_in, n_tokens, scratch, pool);
  }

  const int64_t n_tiles = (w.n_out + t->tile_rows - 1) / t->tile_rows;
  auto work = [&](int64_t tile_begin, int64_t tile_end, int) {
    run_row_tiles(*t, w, tile_begin, tile_end, a, a_stride, n_tokens, y);
  };
  if (pool && pool->size() > 1 && n_in * w.n_out * n_tokens >= kMinParallelMacs) {
    pool->parallel_for(n_tiles, work);
  } else {
    work(0, n_tiles, 0);
  }
}

}  // namespace duet::rt
