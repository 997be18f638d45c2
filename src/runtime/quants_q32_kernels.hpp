// Internal to the 32-element block kernels (quants_avx2_q.cpp, quants_vnni_q.cpp): Q4_0/Q5_0/Q8_0
// weights x Q8_0 activations and Q4_1/Q5_1 weights x Q8_1 activations, as tile kernels of up to
// 4 rows x 8 tokens and, for a whole prompt, panels of rows decoded once on the stack and reused
// by every group of 8 tokens, run by the same row kernel as raw blocks. Written once over the
// byte dot products of avx2_common.hpp (dot_us, dot_ss), which each including file compiles
// either as AVX2's vpmaddubsw + vpmaddwd or as VNNI's vpdpbusd: the same exact int32 sums, so
// both builds give bit-identical results.
// Everything here has internal linkage on purpose: each including file gets its own copy,
// compiled for its own instruction set, and the linker can never hand one file's VNNI code to
// the other. Must only be included inside a target region, after avx2_common.hpp.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "runtime/quant_blocks.hpp"
#include "runtime/quants_impl.hpp"

namespace duet::rt::kern::avx2 {
namespace {

// Weight formats: quants() gives the 32 quants of a block, signed (kSigned) or unsigned with a min.
struct Q4_0W {
  using W = BlockQ4_0;
  using A = BlockQ8_0;
  static constexpr bool kSigned = true;
  static __m256i quants(const W& b) { return _mm256_sub_epi8(nibbles32(b.qs), _mm256_set1_epi8(8)); }
};
struct Q5_0W {
  using W = BlockQ5_0;
  using A = BlockQ8_0;
  static constexpr bool kSigned = true;
  // q - 16 as a byte: the nibble alone when the 5th bit is set, nibble | 0xF0 when it is not.
  static __m256i quants(const W& b) {
    return _mm256_or_si256(nibbles32(b.qs), _mm256_andnot_si256(bits32(b.qh), _mm256_set1_epi8(static_cast<char>(0xF0))));
  }
};
struct Q8_0W {
  using W = BlockQ8_0;
  using A = BlockQ8_0;
  static constexpr bool kSigned = true;
  static __m256i quants(const W& b) { return loadu256(b.qs); }
};
struct Q4_1W {
  using W = BlockQ4_1;
  using A = BlockQ8_1;
  static constexpr bool kSigned = false;
  static __m256i quants(const W& b) { return nibbles32(b.qs); }
};
struct Q5_1W {
  using W = BlockQ5_1;
  using A = BlockQ8_1;
  static constexpr bool kSigned = false;
  static __m256i quants(const W& b) {
    return _mm256_or_si256(nibbles32(b.qs), _mm256_and_si256(bits32(b.qh), _mm256_set1_epi8(0x10)));
  }
};

// R weight rows x C activation rows over nb blocks.
template <class F, int R, int C>
struct Tile32 {
  static void run(int64_t nb, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                  size_t ys) {
    using W = typename F::W;
    using A = typename F::A;
    __m256 acc[R][C];
    __m256 macc[R];  // Q4_1/Q5_1: sum of m_w * s_a, one lane per token
    for (int r = 0; r < R; ++r) {
      macc[r] = _mm256_setzero_ps();
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    const W* wr[R];
    const A* ar[C];
    for (int r = 0; r < R; ++r) wr[r] = reinterpret_cast<const W*>(w + static_cast<size_t>(r) * ws);
    for (int c = 0; c < C; ++c) ar[c] = reinterpret_cast<const A*>(a + static_cast<size_t>(c) * as);

    for (int64_t ib = 0; ib < nb; ++ib) {
      prefetch_ahead<R>(w, ws, sizeof(W), ib);
      // The C activation scales, widened together (one conversion, not one per token).
      __m128i dh = _mm_setzero_si128();
      [&]<int... cs>(std::integer_sequence<int, cs...>) {
        ((dh = _mm_insert_epi16(dh, static_cast<short>(ar[cs][ib].d), cs)), ...);
      }(std::make_integer_sequence<int, C>{});
      const __m256 adv = _mm256_cvtph_ps(dh);
      // The activations' s = d * sum(q) of the C tokens as one vector, gathered in registers (a
      // float array here would cost a store-forwarding stall per block).
      __m256 sa = _mm256_setzero_ps();
      if constexpr (!F::kSigned) {
        auto s_of = [&](int c) { return c < C ? static_cast<short>(ar[c < C ? c : 0][ib].s) : short{0}; };
        sa = _mm256_cvtph_ps(_mm_setr_epi16(s_of(0), s_of(1), s_of(2), s_of(3), s_of(4), s_of(5),
                                            s_of(6), s_of(7)));
      }
      for (int r = 0; r < R; ++r) {
        const W& wb = wr[r][ib];
        const __m256i q = F::quants(wb);
        // sc[c] = dw * ad[c], the same product for every tile shape.
        alignas(32) float sc[8];
        _mm256_store_ps(sc, _mm256_mul_ps(_mm256_set1_ps(h2f(wb.d)), adv));
        if constexpr (F::kSigned) {
          const __m256i aqx = _mm256_abs_epi8(q);
          for (int c = 0; c < C; ++c) {
            const __m256 p = _mm256_cvtepi32_ps(dot_ss(aqx, q, loadu256(ar[c][ib].qs)));
            acc[r][c] = _mm256_fmadd_ps(p, _mm256_broadcast_ss(&sc[c]), acc[r][c]);
          }
        } else {
          // Every tile width rounds the same way (separate min-term accumulator), so a token's
          // result never depends on how many tokens share its tile: decoding a prompt in one
          // batch or token by token gives identical logits.
          for (int c = 0; c < C; ++c) {
            const __m256 p = _mm256_cvtepi32_ps(dot_us(q, loadu256(ar[c][ib].qs)));
            acc[r][c] = _mm256_fmadd_ps(p, _mm256_broadcast_ss(&sc[c]), acc[r][c]);
          }
          macc[r] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(wb.m)), sa, macc[r]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      alignas(32) float m[8];
      _mm256_store_ps(m, macc[r]);
      for (int c = 0; c < C; ++c) {
        y[static_cast<size_t>(c) * ys + r] = hsum(acc[r][c]) + (F::kSigned ? 0.0f : m[c]);
      }
    }
  }
};

// Weight rows decoded once for many token groups: row r of a panel holds nb blocks of 32 quants
// (bytes, as F::quants gives them), for signed formats nb blocks of their absolute values, then nb
// float scales and, unsigned, nb float mins. kPanelBytes of stack hold a panel.
constexpr size_t kPanelBytes = 16384;
constexpr int kPanelRows = 8;

template <class F>
struct PanelLayout {
  int64_t nb;
  size_t abs_at() const { return static_cast<size_t>(nb) * 32; }
  size_t d_at() const { return static_cast<size_t>(nb) * (F::kSigned ? 64 : 32); }
  size_t m_at() const { return d_at() + static_cast<size_t>(nb) * 4; }
  size_t row_bytes() const { return (m_at() + (F::kSigned ? 0 : static_cast<size_t>(nb) * 4) + 31) / 32 * 32; }
};

// Where Row32 takes block ib's weights from: its quants, their absolute values (signed formats),
// and its scale d and (unsigned formats) min m, broadcast. Both sources give the same values, so
// a row's results never depend on which one fed it.
// RawBlocks: the weight row as stored, each block decoded as it is read.
template <class Fmt>
struct RawBlocks {
  using F = Fmt;
  const typename F::W* wr;
  RawBlocks(const uint8_t* w, int64_t /*nb*/) : wr(reinterpret_cast<const typename F::W*>(w)) {}
  __m256i quants(int64_t ib) const { return F::quants(wr[ib]); }
  __m256i abs_quants(int64_t /*ib*/, __m256i q) const { return _mm256_abs_epi8(q); }
  __m256 d(int64_t ib) const { return _mm256_set1_ps(h2f(wr[ib].d)); }
  __m256 m(int64_t ib) const { return _mm256_set1_ps(h2f(wr[ib].m)); }
};
// PanelBlocks: one row of a panel decoded by Entry::decode_row (PanelLayout).
template <class Fmt>
struct PanelBlocks {
  using F = Fmt;
  const uint8_t* row;
  PanelLayout<F> L;
  PanelBlocks(const uint8_t* r, int64_t nb) : row(r), L{nb} {}
  __m256i quants(int64_t ib) const { return load_block(ib * 32); }
  __m256i abs_quants(int64_t ib, __m256i /*q*/) const { return load_block(L.abs_at() + ib * 32); }
  __m256 d(int64_t ib) const { return _mm256_broadcast_ss(floats(L.d_at()) + ib); }
  __m256 m(int64_t ib) const { return _mm256_broadcast_ss(floats(L.m_at()) + ib); }
  __m256i load_block(size_t at) const {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(row + at));
  }
  const float* floats(size_t at) const { return reinterpret_cast<const float*>(row + at); }
};

// One weight row (from source S: RawBlocks or PanelBlocks) x C tokens (1..8) with the tokens'
// activation scales (and, for Q4_1/Q5_1, sums) already widened to floats, 8 per block:
// ad[ib * 8 + c], sd[ib * 8 + c]. The same arithmetic as Tile32<F, 1, C> (bit-identical results)
// without gathering and converting C scales per block and row: the caller widens them once per
// call and every row of the call reuses them.
template <class S, int C>
struct Row32 {
  static void run(int64_t nb, const uint8_t* w, const float* ad, const float* sd, const uint8_t* a,
                  size_t as, float* y, size_t ys) {
    using F = typename S::F;
    using A = typename F::A;
    const S src(w, nb);
    __m256 acc[C];
    __m256 macc = _mm256_setzero_ps();
    for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
    const A* ar[C];
    for (int c = 0; c < C; ++c) ar[c] = reinterpret_cast<const A*>(a + static_cast<size_t>(c) * as);
    for (int64_t ib = 0; ib < nb; ++ib) {
      const __m256i q = src.quants(ib);
      alignas(32) float sc[8];
      _mm256_store_ps(sc, _mm256_mul_ps(src.d(ib), _mm256_load_ps(ad + ib * 8)));
      if constexpr (F::kSigned) {
        const __m256i aqx = src.abs_quants(ib, q);
        for (int c = 0; c < C; ++c) {
          const __m256 p = _mm256_cvtepi32_ps(dot_ss(aqx, q, loadu256(ar[c][ib].qs)));
          acc[c] = _mm256_fmadd_ps(p, _mm256_broadcast_ss(&sc[c]), acc[c]);
        }
      } else {
        for (int c = 0; c < C; ++c) {
          const __m256 p = _mm256_cvtepi32_ps(dot_us(q, loadu256(ar[c][ib].qs)));
          acc[c] = _mm256_fmadd_ps(p, _mm256_broadcast_ss(&sc[c]), acc[c]);
        }
        macc = _mm256_fmadd_ps(src.m(ib), _mm256_load_ps(sd + ib * 8), macc);
      }
    }
    alignas(32) float m[8];
    _mm256_store_ps(m, macc);
    for (int c = 0; c < C; ++c) y[static_cast<size_t>(c) * ys] = hsum(acc[c]) + (F::kSigned ? 0.0f : m[c]);
  }
};

// Blocks per call whose widened activation scales fit the stack table (8 KiB; rows of up to
// 8192 elements). Longer rows take the gathering kernel.
constexpr int64_t kTableBlocks = 256;

// A call takes up to 4 weight rows x 8 tokens, but each kernel instance keeps at most 8 float
// accumulators (AVX2 has 16 vector registers; a 4x4 instance spills them every block): 1-2 tokens
// run 4 rows at once (decode), 3-4 tokens 2 rows at a time, 5-8 tokens one row at a time, so a
// decoded weight block serves up to 8 tokens. Each (row, token) result keeps its own accumulator,
// so the tile shape never changes a result.
constexpr int kRows = 4;
constexpr int kCols = 8;

template <class F>
struct Entry {
  template <int R, int C>
  using K = Tile32<F, R, C>;
  static void gemm(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc,
                   float* y, size_t ys) {
    static constexpr TileTable<K, 4, 2> narrow;
    static constexpr TileTable<K, 2, 4> mid;
    static constexpr TileTable<K, 1, 8> wide;
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    const int64_t nb = n / kQK;
    if (nc <= 2) {
      narrow.fns[nr - 1][nc - 1](nb, wb, ws, ab, as, y, ys);
      return;
    }
    if (nc > 4 && nb <= kTableBlocks) {
      wide_rows(nb, wb, ws, nr, ab, as, nc, y, ys);
      return;
    }
    const int step = nc <= 4 ? 2 : 1;
    for (int r = 0; r < nr; r += step) {
      const int rr = nr - r < step ? nr - r : step;
      const uint8_t* wr = wb + static_cast<size_t>(r) * ws;
      if (step == 2) {
        mid.fns[rr - 1][nc - 1](nb, wr, ws, ab, as, y + r, ys);
      } else {
        wide.fns[0][nc - 1](nb, wr, ws, ab, as, y + r, ys);
      }
    }
  }
  // 5..8 tokens: their scales widened once into a table, then one row at a time.
  template <int C>
  static void rows_c(int64_t nb, const uint8_t* wb, size_t ws, int nr, const float* ad, const float* sd,
                     const uint8_t* ab, size_t as, float* y, size_t ys) {
    for (int r = 0; r < nr; ++r) Row32<RawBlocks<F>, C>::run(nb, wb + static_cast<size_t>(r) * ws, ad, sd, ab, as, y + r, ys);
  }
  // The scales (and Q8_1 sums) of tokens 0..nc-1 (nc <= 8) widened to floats, 8 per block; lanes
  // past nc repeat token 0 and are never read.
  static void fill_scales(int64_t nb, const uint8_t* ab, size_t as, int nc, float* ad, float* sd) {
    using A = typename F::A;
    const A* ar[kCols];
    for (int c = 0; c < kCols; ++c) ar[c] = reinterpret_cast<const A*>(ab + static_cast<size_t>(c < nc ? c : 0) * as);
    for (int64_t ib = 0; ib < nb; ++ib) {
      __m128i dh = _mm_setzero_si128();
      [&]<int... cs>(std::integer_sequence<int, cs...>) {
        ((dh = _mm_insert_epi16(dh, static_cast<short>(ar[cs][ib].d), cs)), ...);
      }(std::make_integer_sequence<int, kCols>{});
      _mm256_store_ps(ad + ib * 8, _mm256_cvtph_ps(dh));
      if constexpr (!F::kSigned) {
        __m128i sh = _mm_setzero_si128();
        [&]<int... cs>(std::integer_sequence<int, cs...>) {
          ((sh = _mm_insert_epi16(sh, static_cast<short>(ar[cs][ib].s), cs)), ...);
        }(std::make_integer_sequence<int, kCols>{});
        _mm256_store_ps(sd + ib * 8, _mm256_cvtph_ps(sh));
      }
    }
  }
  static void wide_rows(int64_t nb, const uint8_t* wb, size_t ws, int nr, const uint8_t* ab, size_t as,
                        int nc, float* y, size_t ys) {
    alignas(32) float ad[kTableBlocks * 8];
    alignas(32) float sd[F::kSigned ? 8 : kTableBlocks * 8];
    fill_scales(nb, ab, as, nc, ad, sd);
    // Lanes past nc hold token 0's scales; no kernel reads them (C = nc).
    switch (nc) {
      case 5: rows_c<5>(nb, wb, ws, nr, ad, sd, ab, as, y, ys); break;
      case 6: rows_c<6>(nb, wb, ws, nr, ad, sd, ab, as, y, ys); break;
      case 7: rows_c<7>(nb, wb, ws, nr, ad, sd, ab, as, y, ys); break;
      default: rows_c<8>(nb, wb, ws, nr, ad, sd, ab, as, y, ys); break;
    }
  }
  // gemm_rows: panels of up to kPanelRows rows decoded once, then every group of 8 tokens (the
  // last one 1..8) passes over the panel with its scales widened once.
  template <int C>
  static void panel_c(int64_t nb, const uint8_t* panel, size_t pstride, int k, const float* ad,
                      const float* sd, const uint8_t* ab, size_t as, float* y, size_t ys) {
    for (int r = 0; r < k; ++r) Row32<PanelBlocks<F>, C>::run(nb, panel + static_cast<size_t>(r) * pstride, ad, sd, ab, as, y + r, ys);
  }
  static void decode_row(int64_t nb, const uint8_t* w, uint8_t* row) {
    using W = typename F::W;
    const PanelLayout<F> L{nb};
    const auto* wr = reinterpret_cast<const W*>(w);
    auto* dw = reinterpret_cast<float*>(row + L.d_at());
    auto* mw = reinterpret_cast<float*>(row + L.m_at());
    for (int64_t ib = 0; ib < nb; ++ib) {
      const __m256i q = F::quants(wr[ib]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(row + ib * 32), q);
      if constexpr (F::kSigned) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(row + L.abs_at() + ib * 32), _mm256_abs_epi8(q));
      } else {
        mw[ib] = h2f(wr[ib].m);
      }
      dw[ib] = h2f(wr[ib].d);
    }
  }
  static void gemm_rows(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc,
                        float* y, size_t ys) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    const int64_t nb = n / kQK;
    const PanelLayout<F> L{nb};
    const size_t pstride = L.row_bytes();
    if (nb > kTableBlocks || pstride > kPanelBytes) {
      for (int r0 = 0; r0 < nr; r0 += kRows) {
        for (int c0 = 0; c0 < nc; c0 += kCols) {
          gemm(n, wb + static_cast<size_t>(r0) * ws, ws, nr - r0 < kRows ? nr - r0 : kRows,
               ab + static_cast<size_t>(c0) * as, as, nc - c0 < kCols ? nc - c0 : kCols,
               y + static_cast<size_t>(c0) * ys + r0, ys);
        }
      }
      return;
    }
    const int kmax = static_cast<int>(kPanelBytes / pstride < kPanelRows ? kPanelBytes / pstride : kPanelRows);
    alignas(32) uint8_t panel[kPanelBytes];
    alignas(32) float ad[kTableBlocks * 8];
    alignas(32) float sd[F::kSigned ? 8 : kTableBlocks * 8];
    for (int r0 = 0; r0 < nr; r0 += kmax) {
      const int k = nr - r0 < kmax ? nr - r0 : kmax;
      for (int r = 0; r < k; ++r) decode_row(nb, wb + static_cast<size_t>(r0 + r) * ws, panel + static_cast<size_t>(r) * pstride);
      for (int c0 = 0; c0 < nc; c0 += kCols) {
        const int cc = nc - c0 < kCols ? nc - c0 : kCols;
        const uint8_t* ac = ab + static_cast<size_t>(c0) * as;
        float* yc = y + static_cast<size_t>(c0) * ys + r0;
        fill_scales(nb, ac, as, cc, ad, sd);
        switch (cc) {
          case 1: panel_c<1>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
          case 2: panel_c<2>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
          case 3: panel_c<3>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
          case 4: panel_c<4>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
          case 5: panel_c<5>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
          case 6: panel_c<6>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
          case 7: panel_c<7>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
          default: panel_c<8>(nb, panel, pstride, k, ad, sd, ac, as, yc, ys); break;
        }
      }
    }
  }
  static float dot(int64_t n, const void* w, const void* a) {
    float y;
    Tile32<F, 1, 1>::run(n / kQK, static_cast<const uint8_t*>(w), 0,
                         static_cast<const uint8_t*>(a), 0, &y, 0);
    return y;
  }
};

// The kernel slots of a traits row for the 32-element weight types (activation quantizers
// are set by quants_avx2_q.cpp).
inline void fill_q32_kernels(QuantTraits& t) {
  auto set = [&t](auto entry) {
    using E = decltype(entry);
    t.vec_dot = &E::dot;
    t.gemm = &E::gemm;
    t.gemm_rows = &E::gemm_rows;
    t.tile_rows = kRows;
    t.tile_cols = kCols;
  };
  switch (t.type) {
    case DType::Q4_0: set(Entry<Q4_0W>{}); break;
    case DType::Q4_1: set(Entry<Q4_1W>{}); break;
    case DType::Q5_0: set(Entry<Q5_0W>{}); break;
    case DType::Q5_1: set(Entry<Q5_1W>{}); break;
    case DType::Q8_0: set(Entry<Q8_0W>{}); break;
    default: break;
  }
}

}  // namespace
}  // namespace duet::rt::kern::avx2
