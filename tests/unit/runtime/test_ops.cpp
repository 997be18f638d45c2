// Tests of the f32 ops against naive double-precision references: norms, activations, softmax
// with scale and mask, reductions over a row of logits, RoPE in both modes with partial rotation,
// get_rows, cancellation.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "runtime/ops.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::random_floats;

TEST(Ops, RmsNorm) {
  const int64_t rows = 3, n = 37;
  const auto x = random_floats(rows * n, 1, -3, 3);
  const auto w = random_floats(n, 2);
  std::vector<float> y(rows * n), y2(x);
  rms_norm(x.data(), w.data(), y.data(), rows, n, 1e-5f);
  rms_norm(y2.data(), nullptr, y2.data(), rows, n, 1e-5f);  // in place, no weight
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[r * n + i]) * x[r * n + i];
    const double s = 1.0 / std::sqrt(ss / n + 1e-5);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(y[r * n + i], x[r * n + i] * s * w[i], 1e-5);
      EXPECT_NEAR(y2[r * n + i], x[r * n + i] * s, 1e-5);
    }
  }
}

TEST(Ops, LayerNorm) {
  const int64_t rows = 2, n = 50;
  auto x = random_floats(rows * n, 3, -3, 3);
  for (float& v : x) v += 5.0f;  // a large mean
  const auto w = random_floats(n, 4), b = random_floats(n, 5);
  std::vector<float> y(rows * n);
  layer_norm(x.data(), w.data(), b.data(), y.data(), rows, n, 1e-5f);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += x[r * n + i];
    mean /= n;
    for (int64_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
    var /= n;
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(y[r * n + i], (x[r * n + i] - mean) / std::sqrt(var + 1e-5) * w[i] + b[i], 1e-5);
    }
  }
}

TEST(Ops, Activations) {
  const int64_t n = 203;
  const auto x = random_floats(n, 6, -8, 8), u = random_floats(n, 7);
  std::vector<float> y(n);
  auto expect_all = [&](auto ref, const char* what) {
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], ref(i), 1e-5 * std::max(1.0, std::fabs(static_cast<double>(ref(i))))) << what << i;
  };
  auto gelu_tanh = [](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); };
  auto gelu_erf = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  auto silu_d = [](double v) { return v / (1 + std::exp(-v)); };
  silu(x.data(), y.data(), n);
  expect_all([&](int64_t i) { return silu_d(x[i]); }, "silu");
  gelu(x.data(), y.data(), n, GeluKind::Tanh);
  expect_all([&](int64_t i) { return gelu_tanh(x[i]); }, "gelu_tanh");
  gelu(x.data(), y.data(), n, GeluKind::Erf);
  expect_all([&](int64_t i) { return gelu_erf(x[i]); }, "gelu_erf");
  swiglu(x.data(), u.data(), y.data(), n);
  expect_all([&](int64_t i) { return silu_d(x[i]) * u[i]; }, "swiglu");
  geglu(x.data(), u.data(), y.data(), n);
  expect_all([&](int64_t i) { return gelu_tanh(x[i]) * u[i]; }, "geglu");
  geglu(x.data(), u.data(), y.data(), n, GeluKind::Erf);
  expect_all([&](int64_t i) { return gelu_erf(x[i]) * u[i]; }, "geglu_erf");
  add(x.data(), u.data(), y.data(), n);
  expect_all([&](int64_t i) { return x[i] + u[i]; }, "add");
  mul(x.data(), u.data(), y.data(), n);
  expect_all([&](int64_t i) { return x[i] * u[i]; }, "mul");
  scale(x.data(), 0.5f, y.data(), n);
  expect_all([&](int64_t i) { return x[i] * 0.5; }, "scale");
  std::vector<float> m(x);
  add_row(m.data(), u.data(), 1, n);
  mul_row(m.data(), u.data(), 1, n);
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(m[i], (x[i] + u[i]) * u[i], 1e-5);
}

TEST(Ops, SoftmaxWithScaleAndMask) {
  const int64_t rows = 3, n = 19;
  const auto x = random_floats(rows * n, 8, -5, 5);
  std::vector<float> mask(rows * n, 0.0f);
  for (int64_t i = 10; i < n; ++i) mask[i] = -INFINITY;          // row 0: second half hidden
  for (int64_t i = 0; i < n; ++i) mask[2 * n + i] = -INFINITY;   // row 2: all hidden
  mask[n + 3] = -2.0f;
  std::vector<float> y(rows * n);
  softmax(x.data(), y.data(), rows, n, 0.7f, mask.data());
  for (int64_t r = 0; r < rows; ++r) {
    double max = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; ++i) max = std::max(max, 0.7 * x[r * n + i] + mask[r * n + i]);
    for (int64_t i = 0; i < n; ++i) sum += std::exp(0.7 * x[r * n + i] + mask[r * n + i] - max);
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::isinf(max) ? 0.0 : std::exp(0.7 * x[r * n + i] + mask[r * n + i] - max) / sum;
      EXPECT_NEAR(y[r * n + i], want, 1e-6) << r << "," << i;
    }
  }
  std::vector<float> z(x);
  softmax(z.data(), z.data(), rows, n);  // in place, no mask
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += z[i];
  EXPECT_NEAR(s, 1.0, 1e-6);
}

TEST(Ops, RowReductionsOverAVocabularyOfLogits) {
  const int64_t n = 51865;  // Whisper's vocabulary: whole 8-lane blocks and a tail
  auto x = random_floats(n, 9, -30, 30);
  for (int64_t i = 0; i < n; i += 7) x[i] = -INFINITY;  // suppressed tokens
  x[40000] = 31.0f;
  x[50001] = 31.0f;  // a tie: the first one wins
  EXPECT_EQ(max_value(x.data(), n), 31.0f);
  EXPECT_EQ(argmax(x.data(), n), 40000);
  double max = -INFINITY, sum = 0;
  for (float v : x) max = std::max(max, static_cast<double>(v));
  for (float v : x) sum += std::exp(v - max);
  EXPECT_NEAR(log_sum_exp(x.data(), n), max + std::log(sum), 1e-5);
  double m5 = -INFINITY, s5 = 0;  // a short row: the scalar tail alone
  for (int i = 3; i < 8; ++i) m5 = std::max(m5, static_cast<double>(x[i]));
  for (int i = 3; i < 8; ++i) s5 += std::exp(x[i] - m5);
  EXPECT_NEAR(log_sum_exp(x.data() + 3, 5), m5 + std::log(s5), 1e-6);
  // Degenerate rows: nothing, everything suppressed, NaN.
  const float hidden[3] = {-INFINITY, -INFINITY, -INFINITY};
  EXPECT_EQ(log_sum_exp(hidden, 3), -INFINITY);
  EXPECT_EQ(log_sum_exp(hidden, 0), -INFINITY);
  EXPECT_EQ(argmax(hidden, 0), -1);
  EXPECT_EQ(argmax(hidden, 3), 0);
  const float with_nan[10] = {1, NAN, 3, 2, NAN, 0, 0, 0, 0, NAN};
  EXPECT_EQ(argmax(with_nan, 10), 2);
  const float nan_only[2] = {NAN, NAN};
  EXPECT_EQ(argmax(nan_only, 2), 0);
}

void rope_reference(std::vector<float>& x, int64_t n_tokens, int64_t n_heads, int64_t hd,
                    const std::vector<int32_t>& pos, int n_rot, double base, double fscale, bool neox) {
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x.data() + (t * n_heads + h) * hd;
      for (int i = 0; i < n_rot / 2; ++i) {
        const double theta = pos[t] * fscale * std::pow(base, -2.0 * i / n_rot);
        const int a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
        const double x0 = v[a], x1 = v[b];
        v[a] = static_cast<float>(x0 * std::cos(theta) - x1 * std::sin(theta));
        v[b] = static_cast<float>(x0 * std::sin(theta) + x1 * std::cos(theta));
      }
    }
}

TEST(Ops, RopeBothModesAndPartialRotation) {
  const int64_t n_tokens = 5, n_heads = 3, hd = 16;
  const std::vector<int32_t> pos = {0, 1, 7, 100, 4095};
  for (bool neox : {false, true}) {
    for (int n_rot : {16, 8}) {
      const RopeCache cache = RopeCache::make(n_rot, 4096, 10000.0f, n_rot == 8 ? 0.5f : 1.0f);
      auto x = random_floats(n_tokens * n_heads * hd, 9);
      auto want = x;
      rope(x.data(), n_tokens, n_heads, hd, pos.data(), cache, neox ? RopeMode::NeoX : RopeMode::Normal);
      rope_reference(want, n_tokens, n_heads, hd, pos, n_rot, 10000.0, n_rot == 8 ? 0.5 : 1.0, neox);
      for (size_t i = 0; i < x.size(); ++i) {
        // The table builds angles in float as llama.cpp does (p * s^i by repeated products), so
        // their error grows with the position; the double reference is exact.
        const int64_t t = static_cast<int64_t>(i) / (n_heads * hd);
        const double tol = 2e-6 * (1.0 + pos[t] / 8.0);
        ASSERT_NEAR(x[i], want[i], tol) << "neox " << neox << " n_rot " << n_rot << " i " << i;
      }
    }
  }
  const RopeCache cache = RopeCache::make(16, 10, 10000.0f);
  std::vector<float> x(16);
  const int32_t bad = 10;
  EXPECT_THROW(rope(x.data(), 1, 1, 16, &bad, cache, RopeMode::Normal), Error);
}

TEST(Ops, GetRowsFromQuantizedTable) {
  const int64_t n = 64, rows = 10;
  const auto table = random_floats(n * rows, 10);
  for (DType type : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_1}) {
    const auto q = test::quantize_rows(type, table, rows, n);
    const auto d = test::dequantize_rows(type, q, rows, n);
    const WeightView w = WeightView::of(type, n, rows, q.data());
    const std::vector<int32_t> ids = {3, 0, 9, 3};
    std::vector<float> out(ids.size() * n);
    get_rows(w, ids.data(), static_cast<int64_t>(ids.size()), out.data());
    for (size_t k = 0; k < ids.size(); ++k)
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[k * n + i], d[ids[k] * n + i]) << dtype_name(type);
    const int32_t bad = 10;
    EXPECT_THROW(get_rows(w, &bad, 1, out.data()), Error);
  }
}

TEST(Ops, CheckCancel) {
  CancelToken token;
  EXPECT_NO_THROW(check_cancel(token));
  token.cancel();
  EXPECT_THROW(check_cancel(token), Cancelled);
}

}  // namespace
}  // namespace duet::rt
