// Scalar reference float32 vector kernels (std:: math, element order) and the run-time choice
// between them and the AVX2 row. Must never reassociate: these are what the AVX2 row is tested
// against.
#include <cmath>
#include <limits>

#include "runtime/half.hpp"
#include "runtime/vec_math.hpp"

namespace duet::rt {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCoef = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;

inline float silu1(float x) { return x / (1.0f + std::exp(-x)); }
inline float gelu_tanh1(float x) {
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + kGeluCoef * x * x * x)));
}
inline float gelu_erf1(float x) { return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2)); }

float dot_f32(const float* a, const float* b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
float dot_f16(const uint16_t* a, const float* b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += fp16_to_fp32(a[i]) * b[i];
  return s;
}
void axpy_f32(int64_t n, float alpha, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}
void axpy_f16(int64_t n, float alpha, const uint16_t* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * fp16_to_fp32(x[i]);
}
void scale(int64_t n, float s, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] *= s;
}
float vmax(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}
float exp_sum(float* x, int64_t n, float max) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    s += x[i];
  }
  return s;
}
float sum_exp(const float* x, int64_t n, float max) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - max);
  return s;
}
void softcap(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}
void silu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = silu1(x[i]);
}
void gelu_tanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_tanh1(x[i]);
}
void gelu_erf(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_erf1(x[i]);
}
void swiglu(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = silu1(g[i]) * u[i];
}
void geglu_tanh(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_tanh1(g[i]) * u[i];
}
void geglu_erf(const float* g, const float* u, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_erf1(g[i]) * u[i];
}

VecKernels scalar_row() {
  return VecKernels{dot_f32, dot_f16,   axpy_f32,  axpy_f16, scale,  vmax,       exp_sum, sum_exp,
                    softcap, silu,      gelu_tanh, gelu_erf, swiglu, geglu_tanh, geglu_erf};
}

}  // namespace

const VecKernels& vec_kernels(Isa isa) {
  static const VecKernels scalar = scalar_row();
  if (isa == Isa::Avx2 && cpu_has_avx2()) {
    static const VecKernels avx2 = [] {
      VecKernels k = scalar_row();
      kern::avx2_fill_vec(k);
      return k;
    }();
    return avx2;
  }
  return scalar;
}

}  // namespace duet::rt
