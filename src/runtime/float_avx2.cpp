// AVX2/FMA kernels for float weights: F32/F16/BF16 weight rows x f32 activation rows, as tile
// kernels of up to 4 rows x 4 tokens (each weight vector converted once and used for every token of
// the tile). Must never be called on a CPU without AVX2/FMA/F16C; matches quants_ref.cpp up to
// float summation order.
#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "runtime/half.hpp"
#include "runtime/quants_impl.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include "runtime/float_rows_avx2.hpp"
#define DUET_AVX2_REGION 1
#include "runtime/avx2_common.hpp"

namespace duet::rt::kern::avx2 {
namespace {

using float_rows::BF16W;
using float_rows::F16W;
using float_rows::F32W;

template <class F, int R, int C>
struct TileF {
  // Here nb is the element count n (float types have 1-element blocks).
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                  size_t ys) {
    using T = typename F::T;
    const T* wr[R];
    const float* ar[C];
    for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const T*>(w + static_cast<size_t>(r) * ws);
    for (int c = 0; c < C; ++c) ar[c] = reinterpret_cast<const float*>(a + static_cast<size_t>(c) * as);
    // Single rows and columns get two accumulator sets so the FMA chains overlap.
    constexpr int kU = (R * C <= 2) ? 2 : 1;
    __m256 acc[kU][R][C];
    for (int u = 0; u < kU; ++u)
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) acc[u][r][c] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 * kU <= n; i += 8 * kU) {
      prefetch_ahead<R>(w, ws, 8 * kU * sizeof(T), i / (8 * kU));
      for (int u = 0; u < kU; ++u) {
        __m256 av[C];
        for (int c = 0; c < C; ++c) av[c] = _mm256_loadu_ps(ar[c] + i + 8 * u);
        for (int r = 0; r < R; ++r) {
          const __m256 wv = F::load8(wr[r] + i + 8 * u);
          for (int c = 0; c < C; ++c) acc[u][r][c] = _mm256_fmadd_ps(wv, av[c], acc[u][r][c]);
        }
      }
    }
    for (; i + 8 <= n; i += 8) {
      for (int r = 0; r < R; ++r) {
        const __m256 wv = F::load8(wr[r] + i);
        for (int c = 0; c < C; ++c) acc[0][r][c] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(ar[c] + i), acc[0][r][c]);
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int c = 0; c < C; ++c) {
        __m256 s = acc[0][r][c];
        if constexpr (kU == 2) s = _mm256_add_ps(s, acc[1][r][c]);
        float sum = hsum(s);
        for (int64_t j = i; j < n; ++j) sum += F::one(wr[r][j]) * ar[c][j];
        y[static_cast<size_t>(c) * ys + r] = sum;
      }
    }
  }
};

// 4 x 2: eight accumulators plus operands fit the 16 ymm registers (4 x 4 spills).
constexpr int kRows = 4;
constexpr int kCols = 2;

template <class F>
struct Entry {
  template <int R, int C>
  using K = TileF<F, R, C>;
  static void gemm(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc,
                   float* y, size_t ys) {
    static constexpr TileTable<K, kRows, kCols> table;
    table.fns[nr - 1][nc - 1](n, static_cast<const uint8_t*>(w), ws, static_cast<const uint8_t*>(a), as, y, ys);
  }
  static float dot(int64_t n, const void* w, const void* a) {
    float y;
    TileF<F, 1, 1>::run(n, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(a), 0, &y, 0);
    return y;
  }
};

void f16_to_float_avx2(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, F16W::load8(h + i));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(h[i]);
}

void float_to_f16_avx2(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) h[i] = static_cast<uint16_t>(_cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT));
}

}  // namespace
}  // namespace duet::rt::kern::avx2

namespace duet::rt::kern {

void avx2_fill_float(QuantTraits& t) {
  using namespace avx2;
  auto set = [&t](auto entry) {
    using E = decltype(entry);
    t.vec_dot = &E::dot;
    t.gemm = &E::gemm;
    t.tile_rows = kRows;
    t.tile_cols = kCols;
  };
  switch (t.type) {
    case DType::F32: set(Entry<F32W>{}); break;
    case DType::F16:
      set(Entry<F16W>{});
      t.to_float = &f16_to_float_avx2;
      t.from_float = &float_to_f16_avx2;
      break;
    case DType::BF16: set(Entry<BF16W>{}); break;
    default: break;
  }
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
