// Norms, elementwise math, activations, softmax, row reductions and embedding lookup on f32 rows.
// Must never allocate (get_rows dequantizes straight into the output) and never read past n per
// row.
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "runtime/ops.hpp"
#include "runtime/vec_math.hpp"

namespace duet::rt {

void rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps) {
  for (int64_t r = 0; r < n_rows; ++r, x += n, y += n) {
    // Float squares summed in order in double, as llama.cpp does: its activations then round to
    // the same int8 values as ours (a few hundred adds per row; the matmuls dwarf them).
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
    const auto mean_sq = static_cast<float>(sum / static_cast<double>(n));
    const float s = 1.0f / std::sqrt(mean_sq + eps);
    if (w) {
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s * w[i];
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
    }
  }
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n_rows,
                int64_t n, float eps) {
  for (int64_t r = 0; r < n_rows; ++r, x += n, y += n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    double var = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = x[i] - mean;
      var += d * d;
    }
    const float s = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) {
      float v = (x[i] - mean) * s;
      if (w) v *= w[i];
      if (b) v += b[i];
      y[i] = v;
    }
  }
}

void add(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void mul(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

void scale(const float* x, float s, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
}

void add_row(float* y, const float* b, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r, y += n) {
    for (int64_t i = 0; i < n; ++i) y[i] += b[i];
  }
}

void mul_row(float* y, const float* w, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r, y += n) {
    for (int64_t i = 0; i < n; ++i) y[i] *= w[i];
  }
}

void silu(const float* x, float* y, int64_t n) { vec_kernels().silu(x, y, n); }

void gelu(const float* x, float* y, int64_t n, GeluKind kind) {
  const VecKernels& k = vec_kernels();
  (kind == GeluKind::Tanh ? k.gelu_tanh : k.gelu_erf)(x, y, n);
}

void swiglu(const float* gate, const float* up, float* y, int64_t n) {
  vec_kernels().swiglu(gate, up, y, n);
}

void geglu(const float* gate, const float* up, float* y, int64_t n, GeluKind kind) {
  const VecKernels& k = vec_kernels();
  (kind == GeluKind::Tanh ? k.geglu_tanh : k.geglu_erf)(gate, up, y, n);
}

void softmax(const float* x, float* y, int64_t n_rows, int64_t n, float scale_by, const float* mask) {
  const VecKernels& k = vec_kernels();
  for (int64_t r = 0; r < n_rows; ++r, x += n, y += n) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale_by + (mask ? mask[r * n + i] : 0.0f);
    const float max = k.max(y, n);
    if (max == -std::numeric_limits<float>::infinity()) {
      for (int64_t i = 0; i < n; ++i) y[i] = 0.0f;
      continue;
    }
    const float sum = k.exp_sum(y, n, max);
    k.scale(n, 1.0f / sum, y);
  }
}

float max_value(const float* x, int64_t n) { return vec_kernels().max(x, n); }

int64_t argmax(const float* x, int64_t n) {
  if (n <= 0) return -1;
  float best = max_value(x, n);
  // The vector max may carry a NaN along; the scalar one never takes a NaN.
  if (std::isnan(best)) best = vec_kernels(Isa::Scalar).max(x, n);
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] == best) return i;
  }
  return 0;  // NaN alone
}

double log_sum_exp(const float* x, int64_t n) {
  const float max = max_value(x, n);
  if (max == -std::numeric_limits<float>::infinity()) return max;
  return static_cast<double>(max) + std::log(static_cast<double>(vec_kernels().sum_exp(x, n, max)));
}

void get_rows(const WeightView& table, const int32_t* ids, int64_t n_ids, float* out) {
  const QuantTraits* t = quant_traits(table.type);
  if (!t || !t->to_float) fail("cannot read embedding rows of type {}", dtype_name(table.type));
  for (int64_t i = 0; i < n_ids; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= table.n_out) {
      fail("row id {} out of range: the table has {} rows", id, table.n_out);
    }
    t->to_float(table.data + static_cast<size_t>(id) * table.row_bytes, out + i * table.n_in, table.n_in);
  }
}

}  // namespace duet::rt
