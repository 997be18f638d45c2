// Tests of the integer GEMM that matmul() uses for weights packed with pack_int16_panels(): against
// a double-precision reference within the error the two quantizations allow (12-bit weights per
// output row, 14-bit activations per token row), for awkward shapes (odd inputs, inputs not a
// multiple of the int32 slice, outputs not a multiple of the 16-wide panel, several token blocks),
// 1 and 2 threads and the AVX2 and AVX-512 VNNI kernels (where the CPU has it) bit-identical,
// never writing outside y; the worst case of every product at full
// scale and the same sign (no int32 overflow); non-finite activations counting as 0; matmul()
// taking the path only from kInt16MinTokens tokens; clear errors for short scratch, unpacked or
// non-finite weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "runtime/gemm_int16.hpp"
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
  return test::quantization_error_bound(x, w, n_in, kInt16ActMax, kInt16WeightMax);
}

// Every kernel this CPU can run: AVX2 always (the fixture skips without it), AVX-512 VNNI where
// present.
std::vector<MicroKernel> kernels() {
  std::vector<MicroKernel> k = {MicroKernel::Avx2};
  if (cpu_has_avx512()) k.push_back(MicroKernel::Avx512);
  return k;
}

class GemmInt16Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::have_avx2()) GTEST_SKIP() << "the integer GEMM needs AVX2";
  }
};

TEST_F(GemmInt16Test, MatchesTheReferenceWithinTheQuantizationErrorOnAwkwardShapes) {
  const std::vector<Shape> shapes = {
      {37, 9, 25},      // odd inputs, one partial panel
      {300, 33, 29},    // three int32 slices (128 + 128 + 44), panels 16 + 16 + 1
      {384, 40, 121},   // two token blocks
      {1, 16, 30},      // one input
      {1152, 24, 250},  // the Whisper conv2 im2col depth
      {1536, 17, 61},   // the Whisper FFN down depth
  };
  ThreadPool pool1(1), pool2(2);
  for (const Shape& s : shapes) {
    const auto w = random_floats(static_cast<size_t>(s.n_in * s.n_out), 7, -1, 1);
    const auto x = random_floats(static_cast<size_t>(s.n_in * s.n_tokens), 8, -2, 2);
    WeightView view = WeightView::of(DType::F32, s.n_in, s.n_out, w.data());
    const auto packed = pack_int16_panels(view);
    view.int16 = packed.get();
    const std::string what = std::to_string(s.n_in) + "x" + std::to_string(s.n_out) + "x" + std::to_string(s.n_tokens);
    const size_t n_y = static_cast<size_t>(s.n_tokens * s.n_out);
    std::vector<uint8_t> scratch(matmul_scratch_bytes(view, s.n_tokens));
    std::vector<float> first;
    for (const MicroKernel kernel : kernels()) {
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool1, &pool2}) {
        std::vector<float> y(n_y + 16, kGuard);
        gemm_int16(view, x.data(), s.n_tokens, y.data(), scratch, pool, kernel);
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
        else ASSERT_EQ(first, y) << what << ": the thread count or the kernel changed the result";
      }
    }
  }
}

TEST_F(GemmInt16Test, EveryProductAtFullScaleWithTheSameSignDoesNotOverflow) {
  // All activations and weights at their row maxima: each slice sums kInt16Depth products of
  // kInt16ActMax * kInt16WeightMax, the largest an int32 accumulator ever holds.
  for (const MicroKernel kernel : kernels()) {
    for (const float sign : {1.0f, -1.0f}) {
      const int64_t n_in = 4 * kInt16Depth + 2, n_out = 16, n = 24;
      std::vector<float> w(static_cast<size_t>(n_in * n_out), 0.5f), x(static_cast<size_t>(n_in * n), 3.0f * sign);
      WeightView view = WeightView::of(DType::F32, n_in, n_out, w.data());
      const auto packed = pack_int16_panels(view);
      view.int16 = packed.get();
      std::vector<uint8_t> scratch(matmul_scratch_bytes(view, n));
      std::vector<float> y(static_cast<size_t>(n * n_out));
      gemm_int16(view, x.data(), n, y.data(), scratch, nullptr, kernel);
      for (float v : y) ASSERT_NEAR(v, 1.5f * sign * static_cast<float>(n_in), 1e-3f * static_cast<float>(n_in));
    }
  }
}

TEST_F(GemmInt16Test, NonFiniteActivationsCountAsZeroAndZeroRowsGiveZero) {
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
  WeightView view = WeightView::of(DType::F32, n_in, n_out, w.data());
  const auto packed = pack_int16_panels(view);
  view.int16 = packed.get();
  std::vector<uint8_t> scratch(matmul_scratch_bytes(view, n));
  std::vector<float> y(static_cast<size_t>(n * n_out)), y_clean(y.size());
  gemm_int16(view, x.data(), n, y.data(), scratch, nullptr);
  gemm_int16(view, clean.data(), n, y_clean.data(), scratch, nullptr);
  EXPECT_EQ(y, y_clean);
  for (int64_t o = 0; o < n_out; ++o) EXPECT_EQ(y[3 * n_out + o], 0.0f);
}

TEST_F(GemmInt16Test, MatmulTakesTheIntegerPathFromItsMinimumTokenCountOnly) {
  const int64_t n_in = 96, n_out = 20;
  const auto w = random_floats(static_cast<size_t>(n_in * n_out), 5);
  WeightView plain = WeightView::of(DType::F32, n_in, n_out, w.data());
  WeightView view = plain;
  const auto packed = pack_int16_panels(view);
  view.int16 = packed.get();
  for (const int64_t n : {int64_t{1}, kInt16MinTokens - 1, kInt16MinTokens, int64_t{200}}) {
    const auto x = random_floats(static_cast<size_t>(n_in * n), static_cast<uint32_t>(n));
    std::vector<uint8_t> scratch(std::max(matmul_scratch_bytes(view, n), gemm_int16_scratch_bytes(n_in, n)));
    std::vector<float> via_matmul(static_cast<size_t>(n * n_out)), direct(via_matmul.size()), floats(via_matmul.size());
    matmul(view, x.data(), n, via_matmul.data(), scratch, nullptr, Isa::Avx2);
    gemm_int16(view, x.data(), n, direct.data(), scratch, nullptr);
    matmul(plain, x.data(), n, floats.data(), scratch, nullptr, Isa::Avx2);
    if (n >= kInt16MinTokens) {
      EXPECT_EQ(via_matmul, direct) << n << " tokens";
    } else {
      EXPECT_EQ(via_matmul, floats) << n << " tokens";
    }
    // The scalar ISA never takes it.
    matmul(view, x.data(), n, via_matmul.data(), scratch, nullptr, Isa::Scalar);
    for (size_t i = 0; i < floats.size(); ++i) ASSERT_NEAR(via_matmul[i], floats[i], 1e-4f);
  }
}

TEST_F(GemmInt16Test, PacksQuantizedWeightsAsTheirValues) {
  // F16 rows packed through dequantize_row: the same result as packing their f32 values.
  const int64_t n_in = 64, n_out = 18, n = 24;
  const auto wf = random_floats(static_cast<size_t>(n_in * n_out), 9);
  const auto wq = test::quantize_rows(DType::F16, wf, n_out, n_in);
  const auto wd = test::dequantize_rows(DType::F16, wq, n_out, n_in);
  WeightView half = WeightView::of(DType::F16, n_in, n_out, wq.data());
  WeightView full = WeightView::of(DType::F32, n_in, n_out, wd.data());
  const auto ph = pack_int16_panels(half), pf = pack_int16_panels(full);
  half.int16 = ph.get();
  full.int16 = pf.get();
  const auto x = random_floats(static_cast<size_t>(n_in * n), 10);
  std::vector<uint8_t> scratch(matmul_scratch_bytes(full, n));
  std::vector<float> a(static_cast<size_t>(n * n_out)), b(a.size());
  gemm_int16(half, x.data(), n, a.data(), scratch, nullptr);
  gemm_int16(full, x.data(), n, b.data(), scratch, nullptr);
  EXPECT_EQ(a, b);
}

TEST_F(GemmInt16Test, RefusesShortScratchUnpackedAndNonFiniteWeights) {
  const int64_t n_in = 40, n_out = 8, n = 30;
  auto w = random_floats(static_cast<size_t>(n_in * n_out), 11);
  WeightView view = WeightView::of(DType::F32, n_in, n_out, w.data());
  const auto x = random_floats(static_cast<size_t>(n_in * n), 12);
  std::vector<float> y(static_cast<size_t>(n * n_out));
  std::vector<uint8_t> big(1 << 20), small(64);
  EXPECT_THROW(gemm_int16(view, x.data(), n, y.data(), big, nullptr), Error);  // not packed
  const auto packed = pack_int16_panels(view);
  view.int16 = packed.get();
  EXPECT_THROW(gemm_int16(view, x.data(), n, y.data(), small, nullptr), Error);
  EXPECT_GE(matmul_scratch_bytes(view, n), gemm_int16_scratch_bytes(n_in, n));
  w[17] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(pack_int16_panels(WeightView::of(DType::F32, n_in, n_out, w.data())), Error);
  EXPECT_THROW(pack_int16_panels(WeightView{}), Error);
}

}  // namespace
}  // namespace duet::rt
