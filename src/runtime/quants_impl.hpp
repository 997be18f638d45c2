// Internal: the kernel functions behind the traits tables (quants.hpp). Scalar reference kernels
// live in quants_ref.cpp and quantize_ref.cpp, AVX2 ones in *_avx2.cpp. Must never be included by
// code outside src/runtime: callers go through quant_traits().
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/quants.hpp"

namespace duet::rt::kern {

// ---- scalar reference: dequantization (row -> f32) ----
void f32_to_float(const void* src, float* dst, int64_t n);
void f16_to_float(const void* src, float* dst, int64_t n);
void bf16_to_float(const void* src, float* dst, int64_t n);
void q4_0_to_float(const void* src, float* dst, int64_t n);
void q4_1_to_float(const void* src, float* dst, int64_t n);
void q5_0_to_float(const void* src, float* dst, int64_t n);
void q5_1_to_float(const void* src, float* dst, int64_t n);
void q8_0_to_float(const void* src, float* dst, int64_t n);
void q8_1_to_float(const void* src, float* dst, int64_t n);
void q2_k_to_float(const void* src, float* dst, int64_t n);
void q3_k_to_float(const void* src, float* dst, int64_t n);
void q4_k_to_float(const void* src, float* dst, int64_t n);
void q5_k_to_float(const void* src, float* dst, int64_t n);
void q6_k_to_float(const void* src, float* dst, int64_t n);
void q8_k_to_float(const void* src, float* dst, int64_t n);

// ---- scalar reference: quantization (f32 -> row) ----
void float_to_f32(const float* src, void* dst, int64_t n);
void float_to_f16(const float* src, void* dst, int64_t n);
void float_to_bf16(const float* src, void* dst, int64_t n);
void float_to_q4_0(const float* src, void* dst, int64_t n);
void float_to_q4_1(const float* src, void* dst, int64_t n);
void float_to_q5_0(const float* src, void* dst, int64_t n);
void float_to_q5_1(const float* src, void* dst, int64_t n);
void float_to_q8_0(const float* src, void* dst, int64_t n);  // activations: round half to even
void float_to_q8_1(const float* src, void* dst, int64_t n);
void float_to_q4_k(const float* src, void* dst, int64_t n);
void float_to_q5_k(const float* src, void* dst, int64_t n);
void float_to_q6_k(const float* src, void* dst, int64_t n);
void float_to_q8_k(const float* src, void* dst, int64_t n);

// ---- scalar reference: dots (weight row . activation row) ----
float dot_f32_f32(int64_t n, const void* w, const void* a);
float dot_f16_f32(int64_t n, const void* w, const void* a);
float dot_bf16_f32(int64_t n, const void* w, const void* a);
float dot_q4_0_q8_0(int64_t n, const void* w, const void* a);
float dot_q4_1_q8_1(int64_t n, const void* w, const void* a);
float dot_q5_0_q8_0(int64_t n, const void* w, const void* a);
float dot_q5_1_q8_1(int64_t n, const void* w, const void* a);
float dot_q8_0_q8_0(int64_t n, const void* w, const void* a);
float dot_q4_k_q8_k(int64_t n, const void* w, const void* a);
float dot_q5_k_q8_k(int64_t n, const void* w, const void* a);
float dot_q6_k_q8_k(int64_t n, const void* w, const void* a);

// A gemm tile made of vec_dot calls: the reference every AVX2 tile kernel is tested against.
template <VecDotFn Dot>
void gemm_by_dot(int64_t n, const void* w, size_t w_stride, int nr, const void* a, size_t a_stride,
                 int nc, float* y, size_t y_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int c = 0; c < nc; ++c) {
    for (int r = 0; r < nr; ++r) {
      y[static_cast<size_t>(c) * y_stride + r] =
          Dot(n, wb + static_cast<size_t>(r) * w_stride, ab + static_cast<size_t>(c) * a_stride);
    }
  }
}

// ---- AVX2 table rows (defined in the *_avx2.cpp files; only called when the CPU has AVX2) ----
// Fills the kernel slots of `t` (already holding the scalar row) for types the AVX2 code covers.
void avx2_fill_q32(QuantTraits& t);     // Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 + Q8_0/Q8_1 quantizers
void avx2_fill_k(QuantTraits& t);       // Q4_K Q5_K Q6_K + Q8_K quantizer
void avx2_fill_float(QuantTraits& t);   // F32 F16 BF16
// Defined in quants_vnni_q.cpp; only called when the CPU has AVX-512 VNNI. Replaces the dot and
// GEMM slots of the 32-element block types with their VNNI build.
void vnni_fill_q32(QuantTraits& t);

}  // namespace duet::rt::kern
