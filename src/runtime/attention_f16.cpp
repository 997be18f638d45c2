// attend_f16_ordered(): a portable implementation with std::fma (exactly the same roundings as the
// AVX2 one, only slower) and an AVX2/FMA/F16C one chosen at run time.
#include "runtime/attention_f16.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "core/error.hpp"
#include "runtime/half.hpp"
#include "runtime/quants.hpp"

namespace duet::rt {
namespace {

constexpr int64_t kMaxHeadDim = 1024;

inline float round_f16(float x) { return fp16_to_fp32(fp32_to_fp16(x)); }

// The exp polynomial (Cody-Waite reduction by ln 2, degree-5 minimax on the remainder); arguments
// here are <= 0, and those below about -87 (2^n under 2^-126) give 0, which cannot change a
// float sum that already holds exp(0) = 1, nor any F16 probability.
inline float exp_poly(float x) {
  const float shifter = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, shifter);
  const float n = z - shifter;
  if (!(std::fabs(n) <= 126.0f)) return n > 0 ? INFINITY : 0.0f;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  uint32_t zbits;
  std::memcpy(&zbits, &z, 4);
  const uint32_t kbits = (zbits << 23) + 0x3f800000u;
  float k;
  std::memcpy(&k, &kbits, 4);
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, 0x1.ffffecp-1f * b);
  return std::fma(j, k, k);
}

// Reduces 4 accumulators x 8 lanes in the fixed tree: ((a0+a2)+(a1+a3)) per lane, then
// ((l0+l4)+(l1+l5)) + ((l2+l6)+(l3+l7)).
inline float reduce_4x8(const float acc[4][8]) {
  float y[8];
  for (int l = 0; l < 8; ++l) y[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
  return ((y[0] + y[4]) + (y[1] + y[5])) + ((y[2] + y[6]) + (y[3] + y[7]));
}

// Dot of n F16 values with n F16-representable floats: 32-element chunks into 4x8 FMA lanes, the
// tail added in double.
inline float dot_f16_ordered(const uint16_t* a, const float* b, int64_t n) {
  float acc[4][8] = {};
  const int64_t body = n & ~int64_t{31};
  for (int64_t i = 0; i < body; i += 32) {
    for (int r = 0; r < 4; ++r) {
      for (int l = 0; l < 8; ++l) {
        const int64_t e = i + r * 8 + l;
        acc[r][l] = std::fma(fp16_to_fp32(a[e]), b[e], acc[r][l]);
      }
    }
  }
  double sum = reduce_4x8(acc);
  for (int64_t e = body; e < n; ++e) sum += static_cast<double>(fp16_to_fp32(a[e]) * b[e]);
  return static_cast<float>(sum);
}

void attend_portable(const float* q, const KvLayer& kv, int64_t g, int64_t lo, int64_t hi, float scale,
                     float softcap, float* out, float* s) {
  const int64_t hd = kv.head_dim, row = kv.n_head_kv * hd;
  const auto* K = static_cast<const uint16_t*>(kv.k);
  const auto* V = static_cast<const uint16_t*>(kv.v);
  float q16[kMaxHeadDim];
  for (int64_t d = 0; d < hd; ++d) q16[d] = round_f16(q[d]);
  const int64_t n = hi - lo;
  float mx = -INFINITY;
  for (int64_t j = 0; j < n; ++j) {
    float x = dot_f16_ordered(K + (lo + j) * row + g * hd, q16, hd) * scale;
    if (softcap > 0.0f) x = softcap * std::tanh(x / softcap);
    s[j] = x;
    mx = std::max(mx, x);
  }
  // Softmax: exps, 8-lane block sums (lanes i and i+4, then pairs 0/2 and 1/3) aligned at absolute
  // position 0, added in double.
  double sum = 0.0;
  float block[8] = {};
  int64_t block_id = lo >> 3;
  auto flush = [&] {
    sum += static_cast<double>(((block[0] + block[4]) + (block[2] + block[6])) +
                               ((block[1] + block[5]) + (block[3] + block[7])));
    std::memset(block, 0, sizeof block);
  };
  for (int64_t j = 0; j < n; ++j) {
    const int64_t pos = lo + j;
    if ((pos >> 3) != block_id) {
      flush();
      block_id = pos >> 3;
    }
    s[j] = exp_poly(s[j] - mx);
    block[pos & 7] = s[j];
  }
  flush();
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < n; ++j) s[j] = round_f16(s[j] * inv);
  // out[d] = sum over positions of p * v, in the same lane/accumulator order along positions.
  for (int64_t d = 0; d < hd; ++d) {
    float acc[4][8] = {};
    for (int64_t j = 0; j < n; ++j) {
      const int64_t pos = lo + j;
      float& a = acc[(pos >> 3) & 3][pos & 7];
      a = std::fma(fp16_to_fp32(V[kv_v16_index(pos, g * hd + d, row)]), s[j], a);
    }
    out[d] = reduce_4x8(acc);
  }
}

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
}  // namespace
}  // namespace duet::rt
// The shared AVX2 helpers (exp8) need the target region, so they come in here, at file scope.
#define DUET_AVX2_REGION 1
#include "runtime/avx2_common.hpp"
namespace duet::rt {
namespace {

inline float reduce8(__m256 v) {
  __m128 t = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  t = _mm_hadd_ps(t, t);
  t = _mm_hadd_ps(t, t);
  return _mm_cvtss_f32(t);
}

inline float dot_f16_ordered_avx2(const uint16_t* a, const float* b, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  const int64_t body = n & ~int64_t{31};
  for (int64_t i = 0; i < body; i += 32) {
    for (int r = 0; r < 4; ++r) {
      const __m256 av = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + r * 8)));
      acc[r] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + i + r * 8), acc[r]);
    }
  }
  const __m256 x = _mm256_add_ps(_mm256_add_ps(acc[0], acc[2]), _mm256_add_ps(acc[1], acc[3]));
  double sum = reduce8(x);
  for (int64_t e = body; e < n; ++e) sum += static_cast<double>(fp16_to_fp32(a[e]) * b[e]);
  return static_cast<float>(sum);
}

// Two dots of one F16 row with two queries, each exactly dot_f16_ordered_avx2 (the row's F16 ->
// F32 conversion is shared). n is a multiple of 32.
inline void dot2_f16_ordered_avx2(const uint16_t* a, const float* b0, const float* b1, int64_t n, float* r0,
                                  float* r1) {
  __m256 x[4], y[4];
  for (int r = 0; r < 4; ++r) x[r] = y[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 32) {
    for (int r = 0; r < 4; ++r) {
      const __m256 av = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + r * 8)));
      x[r] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b0 + i + r * 8), x[r]);
      y[r] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b1 + i + r * 8), y[r]);
    }
  }
  *r0 = reduce8(_mm256_add_ps(_mm256_add_ps(x[0], x[2]), _mm256_add_ps(x[1], x[3])));
  *r1 = reduce8(_mm256_add_ps(_mm256_add_ps(y[0], y[2]), _mm256_add_ps(y[1], y[3])));
}

// Softmax of s[0, hi - lo) in place (exps over 8-aligned blocks of absolute positions, lanes
// outside [lo, hi) counting as 0), probabilities rounded to F16.
void softmax_ordered_avx2(float* s, int64_t lo, int64_t hi, float mx) {
  const int64_t n = hi - lo;
  double sum = 0.0;
  const int64_t first_block = lo & ~int64_t{7};
  for (int64_t b0 = first_block; b0 < hi; b0 += 8) {
    alignas(32) float lane[8];
    for (int l = 0; l < 8; ++l) {
      const int64_t pos = b0 + l;
      lane[l] = (pos >= lo && pos < hi) ? s[pos - lo] - mx : -INFINITY;
    }
    const __m256 e = kern::avx2::exp8(_mm256_load_ps(lane));
    _mm256_store_ps(lane, e);
    for (int l = 0; l < 8; ++l) {
      const int64_t pos = b0 + l;
      if (pos >= lo && pos < hi) s[pos - lo] = lane[l];
    }
    __m128 t = _mm_add_ps(_mm256_extractf128_ps(e, 1), _mm256_castps256_ps128(e));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    sum += static_cast<double>(_mm_cvtss_f32(t));
  }
  const float inv = static_cast<float>(1.0 / sum);
  int64_t j = 0;
  const __m256 vinv = _mm256_set1_ps(inv);
  for (; j + 8 <= n; j += 8) {
    const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(s + j), vinv);
    _mm256_storeu_ps(s + j, _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)));
  }
  for (; j < n; ++j) s[j] = round_f16(s[j] * inv);
}

// out_h[0, hd) = sum over positions of p_h * v for H heads (1 or 2) sharing kv head g, from the
// chunk-transposed F16 values (kv_v16_index): for each value dimension, four 8-lane accumulators
// take absolute positions with (pos / 8) % 4 = accumulator and pos % 8 = lane, chunk after chunk in
// increasing order, then the fixed tree ((a0 + a2) + (a1 + a3)) and, across lanes,
// ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)): the same per-position order as llama.cpp's
// F16 dot. p[h][i] is head h's probability of position c0 * 32 + i, zero outside [lo, hi); value
// lanes outside [lo, hi) in the two edge chunks are masked to zero, so they never count.
template <int H>
inline void weighted_sum_chunks(const uint16_t* V, int64_t row, int64_t e0, int64_t hd, int64_t c0, int64_t c1,
                                int64_t lo, int64_t hi, const float* const* p, float* const* out) {
  alignas(32) int32_t mask_first[32], mask_last[32];
  for (int i = 0; i < 32; ++i) {
    const int64_t pf = c0 * kKvVChunk + i, pl = (c1 - 1) * kKvVChunk + i;
    mask_first[i] = (pf >= lo && pf < hi) ? -1 : 0;
    mask_last[i] = (pl >= lo && pl < hi) ? -1 : 0;
  }
  const int64_t chunk_stride = row * kKvVChunk;
  for (int64_t d = 0; d < hd; ++d) {
    const uint16_t* vd = V + static_cast<size_t>((c0 * row + e0 + d) * kKvVChunk);
    __m256 acc[H][4];
    for (int h = 0; h < H; ++h)
      for (auto& x : acc[h]) x = _mm256_setzero_ps();
    for (int64_t c = c0; c < c1; ++c) {
      const uint16_t* vc = vd + (c - c0) * chunk_stride;
      const int64_t pi = (c - c0) * kKvVChunk;
      const int32_t* mask = c == c0 ? mask_first : (c == c1 - 1 ? mask_last : nullptr);
      for (int r = 0; r < 4; ++r) {
        __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(vc + 8 * r)));
        if (mask) v = _mm256_and_ps(v, _mm256_load_ps(reinterpret_cast<const float*>(mask + 8 * r)));
        for (int h = 0; h < H; ++h) acc[h][r] = _mm256_fmadd_ps(v, _mm256_loadu_ps(p[h] + pi + 8 * r), acc[h][r]);
      }
    }
    for (int h = 0; h < H; ++h) {
      const __m256 y = _mm256_add_ps(_mm256_add_ps(acc[h][0], acc[h][2]), _mm256_add_ps(acc[h][1], acc[h][3]));
      const __m128 t = _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1));
      const __m128 u = _mm_add_ps(t, _mm_shuffle_ps(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
      out[h][d] = _mm_cvtss_f32(_mm_add_ss(u, _mm_movehl_ps(u, u)));
    }
  }
}

// nh query heads sharing kv head g: each K row and V slice is read once for all of them (it stays
// in L1 between heads); every head's arithmetic is exactly the single-head order.
void attend_avx2(const float* q, int nh, const KvLayer& kv, int64_t g, int64_t lo, int64_t hi, float scale,
                 float softcap, float* out, float* s, size_t s_stride) {
  const int64_t hd = kv.head_dim, row = kv.n_head_kv * hd;
  const auto* K = static_cast<const uint16_t*>(kv.k);
  const auto* V = static_cast<const uint16_t*>(kv.v);
  alignas(32) float q16[kMaxHeadsAtOnce][kMaxHeadDim];
  float mx[kMaxHeadsAtOnce];
  for (int h = 0; h < nh; ++h) {
    for (int64_t d = 0; d < hd; d += 8) {  // hd % 8 == 0 here; F16C rounds to nearest even too
      const __m256 x = _mm256_loadu_ps(q + h * hd + d);
      _mm256_store_ps(&q16[h][d], _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)));
    }
    mx[h] = -INFINITY;
  }
  const int64_t n = hi - lo;
  for (int64_t j = 0; j < n; ++j) {
    const uint16_t* krow = K + (lo + j) * row + g * hd;
    float d[kMaxHeadsAtOnce];
    int h = 0;
    if (hd % 32 == 0) {
      for (; h + 2 <= nh; h += 2) dot2_f16_ordered_avx2(krow, q16[h], q16[h + 1], hd, &d[h], &d[h + 1]);
    }
    for (; h < nh; ++h) d[h] = dot_f16_ordered_avx2(krow, q16[h], hd);
    for (h = 0; h < nh; ++h) {
      float x = d[h] * scale;
      if (softcap > 0.0f) x = softcap * std::tanh(x / softcap);
      s[static_cast<size_t>(h) * s_stride + static_cast<size_t>(j)] = x;
      mx[h] = std::max(mx[h], x);
    }
  }
  // Probabilities moved to whole chunks: position c0 * 32 + i at index i, zeros around [lo, hi).
  const int64_t c0 = lo / kKvVChunk, c1 = (hi + kKvVChunk - 1) / kKvVChunk;
  const int64_t lead = lo - c0 * kKvVChunk, span = (c1 - c0) * kKvVChunk;
  for (int h = 0; h < nh; ++h) {
    float* sh = s + static_cast<size_t>(h) * s_stride;
    softmax_ordered_avx2(sh, lo, hi, mx[h]);
    std::memmove(sh + lead, sh, static_cast<size_t>(n) * sizeof(float));
    std::fill(sh, sh + lead, 0.0f);
    std::fill(sh + lead + n, sh + span, 0.0f);
  }
  for (int h = 0; h < nh; h += 2) {
    const float* sp[2] = {s + static_cast<size_t>(h) * s_stride, s + static_cast<size_t>(h + 1) * s_stride};
    float* op[2] = {out + h * hd, out + (h + 1) * hd};
    if (h + 1 < nh) {
      weighted_sum_chunks<2>(V, row, g * hd, hd, c0, c1, lo, hi, sp, op);
    } else {
      weighted_sum_chunks<1>(V, row, g * hd, hd, c0, c1, lo, hi, sp, op);
    }
  }
}

#pragma GCC pop_options

}  // namespace

void attend_f16_ordered(const float* q, int n_heads, const KvLayer& kv, int64_t g, int64_t lo,
                        int64_t hi, float scale, float softcap, float* out, float* s, size_t s_stride) {
  if (n_heads < 1 || n_heads > kMaxHeadsAtOnce) fail("attention: {} heads at once (1..{})", n_heads, kMaxHeadsAtOnce);
  if (hi > lo && s_stride < static_cast<size_t>(hi - lo + 2 * kKvVChunk)) {
    fail("attention: score stride {} too small for {} positions plus chunk padding", s_stride, hi - lo);
  }
  if (best_isa() == Isa::Avx2 && kv.head_dim % 8 == 0) {
    attend_avx2(q, n_heads, kv, g, lo, hi, scale, softcap, out, s, s_stride);
    return;
  }
  for (int h = 0; h < n_heads; ++h) {
    attend_portable(q + h * kv.head_dim, kv, g, lo, hi, scale, softcap, out + h * kv.head_dim,
                    s + static_cast<size_t>(h) * s_stride);
  }
}

}  // namespace duet::rt
