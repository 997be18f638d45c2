// Tests of the packed float GEMM that matmul() uses for F32/F16/BF16 weights at kGemmMinTokens
// tokens and more: against a double-precision reference on the weights as stored and against the
// scalar reference kernels, for awkward shapes (inputs not a multiple of 8 or of the packing
// depth, outputs not a multiple of the 16-wide panel, 1..600 tokens across token blocks), 1 and 2
// threads (bit-identical), the AVX2 and AVX-512 micro-kernels (bit-identical, where the CPU has
// AVX-512), never writing outside y, and refusing short scratch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "runtime/gemm_float.hpp"
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

// y[t, o] = sum_i x[t, i] * w[o, i] in double, and the same over absolute values (the magnitude
// that float rounding error scales with).
void reference(const std::vector<float>& x, const std::vector<float>& w, const Shape& s,
               std::vector<double>& y, std::vector<double>& mag) {
  y.assign(static_cast<size_t>(s.n_tokens * s.n_out), 0.0);
  mag.assign(y.size(), 0.0);
  for (int64_t t = 0; t < s.n_tokens; ++t) {
    for (int64_t o = 0; o < s.n_out; ++o) {
      double acc = 0, acc_abs = 0;
      for (int64_t i = 0; i < s.n_in; ++i) {
        const double p = static_cast<double>(x[t * s.n_in + i]) * w[o * s.n_in + i];
        acc += p;
        acc_abs += std::fabs(p);
      }
      y[t * s.n_out + o] = acc;
      mag[t * s.n_out + o] = acc_abs;
    }
  }
}

constexpr float kGuard = 12345.0f;  // written after y; must survive every call

class GemmFloat : public ::testing::TestWithParam<DType> {};

TEST_P(GemmFloat, MatchesReferenceOnAwkwardShapes) {
  if (!test::have_avx2()) GTEST_SKIP() << "the packed GEMM needs AVX2";
  const DType type = GetParam();
  const std::vector<Shape> shapes = {
      {37, 9, 25},     // small: one partial panel, four full and one 1-token micro-kernel
      {300, 33, 29},   // two packing slices (256 + 44), panels 16 + 16 + 1
      {513, 17, 61},   // three slices, a 1-wide last panel
      {384, 40, 121},  // two token blocks
      {1, 16, 600},    // one input
      {255, 48, 600},  // inputs just under a slice, five token blocks
      {1152, 24, 250}, // the Whisper conv2 im2col depth
      {7, 5, 23},      // below kGemmMinTokens: the tile kernels
      {100, 31, 1},    // decode
  };
  ThreadPool pool1(1), pool2(2);
  for (const Shape& s : shapes) {
    const auto wf = random_floats(static_cast<size_t>(s.n_in * s.n_out), 7, -1, 1);
    const auto x = random_floats(static_cast<size_t>(s.n_in * s.n_tokens), 8, -2, 2);
    const auto wq = quantize_rows(type, wf, s.n_out, s.n_in);
    const auto wd = dequantize_rows(type, wq, s.n_out, s.n_in);  // what the kernels really hold
    const WeightView w = WeightView::of(type, s.n_in, s.n_out, wq.data());
    std::vector<double> ref, mag;
    reference(x, wd, s, ref, mag);
    const std::string what = std::string(dtype_name(type)) + " " + std::to_string(s.n_in) + "x" +
                             std::to_string(s.n_out) + "x" + std::to_string(s.n_tokens);

    const size_t n_y = static_cast<size_t>(s.n_tokens * s.n_out);
    std::vector<uint8_t> scratch(matmul_scratch_bytes(type, s.n_in, s.n_tokens));
    std::vector<float> scalar(n_y + 16, kGuard);
    matmul(w, x.data(), s.n_tokens, scalar.data(), scratch, nullptr, Isa::Scalar);
    std::vector<float> first;
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool1, &pool2}) {
      std::vector<float> y(n_y + 16, kGuard);
      matmul(w, x.data(), s.n_tokens, y.data(), scratch, pool, Isa::Avx2);
      const int threads = pool ? pool->size() : 0;
      for (size_t i = 0; i < n_y; ++i) {
        const double tol = 3e-5 * mag[i] + 1e-6;
        ASSERT_NEAR(y[i], ref[i], tol) << what << " i " << i << " pool " << threads;
        ASSERT_NEAR(y[i], scalar[i], 2 * tol) << what << " (vs scalar kernels) i " << i;
      }
      for (size_t i = n_y; i < y.size(); ++i) ASSERT_EQ(y[i], kGuard) << what << " wrote past y";
      if (first.empty()) first = y;
      else ASSERT_EQ(first, y) << what << ": the thread count changed the result";
    }
  }
}

TEST_P(GemmFloat, AgreesWithTheTileKernelsAtEveryTokenCount) {
  if (!test::have_avx2()) GTEST_SKIP() << "the packed GEMM needs AVX2";
  const DType type = GetParam();
  const int64_t n_in = 70, n_out = 19;
  const auto wq = quantize_rows(type, random_floats(static_cast<size_t>(n_in * n_out), 3), n_out, n_in);
  const WeightView w = WeightView::of(type, n_in, n_out, wq.data());
  ThreadPool pool(2);
  // gemm_float() directly, so token counts below kGemmMinTokens exercise the packed kernels too.
  for (int64_t n = 1; n <= 3 * kGemmTokenBlock + 7; n += (n < 13 ? 1 : 13)) {
    const auto x = random_floats(static_cast<size_t>(n_in * n), static_cast<uint32_t>(n));
    std::vector<uint8_t> scratch(std::max(matmul_scratch_bytes(type, n_in, n), gemm_float_scratch_bytes(n_in)));
    std::vector<float> tiles(static_cast<size_t>(n * n_out)), packed(tiles.size());
    matmul_tiles(w, x.data(), n, tiles.data(), scratch, &pool, Isa::Avx2);
    gemm_float(w, x.data(), n, packed.data(), scratch, &pool, MicroKernel::Avx2);
    for (size_t i = 0; i < tiles.size(); ++i) {
      ASSERT_NEAR(packed[i], tiles[i], 1e-4 * (std::fabs(tiles[i]) + 1.0f)) << dtype_name(type) << " n " << n << " i " << i;
    }
    if (cpu_has_avx512()) {
      std::vector<float> wide(tiles.size() + 16, kGuard);
      gemm_float(w, x.data(), n, wide.data(), scratch, &pool, MicroKernel::Avx512);
      for (size_t i = tiles.size(); i < wide.size(); ++i) ASSERT_EQ(wide[i], kGuard) << "AVX-512 wrote past y";
      wide.resize(tiles.size());
      ASSERT_EQ(wide, packed) << dtype_name(type) << " n " << n << ": the AVX-512 micro-kernel differs from AVX2";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(FloatWeights, GemmFloat, ::testing::Values(DType::F32, DType::F16, DType::BF16),
                         [](const auto& tp) { return std::string(dtype_name(tp.param)); });

TEST(GemmFloatScratch, SizedByMatmulScratchBytesAndChecked) {
  const int64_t n_in = 600, n_out = 20, n = 40;
  EXPECT_EQ(matmul_scratch_bytes(DType::F16, n_in, kGemmMinTokens - 1), 0u);
  EXPECT_GE(matmul_scratch_bytes(DType::F16, n_in, n), gemm_float_scratch_bytes(n_in));
  EXPECT_EQ(matmul_scratch_bytes(DType::F32, n_in, n), matmul_scratch_bytes(DType::BF16, n_in, n));
  if (!test::have_avx2()) return;
  const auto wq = quantize_rows(DType::F16, random_floats(static_cast<size_t>(n_in * n_out), 4), n_out, n_in);
  const WeightView w = WeightView::of(DType::F16, n_in, n_out, wq.data());
  const auto x = random_floats(static_cast<size_t>(n_in * n), 5);
  std::vector<float> y(static_cast<size_t>(n * n_out));
  std::vector<uint8_t> small(100);
  EXPECT_THROW(matmul(w, x.data(), n, y.data(), small, nullptr, Isa::Avx2), Error);
  // Scalar kernels need no scratch for float weights, at any token count.
  EXPECT_NO_THROW(matmul(w, x.data(), n, y.data(), std::span<uint8_t>(), nullptr, Isa::Scalar));
  const auto q8 = quantize_rows(DType::Q8_0, random_floats(64 * 4, 6), 4, 64);
  std::vector<uint8_t> big(1 << 20);
  EXPECT_THROW(gemm_float(WeightView::of(DType::Q8_0, 64, 4, q8.data()), x.data(), n, y.data(), big, nullptr),
               Error);
}

}  // namespace
}  // namespace duet::rt
