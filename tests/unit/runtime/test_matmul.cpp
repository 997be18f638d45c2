// Tests of matmul(): against a naive float reference (dequantized weights, plain loops) for every
// weight type, several shapes (1 token, 37 tokens, odd row counts), 1 and 2 threads, scalar and
// AVX2; thread count must not change a single bit of the result.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "runtime/matmul.hpp"
#include "runtime/thread_pool.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::dequantize_rows;
using test::quantize_rows;
using test::random_floats;

struct Shape {
  int64_t n_in, n_out, n_tokens;
};

// y[t, o] = sum_i x[t, i] * w[o, i] in double.
std::vector<double> naive(const std::vector<float>& x, const std::vector<float>& w, const Shape& s) {
  std::vector<double> y(static_cast<size_t>(s.n_tokens * s.n_out));
  for (int64_t t = 0; t < s.n_tokens; ++t)
    for (int64_t o = 0; o < s.n_out; ++o) {
      double acc = 0;
      for (int64_t i = 0; i < s.n_in; ++i) acc += static_cast<double>(x[t * s.n_in + i]) * w[o * s.n_in + i];
      y[t * s.n_out + o] = acc;
    }
  return y;
}

std::vector<double> abs_naive(const std::vector<float>& x, const std::vector<float>& w, const Shape& s) {
  std::vector<float> ax(x), aw(w);
  for (float& v : ax) v = std::fabs(v);
  for (float& v : aw) v = std::fabs(v);
  return naive(ax, aw, s);
}

class Matmul : public ::testing::TestWithParam<DType> {};

TEST_P(Matmul, MatchesNaiveReference) {
  const DType type = GetParam();
  const bool k_type = dtype_layout(static_cast<uint32_t>(type))->block_elems == 256;
  std::vector<Shape> shapes = {
      {k_type ? 256 : 64, 7, 1},   {k_type ? 512 : 96, 33, 37}, {k_type ? 768 : 160, 13, 5},
      {k_type ? 256 : 576, 1, 4}, {k_type ? 512 : 32, 130, 2},
  };
  if (dtype_layout(static_cast<uint32_t>(type))->block_elems == 1) shapes.push_back({37, 9, 6});  // tails
  ThreadPool pool2(2);
  for (const Shape& s : shapes) {
    const auto wf = random_floats(static_cast<size_t>(s.n_in * s.n_out), 17, -1, 1);
    const auto x = random_floats(static_cast<size_t>(s.n_in * s.n_tokens), 18, -2, 2);
    const auto wq = quantize_rows(type, wf, s.n_out, s.n_in);
    const auto wd = dequantize_rows(type, wq, s.n_out, s.n_in);  // what the kernels really hold
    const WeightView w = WeightView::of(type, s.n_in, s.n_out, wq.data());

    // The activations as the kernel sees them (after quantization to the dot type).
    const QuantTraits* t = quant_traits(type, Isa::Scalar);
    std::vector<float> xd = x;
    if (t->act_type != DType::F32) {
      xd = dequantize_rows(t->act_type, quantize_rows(t->act_type, x, s.n_tokens, s.n_in), s.n_tokens, s.n_in);
    }
    const auto ref = naive(xd, wd, s);
    const auto mag = abs_naive(xd, wd, s);
    const auto exact = naive(x, wd, s);
    const auto exact_mag = abs_naive(x, wd, s);

    std::vector<uint8_t> scratch(matmul_scratch_bytes(type, s.n_in, s.n_tokens));
    std::vector<float> first;
    for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
      if (isa == Isa::Avx2 && !test::have_avx2()) continue;
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool2}) {
        std::vector<float> y(static_cast<size_t>(s.n_tokens * s.n_out), NAN);
        matmul(w, x.data(), s.n_tokens, y.data(), scratch, pool, isa);
        for (size_t i = 0; i < y.size(); ++i) {
          // Q8_1 keeps d * sum(q) as fp16 (as ggml does), so the min term of Q4_1/Q5_1 carries
          // that rounding (2^-11 relative) on top of the float summation order.
          const double rel = t->act_type == DType::Q8_1 ? 1e-3 : 2e-5;
          ASSERT_NEAR(y[i], ref[i], rel * mag[i] + 1e-5)
              << dtype_name(type) << " " << s.n_in << "x" << s.n_out << "x" << s.n_tokens << " i " << i
              << " isa " << static_cast<int>(isa) << " threads " << (pool ? 2 : 1);
          // Against unquantized activations: within the int8 activation error.
          const double act_tol = t->act_type == DType::F32 ? 2e-5 : 1.5e-2;
          ASSERT_NEAR(y[i], exact[i], act_tol * exact_mag[i] + 1e-4) << dtype_name(type);
        }
        if (isa == Isa::Avx2) {
          if (first.empty()) first = y;
          else ASSERT_EQ(first, y) << "thread count changed the result";
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, Matmul, ::testing::ValuesIn(test::weight_types()),
                         [](const auto& tp) { return std::string(dtype_name(tp.param)); });

TEST(MatmulErrors, ShortScratchAndUnsupportedTypes) {
  const auto wf = random_floats(64 * 4, 1);
  const auto wq = quantize_rows(DType::Q8_0, wf, 4, 64);
  const WeightView w = WeightView::of(DType::Q8_0, 64, 4, wq.data());
  const auto x = random_floats(64, 2);
  std::vector<float> y(4);
  std::vector<uint8_t> small(10);
  EXPECT_THROW(matmul(w, x.data(), 1, y.data(), small, nullptr), Error);
  EXPECT_THROW(matmul_scratch_bytes(DType::Q3_K, 256, 1), Error);
  EXPECT_EQ(matmul_scratch_bytes(DType::F16, 64, 3), 0u);
  TensorInfo ti;
  ti.name = "cube";
  ti.type = DType::F32;
  ti.n_dims = 3;
  ti.ne[0] = 4; ti.ne[1] = 4; ti.ne[2] = 2;
  EXPECT_THROW(WeightView::of(ti), Error);
}

}  // namespace
}  // namespace duet::rt
