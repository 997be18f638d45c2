// Tests of the 8-bit integer GEMM that matmul() uses, on AVX-512 VNNI CPUs, for weights packed
// with pack_int8_panels(): against a double-precision reference within the error the two
// quantizations allow (int8 weights per output row, int8 activations per token row), for awkward
// shapes (inputs not a multiple of the 4-byte group or of 16, outputs not a multiple of the
// 16-wide panel, partial micro-kernels, several token blocks), 1 and 2 threads bit-identical,
// never writing outside y; every product at full scale with both signs (the offset taken back
// exactly, no int32 overflow); non-finite activations counting as 0; matmul() taking the path only
// from kInt8MinTokens tokens and before the int16 one; clear errors for short scratch, unpacked,
// non-finite or too long weight rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "runtime/gemm_int16.hpp"
#include "runtime/gemm_int8.hpp"
#include "runtime/matmul.hpp"
#include "runtime/thread_pool.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::random_floats;

struct Shape {
  int64_t n_in, n_out, n_tokens;
};

constexpr float kGuard = 12345.0f;  // written after y; must survive every call

// The largest error the two quantizations can make on y[t, o].
double error_bound(const float* x, const float* w, int64_t n_in) {
  return test::quantization_error_bound(x, w, n_in, kInt8ActMax, kInt8WeightMax);
}

WeightView packed_view(const std::vector<float>& w, int64_t n_in, int64_t n_out,
                       std::shared_ptr<const Int8Panels>& keep) {
  WeightView view = WeightView::of(DType::F32, n_in, n_out, w.data());
  keep = pack_int8_panels(view);
  view.int8 = keep.get();
  return view;
}

class GemmInt8Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!gemm_int8_available()) GTEST_SKIP() << "the 8-bit GEMM needs AVX-512 VNNI (and DUET_NO_AVX512 unset)";
  }
};

TEST_F(GemmInt8Test, MatchesTheReferenceWithinTheQuantizationErrorOnAwkwardShapes) {
  const std::vector<Shape> shapes = {
      {37, 9, 25},      // inputs not a multiple of 4 or 16, one partial panel
      {300, 33, 29},    // panels 16 + 16 + 1
      {384, 40, 121},   // two token blocks, a partial micro-kernel
      {1, 16, 30},      // one input
      {1152, 24, 250},  // the Whisper conv2 im2col depth
      {1536, 17, 61},   // the Whisper FFN down depth
  };
  ThreadPool pool1(1), pool2(2);
  for (const Shape& s : shapes) {
    const auto w = random_floats(static_cast<size_t>(s.n_in * s.n_out), 7, -1, 1);
    const auto x = random_floats(static_cast<size_t>(s.n_in * s.n_tokens), 8, -2, 2);
    std::shared_ptr<const Int8Panels> keep;
    const WeightView view = packed_view(w, s.n_in, s.n_out, keep);
    const std::string what = std::to_string(s.n_in) + "x" + std::to_string(s.n_out) + "x" + std::to_string(s.n_tokens);
    const size_t n_y = static_cast<size_t>(s.n_tokens * s.n_out);
    std::vector<uint8_t> scratch(matmul_scratch_bytes(view, s.n_tokens));
    std::vector<float> first;
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool1, &pool2}) {
      std::vector<float> y(n_y + 16, kGuard);
      gemm_int8(view, x.data(), s.n_tokens, y.data(), scratch, pool);
      for (int64_t t = 0; t < s.n_tokens; ++t) {
        for (int64_t o = 0; o < s.n_out; ++o) {
          const float* xr = x.data() + t * s.n_in;
          const float* wr = w.data() + o * s.n_in;
          double ref = 0;
          for (int64_t i = 0; i < s.n_in; ++i) ref += static_cast<double>(xr[i]) * wr[i];
          ASSERT_NEAR(y[t * s.n_out + o], ref, error_bound(xr, wr, s.n_in)) << what << " t " << t << " o " << o;
        }
      }
      for (size_t i = n_y; i < y.size(); ++i) ASSERT_EQ(y[i], kGuard) << what << " wrote past y";
      if (first.empty()) first = y;
      else ASSERT_EQ(first, y) << what << ": the thread count changed the result";
    }
  }
}

TEST_F(GemmInt8Test, EveryProductAtFullScaleWithEitherSignComesOutExactly) {
  // All activations and weights at their row maxima: every product is +-127 * 127, the offset
  // adds 128 * 127 per input, and a long row sums the most an int32 accumulator ever holds here.
  for (const float ws : {1.0f, -1.0f}) {
    for (const float xs : {1.0f, -1.0f}) {
      const int64_t n_in = 4001, n_out = 16, n = 24;
      std::vector<float> w(static_cast<size_t>(n_in * n_out), 0.5f * ws), x(static_cast<size_t>(n_in * n), 3.0f * xs);
      std::shared_ptr<const Int8Panels> keep;
      const WeightView view = packed_view(w, n_in, n_out, keep);
      std::vector<uint8_t> scratch(matmul_scratch_bytes(view, n));
      std::vector<float> y(static_cast<size_t>(n * n_out));
      gemm_int8(view, x.data(), n, y.data(), scratch, nullptr);
      const float want = 1.5f * ws * xs * static_cast<float>(n_in);
      for (float v : y) ASSERT_NEAR(v, want, 1e-5f * std::fabs(want));
    }
  }
}

TEST_F(GemmInt8Test, NonFiniteActivationsCountAsZeroAndZeroRowsGiveZero) {
  const int64_t n_in = 70, n_out = 19, n = 30;
  const auto w = random_floats(static_cast<size_t>(n_in * n_out), 3);
  auto x = random_floats(static_cast<size_t>(n_in * n), 4);
  auto clean = x;
  x[5] = std::numeric_limits<float>::quiet_NaN();
  x[n_in + 9] = std::numeric_limits<float>::infinity();
  x[2 * n_in + 69] = -std::numeric_limits<float>::infinity();
  clean[5] = clean[n_in + 9] = clean[2 * n_in + 69] = 0.0f;
  std::fill_n(x.begin() + 3 * n_in, n_in, 0.0f);
  std::fill_n(clean.begin() + 3 * n_in, n_in, 0.0f);
  std::shared_ptr<const Int8Panels> keep;
  const WeightView view = packed_view(w, n_in, n_out, keep);
  std::vector<uint8_t> scratch(matmul_scratch_bytes(view, n));
  std::vector<float> y(static_cast<size_t>(n * n_out)), y_clean(y.size());
  gemm_int8(view, x.data(), n, y.data(), scratch, nullptr);
  gemm_int8(view, clean.data(), n, y_clean.data(), scratch, nullptr);
  EXPECT_EQ(y, y_clean);
  for (int64_t o = 0; o < n_out; ++o) EXPECT_EQ(y[3 * n_out + o], 0.0f);
}

TEST_F(GemmInt8Test, MatmulTakesTheEightBitPathFromItsMinimumTokenCountAndBeforeTheSixteenBitOne) {
  const int64_t n_in = 96, n_out = 20;
  const auto w = random_floats(static_cast<size_t>(n_in * n_out), 5);
  const WeightView plain = WeightView::of(DType::F32, n_in, n_out, w.data());
  std::shared_ptr<const Int8Panels> keep8;
  WeightView view = packed_view(w, n_in, n_out, keep8);
  const auto keep16 = pack_int16_panels(plain);
  view.int16 = keep16.get();  // both set: the 8-bit GEMM wins
  for (const int64_t n : {int64_t{1}, kInt8MinTokens - 1, kInt8MinTokens, int64_t{200}}) {
    const auto x = random_floats(static_cast<size_t>(n_in * n), static_cast<uint32_t>(n));
    std::vector<uint8_t> scratch(std::max(matmul_scratch_bytes(view, n), gemm_int8_scratch_bytes(n_in, n)));
    std::vector<float> via_matmul(static_cast<size_t>(n * n_out)), direct(via_matmul.size()), floats(via_matmul.size());
    matmul(view, x.data(), n, via_matmul.data(), scratch, nullptr, Isa::Avx2);
    gemm_int8(view, x.data(), n, direct.data(), scratch, nullptr);
    matmul(plain, x.data(), n, floats.data(), scratch, nullptr, Isa::Avx2);
    if (n >= kInt8MinTokens) {
      EXPECT_EQ(via_matmul, direct) << n << " tokens";
    } else {
      EXPECT_EQ(via_matmul, floats) << n << " tokens";
    }
    // The scalar ISA never takes it.
    matmul(view, x.data(), n, via_matmul.data(), scratch, nullptr, Isa::Scalar);
    for (size_t i = 0; i < floats.size(); ++i) ASSERT_NEAR(via_matmul[i], floats[i], 1e-4f);
  }
}

TEST_F(GemmInt8Test, RefusesShortScratchUnpackedNonFiniteAndTooLongWeightRows) {
  const int64_t n_in = 40, n_out = 8, n = 30;
  auto w = random_floats(static_cast<size_t>(n_in * n_out), 11);
  WeightView view = WeightView::of(DType::F32, n_in, n_out, w.data());
  const auto x = random_floats(static_cast<size_t>(n_in * n), 12);
  std::vector<float> y(static_cast<size_t>(n * n_out));
  std::vector<uint8_t> big(1 << 20), small(64);
  EXPECT_THROW(gemm_int8(view, x.data(), n, y.data(), big, nullptr), Error);  // not packed
  const auto packed = pack_int8_panels(view);
  view.int8 = packed.get();
  EXPECT_THROW(gemm_int8(view, x.data(), n, y.data(), small, nullptr), Error);
  EXPECT_GE(matmul_scratch_bytes(view, n), gemm_int8_scratch_bytes(n_in, n));
  w[17] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(pack_int8_panels(WeightView::of(DType::F32, n_in, n_out, w.data())), Error);
  EXPECT_THROW(pack_int8_panels(WeightView{}), Error);
  const std::vector<float> long_row(static_cast<size_t>(kInt8MaxInputs + 4), 1.0f);
  EXPECT_THROW(pack_int8_panels(WeightView::of(DType::F32, kInt8MaxInputs + 4, 1, long_row.data())), Error);
}

}  // namespace
}  // namespace duet::rt
