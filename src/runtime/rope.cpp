// Rotary position embedding: cos/sin tables built once per model (in float, as llama.cpp does), and the
// in-place rotation in Normal (adjacent pairs) and NeoX (split halves) layouts. Must never rotate
// past n_rot dimensions or read a position outside the table.
#include <cmath>

#include "core/error.hpp"
#include "runtime/ops.hpp"
#include "runtime/quants.hpp"

namespace duet::rt {

RopeCache RopeCache::make(int n_rot, int64_t max_pos, float freq_base, float freq_scale) {
  if (n_rot <= 0 || n_rot % 2 != 0) fail("rope: n_rot must be even and positive, got {}", n_rot);
  if (max_pos <= 0) fail("rope: max_pos must be positive, got {}", max_pos);
  RopeCache c;
  c.n_rot = n_rot;
  c.max_pos = max_pos;
  const int half = n_rot / 2;
  c.cos.resize(static_cast<size_t>(max_pos) * half);
  c.sin.resize(static_cast<size_t>(max_pos) * half);
  // Angles are built as llama.cpp builds them, in float: theta_i = p * s^i by repeated
  // multiplication with s = freq_base^(-2/n_rot), then scaled, then cosf/sinf. Matching its
  // roundings keeps the two engines' logits comparable at the 1e-2 level.
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  for (int64_t p = 0; p < max_pos; ++p) {
    float theta = static_cast<float>(p);
    for (int i = 0; i < half; ++i) {
      const float angle = freq_scale * theta;
      c.cos[static_cast<size_t>(p) * half + i] = std::cos(angle);
      c.sin[static_cast<size_t>(p) * half + i] = std::sin(angle);
      theta *= theta_scale;
    }
  }
  return c;
}

namespace {

// The rotation of one head with llama.cpp's CPU roundings: its compiler fuses the first product
// of each of x0 cos - x1 sin and x0 sin + x1 cos into an FMA (checked bit for bit against its
// logits). Inside an FMA target std::fma is one instruction; elsewhere it gives the same bits.
inline void rotate_head(float* v, const float* cs, const float* sn, int half, RopeMode mode) {
  if (mode == RopeMode::Normal) {
    for (int i = 0; i < half; ++i) {
      const float x0 = v[2 * i], x1 = v[2 * i + 1];
      v[2 * i] = std::fma(x0, cs[i], -(x1 * sn[i]));
      v[2 * i + 1] = std::fma(x0, sn[i], x1 * cs[i]);
    }
  } else {
    for (int i = 0; i < half; ++i) {
      const float x0 = v[i], x1 = v[i + half];
      v[i] = std::fma(x0, cs[i], -(x1 * sn[i]));
      v[i + half] = std::fma(x0, sn[i], x1 * cs[i]);
    }
  }
}

__attribute__((target("avx2,fma"))) void rotate_head_fma(float* v, const float* cs, const float* sn, int half,
                                                         RopeMode mode) {
  rotate_head(v, cs, sn, half, mode);
}

}  // namespace

void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* pos,
          const RopeCache& cache, RopeMode mode) {
  const int n_rot = cache.n_rot;
  if (n_rot > head_dim) fail("rope: n_rot {} exceeds head_dim {}", n_rot, head_dim);
  const int half = n_rot / 2;
  const bool hw_fma = best_isa() == Isa::Avx2;
  for (int64_t t = 0; t < n_tokens; ++t) {
    if (pos[t] < 0 || pos[t] >= cache.max_pos) {
      fail("rope: position {} outside the table [0, {})", pos[t], cache.max_pos);
    }
    const float* cs = cache.cos.data() + static_cast<size_t>(pos[t]) * half;
    const float* sn = cache.sin.data() + static_cast<size_t>(pos[t]) * half;
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      if (hw_fma) {
        rotate_head_fma(v, cs, sn, half, mode);
      } else {
        rotate_head(v, cs, sn, half, mode);
      }
    }
  }
}

}  // namespace duet::rt
