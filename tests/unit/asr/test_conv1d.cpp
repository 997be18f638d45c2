// conv1d (src/runtime/conv1d.cpp) against a direct triple loop: strides, padding, dilation.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/error.hpp"
#include "runtime/conv1d.hpp"
#include "runtime/thread_pool.hpp"

namespace {

using duet::rt::Conv1dParams;

std::vector<float> reference(const std::vector<float>& x, int64_t t_in, const std::vector<float>& w,
                             const std::vector<float>& b, const Conv1dParams& p) {
  const int64_t t_out = duet::rt::conv1d_out_len(t_in, p);
  std::vector<float> y(static_cast<size_t>(t_out * p.c_out));
  for (int64_t t = 0; t < t_out; ++t) {
    for (int64_t o = 0; o < p.c_out; ++o) {
      double s = b[o];
      for (int64_t i = 0; i < p.c_in; ++i) {
        for (int64_t k = 0; k < p.kernel; ++k) {
          const int64_t src = t * p.stride + k * p.dilation - p.pad_left;
          if (src >= 0 && src < t_in) s += w[(o * p.c_in + i) * p.kernel + k] * x[src * p.c_in + i];
        }
      }
      y[t * p.c_out + o] = static_cast<float>(s);
    }
  }
  return y;
}

TEST(Conv1d, MatchesDirectLoop) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  duet::rt::ThreadPool pool(2);
  const Conv1dParams cases[] = {
      {3, 5, 3, 1, 1, 1, 1}, {4, 8, 3, 2, 1, 1, 1}, {2, 3, 7, 1, 3, 3, 1},
      {5, 4, 3, 1, 2, 2, 2}, {3, 2, 4, 3, 0, 2, 1}, {1, 1, 1, 1, 0, 0, 1},
  };
  for (const Conv1dParams& p : cases) {
    for (int64_t t_in : {1, 2, 9, 33}) {
      std::vector<float> x(static_cast<size_t>(t_in * p.c_in)), w(static_cast<size_t>(p.c_out * p.c_in * p.kernel)),
          b(static_cast<size_t>(p.c_out));
      for (float& v : x) v = u(rng);
      for (float& v : w) v = u(rng);
      for (float& v : b) v = u(rng);
      const auto want = reference(x, t_in, w, b, p);
      std::vector<float> y(want.size() + 1, 0.0f);
      std::vector<float> cols(duet::rt::conv1d_scratch_floats(t_in, p) + 1);
      std::vector<uint8_t> mm(duet::rt::conv1d_matmul_scratch_bytes(duet::rt::DType::F32, t_in, p) + 1);
      const auto wv = duet::rt::WeightView::of(duet::rt::DType::F32, p.c_in * p.kernel, p.c_out, w.data());
      duet::rt::conv1d(x.data(), t_in, wv, b.data(), p, y.data(), cols, mm, &pool);
      for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-4) << i;
    }
  }
}

TEST(Conv1d, RejectsWrongWeightShape) {
  const Conv1dParams p{3, 5, 3, 1, 1, 1, 1};
  std::vector<float> w(5 * 3 * 2), x(30), y(100), cols(1000);
  std::vector<uint8_t> mm(16);
  const auto wv = duet::rt::WeightView::of(duet::rt::DType::F32, 6, 5, w.data());
  EXPECT_THROW(duet::rt::conv1d(x.data(), 10, wv, nullptr, p, y.data(), cols, mm, nullptr),
               duet::Error);
}

TEST(Conv1d, OutputLength) {
  EXPECT_EQ(duet::rt::conv1d_out_len(3000, {80, 384, 3, 1, 1, 1, 1}), 3000);
  EXPECT_EQ(duet::rt::conv1d_out_len(3000, {384, 384, 3, 2, 1, 1, 1}), 1500);
  EXPECT_EQ(duet::rt::conv1d_out_len(1, {1, 1, 5, 1, 0, 0, 1}), 0);
}

}  // namespace
