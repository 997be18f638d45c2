// Tests of load-time requantization: F16 rows converted to Q8_0 hold what quantizing their f32
// values gives, views of the kept bytes multiply like the original within Q8_0's error, and types
// Duet cannot write or rows that are not whole blocks are refused with an error.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "runtime/requantize.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::dequantize_rows;
using test::quantize_rows;
using test::random_floats;

TEST(Requantize, F16RowsToQ8_0EqualQuantizingTheirValues) {
  const int64_t n_in = 96, n_out = 7;
  const auto f16 = quantize_rows(DType::F16, random_floats(static_cast<size_t>(n_in * n_out), 1), n_out, n_in);
  const auto values = dequantize_rows(DType::F16, f16, n_out, n_in);
  const auto expected = quantize_rows(DType::Q8_0, values, n_out, n_in);
  EXPECT_EQ(requantize_rows(WeightView::of(DType::F16, n_in, n_out, f16.data()), DType::Q8_0), expected);
}

TEST(Requantize, AKeptViewMultipliesLikeTheOriginal) {
  const int64_t n_in = 64, n_out = 9, n = 3;
  const auto w = random_floats(static_cast<size_t>(n_in * n_out), 2);
  const WeightView original = WeightView::of(DType::F32, n_in, n_out, w.data());
  std::vector<std::vector<uint8_t>> store;
  const WeightView q8 = requantized_view(original, DType::Q8_0, store);
  store.emplace_back(1000);  // more kept buffers: the first one's bytes stay where the view says
  ASSERT_EQ(q8.type, DType::Q8_0);
  ASSERT_EQ(q8.n_out, n_out);
  const auto x = random_floats(static_cast<size_t>(n_in * n), 3);
  std::vector<float> a(static_cast<size_t>(n * n_out)), b(a.size());
  std::vector<uint8_t> scratch(std::max(matmul_scratch_bytes(original, n), matmul_scratch_bytes(q8, n)));
  matmul(original, x.data(), n, a.data(), scratch, nullptr);
  matmul(q8, x.data(), n, b.data(), scratch, nullptr);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i], a[i], 0.05) << i;
}

TEST(Requantize, RefusesTypesItCannotWriteAndPartialBlocks) {
  const auto w = random_floats(40 * 2, 4);
  EXPECT_THROW(requantize_rows(WeightView::of(DType::F32, 40, 2, w.data()), DType::Q8_0), Error);  // 40 % 32
  EXPECT_THROW(requantize_rows(WeightView::of(DType::F32, 40, 2, w.data()), DType::I64), Error);
  EXPECT_THROW(requantize_rows(WeightView{}, DType::Q8_0), Error);
}

}  // namespace
}  // namespace duet::rt
