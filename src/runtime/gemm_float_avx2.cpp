// AVX2/FMA kernels of the packed float GEMM (gemm_float.hpp): weight panels converted from
// F32/F16/BF16 to f32 and transposed 8x8 at a time into [k][16] order, and a micro-kernel of up
// to 6 tokens x 16 outputs that broadcasts one activation per token and FMAs it into two output
// vectors (or hands the panel to the AVX-512 micro-kernel, gemm_float_avx512.cpp, when asked).
// Must never be called on a CPU without AVX2/FMA/F16C, never read weight rows past n_out
// or activation rows past n_tokens, and never allocate.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "runtime/gemm_float.hpp"
#include "runtime/half.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include "runtime/float_rows_avx2.hpp"
#include "runtime/gemm_store_avx2.hpp"

namespace duet::rt::kern {
namespace {

using float_rows::BF16W;
using float_rows::F16W;
using float_rows::F32W;

// Rows r[0..7] -> columns: r[j] becomes (r0[j], r1[j], ..., r7[j]).
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// dst[k * 16 + r] = W[o0 + r][k0 + k] for r < nr (0 for nr <= r < 16), k < kc.
template <class F>
void pack_panel(const WeightView& w, int64_t o0, int nr, int64_t k0, int64_t kc, float* dst) {
  using T = typename F::T;
  const T* rows[kGemmPanel];
  for (int r = 0; r < kGemmPanel; ++r) {
    rows[r] = r < nr ? reinterpret_cast<const T*>(w.data + static_cast<size_t>(o0 + r) * w.row_bytes) + k0 : nullptr;
  }
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int g = 0; g < kGemmPanel / 8; ++g) {
      __m256 v[8];
      for (int r = 0; r < 8; ++r) {
        const int row = g * 8 + r;
        v[r] = row < nr ? F::load8(rows[row] + k) : _mm256_setzero_ps();
      }
      transpose8(v);
      for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (k + j) * kGemmPanel + g * 8, v[j]);
    }
  }
  for (; k < kc; ++k) {
    for (int r = 0; r < kGemmPanel; ++r) dst[k * kGemmPanel + r] = r < nr ? F::one(rows[r][k]) : 0.0f;
  }
}

// y[r * ys + o] (+)= sum_k x[r * xs + k] * panel[k * 16 + o] for r < m (1..6), o < nr. The twelve
// accumulators are named variables so they stay in registers; rows past m re-read the last real
// row (never past the activations) and are not stored.
void micro(int64_t kc, const float* x, size_t xs, int m, const float* panel, float* y, size_t ys, int nr,
           bool accumulate) {
  auto row = [&](int r) { return x + static_cast<size_t>(std::min(r, m - 1)) * xs; };
  const float *x0 = row(0), *x1 = row(1), *x2 = row(2), *x3 = row(3), *x4 = row(4), *x5 = row(5);
  __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0;
  __m256 a3 = a0, b3 = a0, a4 = a0, b4 = a0, a5 = a0, b5 = a0;
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 w0 = _mm256_load_ps(panel + k * kGemmPanel);
    const __m256 w1 = _mm256_load_ps(panel + k * kGemmPanel + 8);
    __m256 v = _mm256_broadcast_ss(x0 + k);
    a0 = _mm256_fmadd_ps(w0, v, a0);
    b0 = _mm256_fmadd_ps(w1, v, b0);
    v = _mm256_broadcast_ss(x1 + k);
    a1 = _mm256_fmadd_ps(w0, v, a1);
    b1 = _mm256_fmadd_ps(w1, v, b1);
    v = _mm256_broadcast_ss(x2 + k);
    a2 = _mm256_fmadd_ps(w0, v, a2);
    b2 = _mm256_fmadd_ps(w1, v, b2);
    v = _mm256_broadcast_ss(x3 + k);
    a3 = _mm256_fmadd_ps(w0, v, a3);
    b3 = _mm256_fmadd_ps(w1, v, b3);
    v = _mm256_broadcast_ss(x4 + k);
    a4 = _mm256_fmadd_ps(w0, v, a4);
    b4 = _mm256_fmadd_ps(w1, v, b4);
    v = _mm256_broadcast_ss(x5 + k);
    a5 = _mm256_fmadd_ps(w0, v, a5);
    b5 = _mm256_fmadd_ps(w1, v, b5);
  }
  const __m256 acc[2 * kGemmTokens] = {a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5};
  store_tile_rows(acc, m, y, ys, nr, accumulate);
}

template <class F>
void run_items(const WeightView& w, const float* x, int64_t n_tokens, float* y, int64_t mc,
               int64_t item_begin, int64_t item_end, float* panel, MicroKernel kernel) {
  const bool wide = kernel == MicroKernel::Avx512;
  const int64_t step = wide ? kGemmTokensAvx512 : kGemmTokens;
  const int64_t n_in = w.n_in;
  const int64_t n_out = w.n_out;
  const int64_t n_panels = (n_out + kGemmPanel - 1) / kGemmPanel;
  const size_t xs = static_cast<size_t>(n_in);
  const size_t ys = static_cast<size_t>(n_out);
  for (int64_t item = item_begin; item < item_end; ++item) {
    const int64_t t0 = (item / n_panels) * mc;
    const int64_t t1 = std::min(n_tokens, t0 + mc);
    const int64_t o0 = (item % n_panels) * kGemmPanel;
    const int nr = static_cast<int>(std::min<int64_t>(kGemmPanel, n_out - o0));
    for (int64_t k0 = 0; k0 < n_in; k0 += kGemmDepth) {
      const int64_t kc = std::min(kGemmDepth, n_in - k0);
      pack_panel<F>(w, o0, nr, k0, kc, panel);
      for (int64_t t = t0; t < t1; t += step) {
        const int m = static_cast<int>(std::min<int64_t>(step, t1 - t));
        const float* xt = x + static_cast<size_t>(t) * xs + k0;
        float* yt = y + static_cast<size_t>(t) * ys + o0;
        if (wide) {
          gemm_float_micro_avx512(kc, xt, xs, m, panel, yt, ys, nr, k0 > 0);
        } else {
          micro(kc, xt, xs, m, panel, yt, ys, nr, k0 > 0);
        }
      }
    }
  }
}

}  // namespace

void gemm_float_avx2_items(const WeightView& w, const float* x, int64_t n_tokens, float* y, int64_t mc,
                           int64_t item_begin, int64_t item_end, float* panel, MicroKernel kernel) {
  switch (w.type) {
    case DType::F32: run_items<F32W>(w, x, n_tokens, y, mc, item_begin, item_end, panel, kernel); break;
    case DType::F16: run_items<F16W>(w, x, n_tokens, y, mc, item_begin, item_end, panel, kernel); break;
    case DType::BF16: run_items<BF16W>(w, x, n_tokens, y, mc, item_begin, item_end, panel, kernel); break;
    default: break;  // gemm_float() admits float weights only
  }
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
