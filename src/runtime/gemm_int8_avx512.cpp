// AVX-512 VNNI kernels of the 8-bit integer GEMM (gemm_int8.hpp): activation rows quantized to
// int8 with a per-row scale and stored +128 as unsigned bytes, and a micro-kernel of up to 12
// tokens x 16 outputs that broadcasts one group of 4 activation bytes per token and multiplies it
// into a panel's 16 outputs x 4 inputs (one zmm) with vpdpbusd, summing a whole row exactly in
// int32 before taking back the offset and scaling into f32. Must never be called on a CPU without
// AVX-512 F/BW/VL/VNNI, never read activation rows past n_tokens or panels past the packed
// weights, and never allocate.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/gemm_int8.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")
// GCC 12 sees _mm512_undefined_ps() inside _mm512_cvtepi32_ps as a maybe-uninitialized read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace duet::rt::kern {
namespace {

// The 4 activation bytes at q as one int32, broadcast to every lane.
inline __m512i broadcast_group(const uint8_t* q) {
  int32_t v;
  std::memcpy(&v, q, sizeof v);
  return _mm512_set1_epi32(v);
}

// y[r * ys + o] = sa[r] * sw[o] * (sum_j <q_r[4j..4j+3], panel[j][o]> - offset[o]) for r < m
// (1..12), o < nr, over ng groups of 4 inputs. Rows past m re-read the last real row and are not
// stored; the twelve accumulators are named so they stay in registers.
void int8_micro(int64_t ng, const uint8_t* q, size_t qs, int m, const int8_t* panel, const float* sa,
                const float* sw, const int32_t* offset, float* y, size_t ys, int nr) {
  auto row = [&](int r) { return q + static_cast<size_t>(std::min(r, m - 1)) * qs; };
  const uint8_t *x0 = row(0), *x1 = row(1), *x2 = row(2), *x3 = row(3), *x4 = row(4), *x5 = row(5);
  const uint8_t *x6 = row(6), *x7 = row(7), *x8 = row(8), *x9 = row(9), *x10 = row(10), *x11 = row(11);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  __m512i a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (int64_t j = 0; j < ng; ++j) {
    const __m512i w = _mm512_load_si512(panel + j * 4 * kInt8Panel);
    const int64_t k = 4 * j;
    a0 = _mm512_dpbusd_epi32(a0, broadcast_group(x0 + k), w);
    a1 = _mm512_dpbusd_epi32(a1, broadcast_group(x1 + k), w);
    a2 = _mm512_dpbusd_epi32(a2, broadcast_group(x2 + k), w);
    a3 = _mm512_dpbusd_epi32(a3, broadcast_group(x3 + k), w);
    a4 = _mm512_dpbusd_epi32(a4, broadcast_group(x4 + k), w);
    a5 = _mm512_dpbusd_epi32(a5, broadcast_group(x5 + k), w);
    a6 = _mm512_dpbusd_epi32(a6, broadcast_group(x6 + k), w);
    a7 = _mm512_dpbusd_epi32(a7, broadcast_group(x7 + k), w);
    a8 = _mm512_dpbusd_epi32(a8, broadcast_group(x8 + k), w);
    a9 = _mm512_dpbusd_epi32(a9, broadcast_group(x9 + k), w);
    a10 = _mm512_dpbusd_epi32(a10, broadcast_group(x10 + k), w);
    a11 = _mm512_dpbusd_epi32(a11, broadcast_group(x11 + k), w);
  }
  const __m512i sums[kInt8Tokens] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11};
  const __m512i off = _mm512_loadu_si512(offset);
  const __m512 scale_w = _mm512_loadu_ps(sw);
  const __mmask16 cols = nr >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << nr) - 1);
  for (int r = 0; r < m; ++r) {
    const __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(sums[r], off));
    _mm512_mask_storeu_ps(y + static_cast<size_t>(r) * ys, cols,
                          _mm512_mul_ps(v, _mm512_mul_ps(scale_w, _mm512_set1_ps(sa[r]))));
  }
}

// x with non-finite lanes set to 0.
inline __m512 finite_or_zero(__m512 x) {
  const __m512 abs = _mm512_abs_ps(x);
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(abs, _mm512_set1_ps(INFINITY), _CMP_LT_OQ), x);
}

inline float finite_or_zero(float v) { return std::isfinite(v) ? v : 0.0f; }

}  // namespace

void int8_quantize_rows_avx512(const float* x, int64_t n_in, int64_t n_in_pad, int64_t t0, int64_t t1, uint8_t* q,
                               float* scale) {
  for (int64_t t = t0; t < t1; ++t) {
    const float* xr = x + t * n_in;
    uint8_t* qr = q + t * n_in_pad;
    __m512 vmax = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= n_in; k += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(finite_or_zero(_mm512_loadu_ps(xr + k))));
    float max_abs = _mm512_reduce_max_ps(vmax);
    for (; k < n_in; ++k) max_abs = std::max(max_abs, std::fabs(finite_or_zero(xr[k])));
    scale[t] = max_abs / static_cast<float>(kInt8ActMax);
    const float inv = max_abs > 0.0f ? static_cast<float>(kInt8ActMax) / max_abs : 0.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512 lim = _mm512_set1_ps(static_cast<float>(kInt8ActMax));
    const __m512i offset = _mm512_set1_epi32(kInt8Offset);
    k = 0;
    for (; k + 16 <= n_in; k += 16) {
      const __m512 v = _mm512_mul_ps(finite_or_zero(_mm512_loadu_ps(xr + k)), vinv);
      const __m512i i = _mm512_cvtps_epi32(_mm512_max_ps(_mm512_min_ps(v, lim), _mm512_sub_ps(_mm512_setzero_ps(), lim)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qr + k), _mm512_cvtepi32_epi8(_mm512_add_epi32(i, offset)));
    }
    for (; k < n_in; ++k) {
      const float v = std::clamp(finite_or_zero(xr[k]) * inv, -static_cast<float>(kInt8ActMax),
                                 static_cast<float>(kInt8ActMax));
      qr[k] = static_cast<uint8_t>(std::lrint(v) + kInt8Offset);
    }
    for (; k < n_in_pad; ++k) qr[k] = static_cast<uint8_t>(kInt8Offset);
  }
}

void gemm_int8_avx512_items(const Int8Panels& w, const uint8_t* q, const float* q_scale, int64_t n_tokens, float* y,
                            int64_t mc, int64_t item_begin, int64_t item_end) {
  const size_t qs = static_cast<size_t>(w.n_in_pad);
  const size_t ys = static_cast<size_t>(w.n_out);
  const int64_t ng = w.n_in_pad / 4;
  for (int64_t item = item_begin; item < item_end; ++item) {
    const int64_t t0 = (item / w.n_panels) * mc;
    const int64_t t1 = std::min(n_tokens, t0 + mc);
    const int64_t p = item % w.n_panels;
    const int64_t o0 = p * kInt8Panel;
    const int nr = static_cast<int>(std::min<int64_t>(kInt8Panel, w.n_out - o0));
    for (int64_t t = t0; t < t1; t += kInt8Tokens) {
      const int m = static_cast<int>(std::min<int64_t>(kInt8Tokens, t1 - t));
      int8_micro(ng, q + static_cast<size_t>(t) * qs, qs, m, w.panel(p), q_scale + t, w.scale.get() + o0,
                 w.offset.get() + o0, y + static_cast<size_t>(t) * ys + o0, ys, nr);
    }
  }
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
