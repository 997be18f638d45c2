// Internal helpers shared by the AVX2 kernel files: small intrinsics wrappers and the tile-size
// dispatcher. Must only be included inside an AVX2 target region (after `#pragma GCC target`),
// and never from code that runs on CPUs without AVX2.
#pragma once

#if !defined(__AVX2__) && !defined(DUET_AVX2_REGION)
#error "avx2_common.hpp must be included inside an AVX2 target region"
#endif

namespace duet::rt::kern::avx2 {

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// e^x for the whole runtime (softmax, SiLU, GELU, erf, attention): x = n ln2 + b by Cody-Waite
// reduction, e^b by a degree-5 minimax polynomial, 2^n through the exponent bits; about 1 ulp.
// These are llama.cpp's CPU roundings too, so the LLM's activations agree with it bit for bit.
// Where |n| > 126, 2^n is applied as a product of two powers of two (subnormal results and those
// up to FLT_MAX come out right); beyond |n| > 192 the result is 0 or +inf. NaN stays NaN.
static inline __m256 exp8(__m256 x) {
  const __m256 shifter = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shifter);
  const __m256 n = _mm256_sub_ps(z, shifter);
  const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256i n_bits = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(n_bits, _mm256_set1_epi32(0x3f800000)));
  const __m256 u = _mm256_mul_ps(b, b);
  const __m256 j = _mm256_fmadd_ps(
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                      _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
      u, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
  const __m256 abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
  const __m256 outside = _mm256_cmp_ps(abs_n, _mm256_set1_ps(126.0f), _CMP_GT_OQ);
  const __m256 in_range = _mm256_fmadd_ps(j, k, k);
  if (_mm256_movemask_ps(outside) == 0) return in_range;
  const __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                     _mm256_set1_epi32(static_cast<int>(0x82000000u)));
  const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(n_bits, g));
  const __m256 scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1);
  const __m256 far = _mm256_cmp_ps(abs_n, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
  return _mm256_blendv_ps(_mm256_blendv_ps(in_range, scaled, outside), _mm256_mul_ps(s1, s1), far);
}

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

static inline int load_u32(const void* p) {
  int v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

static inline __m256i loadu256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// 32 quants from 16 bytes of nibbles: element j = low nibble of qs[j], j + 16 = high nibble.
static inline __m256i nibbles32(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// Byte j = 0xFF where bit j of the little-endian 32-bit field is set, else 0.
static inline __m256i bits32(const uint8_t* bytes) {
  uint32_t v;
  __builtin_memcpy(&v, bytes, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(v)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// 8 int32 sums of 4 products each: unsigned x (0..255) times signed y (-127..127), bytes 4j..4j+3
// into lane j. Exact for every operand the kernels pass (|x| <= 128, so the AVX2 form's int16
// pair sums cannot saturate); a file that defines DUET_VNNI_REGION (inside an AVX-512 VNNI
// target region) gets the one-instruction vpdpbusd form, with the same sums.
static inline __m256i dot_us(__m256i x, __m256i y) {
#if defined(DUET_VNNI_REGION)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), x, y);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
#endif
}

// Signed x times signed y through |x| * sign(y, x); ax = |x| computed once by the caller.
static inline __m256i dot_ss(__m256i ax, __m256i x, __m256i y) {
  return dot_us(ax, _mm256_sign_epi8(y, x));
}

// Software prefetch for tile kernels. A tile of R rows is a contiguous region (rows are adjacent),
// consumed at R * block_bytes per block step; hardware prefetchers lose track of R interleaved
// streams, so each step prefetches the matching slice of the region kTilesAhead tiles further on.
// Prefetches never fault, so running past the end of the weights is harmless.
inline constexpr int kTilesAhead = 2;
template <int R>
static inline void prefetch_ahead(const uint8_t* tile_base, size_t row_stride, size_t step_bytes, int64_t step) {
  const uint8_t* p = tile_base + kTilesAhead * R * row_stride + static_cast<size_t>(step) * R * step_bytes;
  for (size_t off = 0; off < R * step_bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T0);
}

// A (R x C) table of tile kernels Kernel<r, c> for r <= R, c <= C, and the dispatching entry.
template <template <int, int> class Kernel, int R, int C>
struct TileTable {
  using Fn = void (*)(int64_t, const uint8_t*, size_t, const uint8_t*, size_t, float*, size_t);
  Fn fns[R][C];
  template <int r, int c>
  constexpr void fill_one() {
    fns[r - 1][c - 1] = &Kernel<r, c>::run;
  }
  template <int r, int... cs>
  constexpr void fill_row(std::integer_sequence<int, cs...>) {
    (fill_one<r, cs + 1>(), ...);
  }
  template <int... rs>
  constexpr void fill(std::integer_sequence<int, rs...>) {
    (fill_row<rs + 1>(std::make_integer_sequence<int, C>{}), ...);
  }
  constexpr TileTable() : fns{} { fill(std::make_integer_sequence<int, R>{}); }
};

}  // namespace duet::rt::kern::avx2
