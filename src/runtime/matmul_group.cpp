// matmul_group(): one activation quantization and one thread-pool job over the row tiles of all
// the targets, in target order. Must never allocate, nor run a kernel on rows outside a target.
#include "runtime/matmul_group.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {
namespace {

// The same threshold as matmul(): below this many multiply-adds the workers stay asleep.
constexpr int64_t kMinParallelMacs = 1 << 15;

}  // namespace

void matmul_group(std::span<const MatmulTarget> targets, const float* x, int64_t n_tokens,
                  std::span<uint8_t> scratch, ThreadPool* pool, Isa isa) {
  if (targets.size() > kMaxMatmulGroup) fail("matmul_group: {} targets, at most {}", targets.size(), kMaxMatmulGroup);
  if (targets.empty() || n_tokens <= 0) return;
  const int64_t n_in = targets[0].w->n_in;
  std::array<const QuantTraits*, kMaxMatmulGroup> traits{};
  bool shared = true;
  for (size_t i = 0; i < targets.size(); ++i) {
    const WeightView& w = *targets[i].w;
    if (w.n_in != n_in) fail("matmul_group: weights of {} and {} inputs share one input", n_in, w.n_in);
    traits[i] = quant_traits(w.type, isa);
    if (!traits[i] || !traits[i]->gemm) fail("no matmul kernel for weights of type {}", dtype_name(w.type));
    shared = shared && traits[i]->act_type != DType::F32 && traits[i]->act_type == traits[0]->act_type;
  }
  if (!shared) {
    for (const MatmulTarget& t : targets) matmul(*t.w, x, n_tokens, t.y, scratch, pool, isa);
    return;
  }

  // Activations in the type every kernel of the group dots against.
  const DType act = traits[0]->act_type;
  const size_t a_stride = dtype_row_bytes(act, n_in);
  const uint8_t* a = quantize_activations(act, isa, x, n_in, n_tokens, scratch, pool);

  // Row tiles of all targets, numbered in target order.
  std::array<int64_t, kMaxMatmulGroup + 1> first_tile{};
  int64_t macs = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const int64_t tr = traits[i]->tile_rows;
    first_tile[i + 1] = first_tile[i] + (targets[i].w->n_out + tr - 1) / tr;
    macs += n_in * targets[i].w->n_out * n_tokens;
  }
  auto work = [&](int64_t tile_begin, int64_t tile_end, int) {
    // The claimed range, cut at target boundaries.
    for (size_t i = 0; i < targets.size() && tile_begin < tile_end; ++i) {
      const int64_t b = std::max(tile_begin, first_tile[i]);
      const int64_t e = std::min(tile_end, first_tile[i + 1]);
      if (b >= e) continue;
      run_row_tiles(*traits[i], *targets[i].w, b - first_tile[i], e - first_tile[i], a, a_stride, n_tokens,
                    targets[i].y);
    }
  };
  const int64_t n_tiles = first_tile[targets.size()];
  if (pool && pool->size() > 1 && macs >= kMinParallelMacs) {
    pool->parallel_for(n_tiles, work);
  } else {
    work(0, n_tiles, 0);
  }
}

}  // namespace duet::rt
