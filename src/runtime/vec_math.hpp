// Internal: float32 vector kernels the ops are built from (dots, axpy, exp-based activations), as
// a table with a scalar reference row and an AVX2 row picked at run time. Must never allocate or
// keep state; every function works on caller-owned arrays of n elements.
#pragma once

#include <cstdint>

#include "runtime/quants.hpp"

namespace duet::rt {

struct VecKernels {
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  float (*dot_f16)(const uint16_t* a, const float* b, int64_t n);  // a is fp16
  void (*axpy_f32)(int64_t n, float alpha, const float* x, float* y);    // y += alpha * x
  void (*axpy_f16)(int64_t n, float alpha, const uint16_t* x, float* y); // x is fp16
  void (*scale)(int64_t n, float s, float* y);                           // y *= s
  float (*max)(const float* x, int64_t n);                               // -inf for n == 0
  // x[i] = exp(x[i] - max); returns the sum of the new x.
  float (*exp_sum)(float* x, int64_t n, float max);
  // The sum of exp(x[i] - max), x left as it is.
  float (*sum_exp)(const float* x, int64_t n, float max);
  void (*softcap)(float* x, int64_t n, float cap);                       // x = cap * tanh(x / cap)
  void (*silu)(const float* x, float* y, int64_t n);
  void (*gelu_tanh)(const float* x, float* y, int64_t n);
  void (*gelu_erf)(const float* x, float* y, int64_t n);
  // y = act(g) * u, fused (SwiGLU with silu, GeGLU with gelu_tanh / gelu_erf).
  void (*swiglu)(const float* g, const float* u, float* y, int64_t n);
  void (*geglu_tanh)(const float* g, const float* u, float* y, int64_t n);
  void (*geglu_erf)(const float* g, const float* u, float* y, int64_t n);
};

const VecKernels& vec_kernels(Isa isa = best_isa());

namespace kern {
void avx2_fill_vec(VecKernels& k);  // vec_math_avx2.cpp
}

}  // namespace duet::rt
