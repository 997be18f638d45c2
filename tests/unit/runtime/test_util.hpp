// Shared helpers for the runtime unit tests: seeded random data and quantized rows. Must never use
// unseeded randomness: every failure has to reproduce.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/dtype.hpp"
#include "runtime/half.hpp"
#include "runtime/quants.hpp"

namespace duet::rt::test {

// The largest error per-row symmetric quantization (activations to act_max steps, weights to
// weight_max, each by its row's largest magnitude) can make on the dot of x and w: each product
// is off by at most |x| dw + |w| dx + dx dw, with dw, dx half a quantization step of the rows;
// plus the f32 rounding of the scaled sum.
inline double quantization_error_bound(const float* x, const float* w, int64_t n, int32_t act_max, int32_t weight_max) {
  float x_max = 0, w_max = 0;
  for (int64_t i = 0; i < n; ++i) {
    x_max = std::max(x_max, std::fabs(x[i]));
    w_max = std::max(w_max, std::fabs(w[i]));
  }
  const double dx = x_max / act_max / 2.0, dw = w_max / weight_max / 2.0;
  double bound = 0, mag = 0;
  for (int64_t i = 0; i < n; ++i) {
    bound += std::fabs(x[i]) * dw + std::fabs(w[i]) * dx + dx * dw;
    mag += std::fabs(static_cast<double>(x[i]) * w[i]);
  }
  return bound * 1.001 + 1e-6 * mag + 1e-30;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Rows of `type` from floats (scalar reference quantizer), n_rows x n elements.
inline std::vector<uint8_t> quantize_rows(DType type, const std::vector<float>& x, int64_t n_rows, int64_t n) {
  const size_t rb = dtype_row_bytes(type, n);
  std::vector<uint8_t> out(rb * static_cast<size_t>(n_rows) + 64);
  const QuantTraits* t = quant_traits(type, Isa::Scalar);
  for (int64_t r = 0; r < n_rows; ++r) t->from_float(x.data() + r * n, out.data() + r * rb, n);
  out.resize(rb * static_cast<size_t>(n_rows));
  return out;
}

inline std::vector<float> dequantize_rows(DType type, const std::vector<uint8_t>& q, int64_t n_rows, int64_t n) {
  const size_t rb = dtype_row_bytes(type, n);
  std::vector<float> out(static_cast<size_t>(n_rows * n));
  const QuantTraits* t = quant_traits(type, Isa::Scalar);
  for (int64_t r = 0; r < n_rows; ++r) t->to_float(q.data() + r * rb, out.data() + r * n, n);
  return out;
}

// The weight types matmul supports.
inline const std::vector<DType>& weight_types() {
  static const std::vector<DType> types = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,
                                           DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                                           DType::Q4_K, DType::Q5_K, DType::Q6_K};
  return types;
}

inline bool have_avx2() { return cpu_has_avx2(); }

}  // namespace duet::rt::test
