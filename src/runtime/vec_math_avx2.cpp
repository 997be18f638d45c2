// AVX2/FMA float32 vector kernels: dots, axpy, and the activations built on the shared
// polynomial exp (avx2_common.hpp's exp8). Must never be called on a CPU without AVX2/FMA/F16C;
// results match vec_math.cpp's std:: versions to a few ulp.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "runtime/half.hpp"
#include "runtime/vec_math.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define DUET_AVX2_REGION 1
#include "runtime/avx2_common.hpp"

namespace duet::rt::kern::avx2 {
namespace {

// x * sigmoid(k * x')-style helpers: v / (1 + e^-t).
static inline __m256 div_1p_exp_neg(__m256 v, __m256 t) {
  const __m256 den = _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(_mm256_sub_ps(_mm256_setzero_ps(), t)));
  return _mm256_div_ps(v, den);
}

static inline __m256 silu8(__m256 x) { return div_1p_exp_neg(x, x); }

// gelu_tanh(x) = 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
static inline __m256 gelu_tanh8(__m256 x) {
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                 _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
  return div_1p_exp_neg(x, _mm256_add_ps(u, u));
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error under 1.5e-7, far below what GELU's output
// resolves): erf(|x|) = 1 - t (a1 + t (a2 + ... + t a5)) e^{-x^2}, t = 1 / (1 + p |x|); odd in x.
static inline __m256 erf8(__m256 x) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_and_ps(x, sign_bit);
  const __m256 a = _mm256_andnot_ps(sign_bit, x);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, one));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  return _mm256_or_ps(_mm256_fnmadd_ps(p, e, one), sign);
}

// gelu_erf(x) = 0.5 x (1 + erf(x / sqrt 2)).
static inline __m256 gelu_erf8(__m256 x) {
  const __m256 e = erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.7071067811865476f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

inline float silu1(float x) { return x / (1.0f + std::exp(-x)); }
inline float gelu_tanh1(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}
inline float gelu_erf1(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f)); }

float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

static inline __m256 load_h8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

float dot_f16(const uint16_t* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(load_h8(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(load_h8(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_h8(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += _cvtsh_ss(a[i]) * b[i];
  return s;
}

void axpy_f32(int64_t n, float alpha, const float* x, float* y) {
  const __m256 va = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += alpha * x[i];
}

void axpy_f16(int64_t n, float alpha, const uint16_t* x, float* y) {
  const __m256 va = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_h8(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += alpha * _cvtsh_ss(x[i]);
}

void scale(int64_t n, float s, float* y) {
  const __m256 vs = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(vs, _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] *= s;
}

float vmax(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  if (n >= 8) {
    __m256 vm = _mm256_set1_ps(m);
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(vm), _mm256_extractf128_ps(vm, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    m = _mm_cvtss_f32(s);
  }
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float exp_sum(float* x, int64_t n, float max) {
  const __m256 vmax8 = _mm256_set1_ps(max);
  __m256 s = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax8));
    _mm256_storeu_ps(x + i, e);
    s = _mm256_add_ps(s, e);
  }
  float sum = hsum(s);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  return sum;
}

float sum_exp(const float* x, int64_t n, float max) {
  const __m256 vmax8 = _mm256_set1_ps(max);
  __m256 s = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) s = _mm256_add_ps(s, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax8)));
  float sum = hsum(s);
  for (; i < n; ++i) sum += std::exp(x[i] - max);
  return sum;
}

void softcap(float* x, int64_t n, float cap) {
  // cap * tanh(x / cap) = cap * (2 sigmoid(2x / cap) - 1)
  const __m256 two_over_cap = _mm256_set1_ps(2.0f / cap);
  const __m256 two_cap = _mm256_set1_ps(2.0f * cap);
  const __m256 vcap = _mm256_set1_ps(cap);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 t = _mm256_mul_ps(_mm256_loadu_ps(x + i), two_over_cap);
    _mm256_storeu_ps(x + i, _mm256_sub_ps(div_1p_exp_neg(two_cap, t), vcap));
  }
  for (; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void silu(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, silu8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = silu1(x[i]);
}

void gelu_tanh(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, gelu_tanh8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = gelu_tanh1(x[i]);
}

void swiglu(const float* g, const float* u, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(silu8(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i)));
  }
  for (; i < n; ++i) y[i] = silu1(g[i]) * u[i];
}

void gelu_erf(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, gelu_erf8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = gelu_erf1(x[i]);
}

void geglu_erf(const float* g, const float* u, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(gelu_erf8(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i)));
  }
  for (; i < n; ++i) y[i] = gelu_erf1(g[i]) * u[i];
}

void geglu_tanh(const float* g, const float* u, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(gelu_tanh8(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i)));
  }
  for (; i < n; ++i) y[i] = gelu_tanh1(g[i]) * u[i];
}

}  // namespace
}  // namespace duet::rt::kern::avx2

namespace duet::rt::kern {

void avx2_fill_vec(VecKernels& k) {
  using namespace avx2;
  k.dot_f32 = dot_f32;
  k.dot_f16 = dot_f16;
  k.axpy_f32 = axpy_f32;
  k.axpy_f16 = axpy_f16;
  k.scale = scale;
  k.max = vmax;
  k.exp_sum = exp_sum;
  k.sum_exp = sum_exp;
  k.softcap = softcap;
  k.silu = silu;
  k.gelu_tanh = gelu_tanh;
  k.swiglu = swiglu;
  k.geglu_tanh = geglu_tanh;
  k.gelu_erf = gelu_erf;
  k.geglu_erf = geglu_erf;
}

}  // namespace duet::rt::kern

#pragma GCC pop_options
