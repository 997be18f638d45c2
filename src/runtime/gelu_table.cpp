// The 65,536-entry table (128 KiB) is a function-local constant: initialised thread-safely once.
#include "runtime/gelu_table.hpp"

#include <cmath>
#include <vector>

#include "runtime/half.hpp"

namespace duet::rt {
namespace {

float gelu_tanh_f32(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoef = 0.044715f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoef * x * x)));
}

const std::vector<uint16_t>& table() {
  static const std::vector<uint16_t> t = [] {
    std::vector<uint16_t> v(1 << 16);
    for (uint32_t i = 0; i < v.size(); ++i) {
      v[i] = fp32_to_fp16(gelu_tanh_f32(fp16_to_fp32(static_cast<uint16_t>(i))));
    }
    return v;
  }();
  return t;
}

inline float lookup(const uint16_t* t, float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return fp16_to_fp32(t[fp32_to_fp16(x)]);
}

}  // namespace

void gelu_table(const float* x, float* y, int64_t n) {
  const uint16_t* t = table().data();
  for (int64_t i = 0; i < n; ++i) y[i] = lookup(t, x[i]);
}

void geglu_table(const float* gate, const float* up, float* y, int64_t n) {
  const uint16_t* t = table().data();
  for (int64_t i = 0; i < n; ++i) y[i] = lookup(t, gate[i]) * up[i];
}

}  // namespace duet::rt
