// AVX2/FMA kernels for the K-quants: Q4_K/Q5_K/Q6_K weights x Q8_K activations (tile kernels of
// up to 4 rows x 4 tokens, integer sums per 256-element super-block, one float FMA per
// super-block), and the Q8_K activation quantizer. Must never be called on a CPU without
// AVX2/FMA/F16C, and must match quants_ref.cpp up to float summation order.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "runtime/quant_blocks.hpp"
#include "runtime/quants_impl.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define DUET_AVX2_REGION 1
#include "runtime/avx2_common.hpp"

namespace duet::rt::kern::avx2 {
namespace {

// Q4_K/Q5_K scales and mins of one super-block: sc[0..7] in bytes 0-7, m[0..7] in bytes 8-15.
static inline __m128i k_scales_mins(const uint8_t* s) {
  uint32_t u[3];
  std::memcpy(u, s, 12);
  const uint32_t k6 = 0x3f3f3f3fu, k4 = 0x0f0f0f0fu, k2 = 0x03030303u;
  const uint32_t sc_lo = u[0] & k6;
  const uint32_t sc_hi = (u[2] & k4) | (((u[0] >> 6) & k2) << 4);
  const uint32_t m_lo = u[1] & k6;
  const uint32_t m_hi = ((u[2] >> 4) & k4) | (((u[1] >> 6) & k2) << 4);
  return _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(m_lo),
                        static_cast<int>(m_hi));
}

// Shuffle masks picking int16 lane j (bytes 2j, 2j+1) into every lane.
static inline __m256i lane16_mask(int j) {
  const int16_t lo = static_cast<int16_t>((2 * j) | ((2 * j + 1) << 8));
  return _mm256_set1_epi16(lo);
}

// Policy for Q4_K and Q5_K (they share scales, mins and the nibble layout; Q5_K adds qh).
template <bool kFive>
struct QkAsym {
  using W = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
};

template <bool kFive, int R, int C>
struct TileK45 {
  using W = typename QkAsym<kFive>::W;
  static void run(int64_t nb, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                  size_t ys) {
    __m256 acc[R][C];
    // Q4_K's min terms go to a 4-lane accumulator of their own, added at the end: llama.cpp's
    // order, so the two engines round the same way.
    __m128 acc_min[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        acc[r][c] = _mm256_setzero_ps();
        acc_min[r][c] = _mm_setzero_ps();
      }
    const W* wr[R];
    const BlockQ8_K* ar[C];
    for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const W*>(w + static_cast<size_t>(r) * ws);
    for (int c = 0; c < C; ++c) ar[c] = reinterpret_cast<const BlockQ8_K*>(a + static_cast<size_t>(c) * as);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    // Duplicates each of 8 bytes: 0,0,1,1,...,7,7 (for mins against pairs of 16-element bsums).
    const __m128i dup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);

    for (int64_t ib = 0; ib < nb; ++ib) {
      prefetch_ahead<R>(w, ws, sizeof(W), ib);
      float ad[C];
      for (int c = 0; c < C; ++c) ad[c] = ar[c][ib].d;
      for (int r = 0; r < R; ++r) {
        const W& wb = wr[r][ib];
        const __m128i scm = k_scales_mins(wb.scales);
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scm, dup));
        const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scm));
        __m256i isum[C];
        for (int c = 0; c < C; ++c) isum[c] = _mm256_setzero_si256();
        __m256i qh;
        if constexpr (kFive) qh = loadu256(wb.qh);
        for (int k = 0; k < 4; ++k) {
          const __m256i q = loadu256(wb.qs + 32 * k);
          __m256i lo = _mm256_and_si256(q, low4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
          if constexpr (kFive) {
            const __m256i one = _mm256_set1_epi8(1);
            const __m256i hb = _mm256_srli_epi16(qh, 2 * k);
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4));
          }
          const __m256i s_lo = _mm256_shuffle_epi8(scales, lane16_mask(2 * k));
          const __m256i s_hi = _mm256_shuffle_epi8(scales, lane16_mask(2 * k + 1));
          for (int c = 0; c < C; ++c) {
            const int8_t* qa = ar[c][ib].qs + 64 * k;
            const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, loadu256(qa)), s_lo);
            const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, loadu256(qa + 32)), s_hi);
            isum[c] = _mm256_add_epi32(isum[c], _mm256_add_epi32(p_lo, p_hi));
          }
        }
        const float dw = h2f(wb.d);
        const float dmin = h2f(wb.dmin);
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_set1_ps(dw * ad[c]), acc[r][c]);
          if constexpr (kFive) {
            const __m256i pm = _mm256_madd_epi16(loadu256(ar[c][ib].bsums), mins);
            acc[r][c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(pm), _mm256_set1_ps(dmin * ad[c]), acc[r][c]);
          } else {
            // Sums of the 32-element groups against their mins, two groups per lane.
            const __m256i bsums = loadu256(ar[c][ib].bsums);
            const __m128i group_sums =
                _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
            const __m128i pm = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(scm, 8)), group_sums);
            acc_min[r][c] = _mm_fmadd_ps(_mm_set1_ps(-ad[c] * dmin), _mm_cvtepi32_ps(pm), acc_min[r][c]);
          }
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        float total = hsum(acc[r][c]);
        if constexpr (!kFive) {
          __m128 m = _mm_add_ps(acc_min[r][c], _mm_movehl_ps(acc_min[r][c], acc_min[r][c]));
          m = _mm_add_ss(m, _mm_movehdup_ps(m));
          total += _mm_cvtss_f32(m);
        }
        y[static_cast<size_t>(c) * ys + r] = total;
      }
  }
};

template <int R, int C>
struct TileQ6K {
  static void run(int64_t nb, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                  size_t ys) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const BlockQ6_K* wr[R];
    const BlockQ8_K* ar[C];
    for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const BlockQ6_K*>(w + static_cast<size_t>(r) * ws);
    for (int c = 0; c < C; ++c) ar[c] = reinterpret_cast<const BlockQ8_K*>(a + static_cast<size_t>(c) * as);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i three = _mm256_set1_epi8(3);

    for (int64_t ib = 0; ib < nb; ++ib) {
      prefetch_ahead<R>(w, ws, sizeof(BlockQ6_K), ib);
      float ad[C];
      for (int c = 0; c < C; ++c) ad[c] = ar[c][ib].d;
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K& wb = wr[r][ib];
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.scales));
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        __m256i isum[C];
        for (int c = 0; c < C; ++c) {
          // The -32 offset: 32 * sum over groups of scale * bsum, subtracted at the end.
          isum[c] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                     _mm256_slli_epi32(_mm256_madd_epi16(loadu256(ar[c][ib].bsums), sc16), 5));
        }
        for (int h = 0; h < 2; ++h) {
          const __m256i ql0 = loadu256(wb.ql + 64 * h);
          const __m256i ql1 = loadu256(wb.ql + 64 * h + 32);
          const __m256i qh = loadu256(wb.qh + 32 * h);
          __m256i q[4];
          q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, three), 4));
          q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                                 _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4));
          q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                                 _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4));
          q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                 _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4));
          for (int p = 0; p < 4; ++p) {
            const int g = 8 * h + 2 * p;  // first of the two 16-element groups in this chunk
            const __m128i pick = _mm_setr_epi8(static_cast<char>(g), static_cast<char>(g), static_cast<char>(g),
                                               static_cast<char>(g), static_cast<char>(g), static_cast<char>(g),
                                               static_cast<char>(g), static_cast<char>(g), static_cast<char>(g + 1),
                                               static_cast<char>(g + 1), static_cast<char>(g + 1), static_cast<char>(g + 1),
                                               static_cast<char>(g + 1), static_cast<char>(g + 1), static_cast<char>(g + 1),
                                               static_cast<char>(g + 1));
            const __m256i s = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pick));
            for (int c = 0; c < C; ++c) {
              const int8_t* qa = ar[c][ib].qs + 128 * h + 32 * p;
              isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(_mm256_maddubs_epi16(q[p], loadu256(qa)), s));
            }
          }
        }
        const float dw = h2f(wb.d);
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_set1_ps(dw * ad[c]), acc[r][c]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) y[static_cast<size_t>(c) * ys + r] = hsum(acc[r][c]);
  }
};

constexpr int kRows = 4;
constexpr int kCols = 4;

template <int R, int C>
using TileQ4K = TileK45<false, R, C>;
template <int R, int C>
using TileQ5K = TileK45<true, R, C>;

template <template <int, int> class K>
struct Entry {
  static void gemm(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc,
                   float* y, size_t ys) {
    static constexpr TileTable<K, kRows, kCols> table;
    table.fns[nr - 1][nc - 1](n / kQKK, static_cast<const uint8_t*>(w), ws,
                              static_cast<const uint8_t*>(a), as, y, ys);
  }
  static float dot(int64_t n, const void* w, const void* a) {
    float y;
    K<1, 1>::run(n / kQKK, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(a), 0, &y, 0);
    return y;
  }
};

void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < kQKK; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(src + j)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    const float amax = _mm_cvtss_f32(s);
    const float inv = amax != 0 ? 127.0f / amax : 0.0f;
    const __m256 id = _mm256_set1_ps(inv);
    b[i].d = amax != 0 ? 1.0f / inv : 0.0f;  // as the scalar quantizer (and llama.cpp) store it
    for (int j = 0; j < kQKK; j += 32) {
      const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j), id));
      const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j + 8), id));
      const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j + 16), id));
      const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + j + 24), id));
      b[i].bsums[j / 16] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(i0, i1)));
      b[i].bsums[j / 16 + 1] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(i2, i3)));
      const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + j),
                          _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
  }
}

}  // namespace
}  // namespace duet::rt::kern::avx2

namespace duet::rt::kern {

void avx2_fill_k(QuantTraits& t) {
  using namespace avx2;
  auto set = [&t](auto entry) {
    using E = decltype(entry);
    t.vec_dot = &E::dot;
    t.gemm = &E::gemm;
    t.tile_rows = kRows;
    t.tile_cols = kCols;
  };
  switch (t.type) {
    case DType::Q4_K: set(Entry<TileQ4K>{}); break;
    case DType::Q5_K: set(Entry<TileQ5K>{}); break;
    case DType::Q6_K: set(Entry<TileQ6K>{}); break;
    case DType::Q8_K: t.from_float = &quantize_q8_k; break;
    default: break;
  }
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
