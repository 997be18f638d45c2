// Tests of the quant kernels: quantize -> dequantize error bounds, AVX2 dots and tiles against the
// scalar reference on random data and random valid blocks, and AVX2 quantizers byte-identical to
// the scalar ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "runtime/quant_blocks.hpp"
#include "runtime/quants.hpp"
#include "runtime/vec_math.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::dequantize_rows;
using test::quantize_rows;
using test::random_floats;

// Max |x - dequant(quant(x))| allowed per block of x, for each weight type.
double error_bound(DType type, const float* x, int64_t n) {
  float amax = 0, mn = x[0], mx = x[0];
  for (int64_t i = 0; i < n; ++i) {
    amax = std::max(amax, std::fabs(x[i]));
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  const double fp16_slack = 2e-3 * amax;
  switch (type) {
    case DType::F32: return 0;
    case DType::F16: return amax * 0x1p-11 + 1e-7;
    case DType::BF16: return amax * 0x1p-8;
    case DType::Q4_0: return amax / 8 + fp16_slack;   // the far end of the range clamps
    case DType::Q5_0: return amax / 16 + fp16_slack;
    case DType::Q4_1: return (mx - mn) / 30 + fp16_slack;
    case DType::Q5_1: return (mx - mn) / 62 + fp16_slack;
    case DType::Q8_0:
    case DType::Q8_1:
    case DType::Q8_K: return amax / 254 + fp16_slack;
    case DType::Q4_K: return 2.0 / 15 * 0.55 + 1.0 / 63 + fp16_slack;  // data in [-1, 1]
    case DType::Q5_K: return 2.0 / 31 * 0.55 + 1.0 / 63 + fp16_slack;
    case DType::Q6_K: return 0.5 * (amax / 31 + amax / 31 / 127) * 1.05 + fp16_slack;
    default: return 0;
  }
}

class QuantRoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(QuantRoundTrip, ErrorWithinBound) {
  const DType type = GetParam();
  const QuantTraits* t = quant_traits(type, Isa::Scalar);
  ASSERT_NE(t, nullptr);
  const int64_t block = t->block_elems > 1 ? t->block_elems : 32;
  const int64_t n = 1024;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    auto x = random_floats(n, seed);
    if (seed == 2) for (float& v : x) v = v * 0.5f + 0.3f;  // offset data (mins matter)
    if (seed == 3) std::fill(x.begin(), x.begin() + block, 0.0f);  // an all-zero block
    const auto q = quantize_rows(type, x, 1, n);
    const auto y = dequantize_rows(type, q, 1, n);
    for (int64_t b = 0; b < n; b += block) {
      const double bound = error_bound(type, x.data() + b, block);
      for (int64_t i = b; i < b + block; ++i) {
        ASSERT_LE(std::fabs(x[i] - y[i]), bound) << dtype_name(type) << " seed " << seed << " i " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantRoundTrip,
                         ::testing::Values(DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1,
                                           DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1,
                                           DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K),
                         [](const auto& tp) { return std::string(dtype_name(tp.param)); });

// Random bytes with every fp16 scale field replaced by a finite value, so any bit pattern of the
// quants is exercised.
std::vector<uint8_t> random_blocks(DType type, int64_t n_rows, int64_t n, uint32_t seed) {
  const size_t rb = dtype_row_bytes(type, n);
  std::vector<uint8_t> data(rb * static_cast<size_t>(n_rows));
  std::mt19937 rng(seed);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  auto h = [&] { return fp32_to_fp16(scale(rng)); };
  const auto layout = *dtype_layout(static_cast<uint32_t>(type));
  if (layout.block_elems == 1) {
    // Float types: regenerate as finite values.
    auto v = random_floats(static_cast<size_t>(n * n_rows), seed);
    return quantize_rows(type, v, n_rows, n);
  }
  for (size_t off = 0; off < data.size(); off += layout.block_bytes) {
    uint8_t* p = data.data() + off;
    uint16_t a = h(), b = h();
    switch (type) {
      case DType::Q4_0: case DType::Q5_0: case DType::Q8_0: std::memcpy(p, &a, 2); break;
      case DType::Q4_1: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K:
        std::memcpy(p, &a, 2);
        std::memcpy(p + 2, &b, 2);
        break;
      case DType::Q6_K: std::memcpy(p + offsetof(BlockQ6_K, d), &a, 2); break;
      default: break;
    }
  }
  return data;
}

double dot_magnitude(DType wt, const std::vector<uint8_t>& w, DType at, const std::vector<uint8_t>& a, int64_t n) {
  const auto wf = dequantize_rows(wt, w, 1, n);
  const auto af = dequantize_rows(at, a, 1, n);
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m += std::fabs(static_cast<double>(wf[i]) * af[i]);
  return m;
}

class QuantKernels : public ::testing::TestWithParam<DType> {};

TEST_P(QuantKernels, Avx2DotMatchesScalar) {
  if (!test::have_avx2()) GTEST_SKIP() << "no AVX2";
  const DType type = GetParam();
  const QuantTraits* ref = quant_traits(type, Isa::Scalar);
  const QuantTraits* fast = quant_traits(type, Isa::Avx2);
  ASSERT_TRUE(ref && fast && ref->vec_dot && fast->vec_dot);
  ASSERT_NE(ref->vec_dot, fast->vec_dot) << "AVX2 row still has the scalar kernel";
  const bool float_type = ref->block_elems == 1;
  for (int64_t n : {256, 512, 2048, 256 * 3, 255 + 256 * float_type}) {
    if (!float_type && n % 256 != 0) continue;
    for (uint32_t seed = 0; seed < 6; ++seed) {
      const bool from_data = seed % 2 == 0;
      const auto w = from_data ? quantize_rows(type, random_floats(n, 100 + seed), 1, n)
                               : random_blocks(type, 1, n, 100 + seed);
      const auto a = quantize_rows(ref->act_type, random_floats(n, 200 + seed, -3, 3), 1, n);
      const float r = ref->vec_dot(n, w.data(), a.data());
      const float f = fast->vec_dot(n, w.data(), a.data());
      const double tol = 1e-5 * dot_magnitude(type, w, ref->act_type, a, n) + 1e-6;
      ASSERT_NEAR(f, r, tol) << dtype_name(type) << " n " << n << " seed " << seed;
    }
  }
}

TEST_P(QuantKernels, TilesMatchVecDot) {
  const DType type = GetParam();
  for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
    if (isa == Isa::Avx2 && !test::have_avx2()) continue;
    const QuantTraits* t = quant_traits(type, isa);
    const QuantTraits* ref = quant_traits(type, Isa::Scalar);
    const int64_t n = t->block_elems == 1 ? 517 : 512;  // float types: a tail after the vectors
    const int rows = t->tile_rows, cols = t->tile_cols;
    const auto w = random_blocks(type, rows, n, 5);
    const auto a = quantize_rows(t->act_type, random_floats(static_cast<size_t>(n * cols), 6, -2, 2), cols, n);
    const size_t wrb = dtype_row_bytes(type, n), arb = dtype_row_bytes(t->act_type, n);
    for (int nr = 1; nr <= rows; ++nr) {
      for (int nc = 1; nc <= cols; ++nc) {
        std::vector<float> y(static_cast<size_t>(cols * 9), -777.0f);
        t->gemm(n, w.data(), wrb, nr, a.data(), arb, nc, y.data(), 9);
        for (int c = 0; c < cols; ++c) {
          for (int r = 0; r < 9; ++r) {
            const float got = y[static_cast<size_t>(c * 9 + r)];
            if (c >= nc || r >= nr) {
              ASSERT_EQ(got, -777.0f) << "wrote outside the tile";
              continue;
            }
            const float want = ref->vec_dot(n, w.data() + r * wrb, a.data() + c * arb);
            ASSERT_NEAR(got, want, 1e-4 * (std::fabs(want) + 1.0f))
                << dtype_name(type) << " tile " << nr << "x" << nc << " at " << r << "," << c;
          }
        }
      }
    }
  }
}

// gemm_rows (a run of rows x a whole prompt, weights decoded once) must give gemm's tiles bit for
// bit, for row and token counts that leave partial panels and token groups, and for rows too long
// for its stack panel (it falls back to the tiles).
TEST_P(QuantKernels, GemmRowsMatchTilesExactly) {
  const DType type = GetParam();
  for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
    if (isa == Isa::Avx2 && !test::have_avx2()) continue;
    const QuantTraits* t = quant_traits(type, isa);
    if (!t->gemm_rows) continue;
    for (int64_t n : {int64_t{640}, int64_t{2048}, int64_t{32 * 257}}) {
      if (n % t->block_elems != 0) continue;
      for (const auto& [nr, nc] : {std::pair{1, 9}, std::pair{13, 21}, std::pair{19, 8}, std::pair{4, 3}}) {
        const auto w = random_blocks(type, nr, n, 11 + nr);
        const auto a = quantize_rows(t->act_type, random_floats(static_cast<size_t>(n * nc), 12 + nc, -2, 2), nc, n);
        const size_t wrb = dtype_row_bytes(type, n), arb = dtype_row_bytes(t->act_type, n);
        const size_t ys = static_cast<size_t>(nr) + 3;
        std::vector<float> want(ys * static_cast<size_t>(nc), -777.0f), got(want);
        for (int r0 = 0; r0 < nr; r0 += t->tile_rows) {
          for (int c0 = 0; c0 < nc; c0 += t->tile_cols) {
            t->gemm(n, w.data() + r0 * wrb, wrb, std::min(t->tile_rows, nr - r0), a.data() + c0 * arb, arb,
                    std::min(t->tile_cols, nc - c0), want.data() + c0 * ys + r0, ys);
          }
        }
        t->gemm_rows(n, w.data(), wrb, nr, a.data(), arb, nc, got.data(), ys);
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_EQ(got[i], want[i]) << dtype_name(type) << " n " << n << " " << nr << "x" << nc << " at " << i;
        }
      }
    }
  }
}

// The VNNI build of the block kernels (AVX-512 micro-kernel width) gives the AVX2 build's results
// bit for bit: single dots, every tile shape and gemm_rows, on random blocks (whose bytes reach
// -128 and every nibble) and on quantized data.
TEST_P(QuantKernels, VnniBuildMatchesAvx2BitForBit) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
  const DType type = GetParam();
  const QuantTraits* narrow = quant_traits(type, Isa::Avx2, MicroKernel::Avx2);
  const QuantTraits* wide = quant_traits(type, Isa::Avx2, MicroKernel::Avx512);
  ASSERT_TRUE(narrow && wide);
  const int64_t n = narrow->block_elems == 1 ? 517 : 2048;
  const int rows = 19, cols = 21;
  for (uint32_t seed = 0; seed < 2; ++seed) {
    const auto w = seed == 0 ? random_blocks(type, rows, n, 40)
                             : quantize_rows(type, random_floats(static_cast<size_t>(n * rows), 41), rows, n);
    const auto a = quantize_rows(narrow->act_type, random_floats(static_cast<size_t>(n * cols), 42, -3, 3), cols, n);
    const size_t wrb = dtype_row_bytes(type, n), arb = dtype_row_bytes(narrow->act_type, n);
    ASSERT_EQ(narrow->vec_dot(n, w.data(), a.data()), wide->vec_dot(n, w.data(), a.data())) << dtype_name(type);
    for (int nr = 1; nr <= narrow->tile_rows; ++nr) {
      for (int nc = 1; nc <= narrow->tile_cols; ++nc) {
        std::vector<float> y1(static_cast<size_t>(cols * 9)), y2(y1.size());
        narrow->gemm(n, w.data(), wrb, nr, a.data(), arb, nc, y1.data(), 9);
        wide->gemm(n, w.data(), wrb, nr, a.data(), arb, nc, y2.data(), 9);
        ASSERT_EQ(y1, y2) << dtype_name(type) << " tile " << nr << "x" << nc;
      }
    }
    if (narrow->gemm_rows) {
      std::vector<float> y1(static_cast<size_t>(rows * cols)), y2(y1.size());
      narrow->gemm_rows(n, w.data(), wrb, rows, a.data(), arb, cols, y1.data(), rows);
      wide->gemm_rows(n, w.data(), wrb, rows, a.data(), arb, cols, y2.data(), rows);
      ASSERT_EQ(y1, y2) << dtype_name(type) << " gemm_rows";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, QuantKernels, ::testing::ValuesIn(test::weight_types()),
                         [](const auto& tp) { return std::string(dtype_name(tp.param)); });

TEST(QuantKernels, Avx2QuantizersAreByteIdentical) {
  if (!test::have_avx2()) GTEST_SKIP() << "no AVX2";
  for (DType type : {DType::Q8_0, DType::Q8_1, DType::Q8_K, DType::F16}) {
    const QuantTraits* ref = quant_traits(type, Isa::Scalar);
    const QuantTraits* fast = quant_traits(type, Isa::Avx2);
    ASSERT_NE(ref->from_float, fast->from_float) << dtype_name(type);
    for (uint32_t seed = 0; seed < 8; ++seed) {
      const int64_t n = 1024;
      auto x = random_floats(n, seed, -10, 10);
      if (seed == 1) std::fill(x.begin(), x.begin() + 256, 0.0f);
      if (seed == 2) for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 64) - 31.5f;  // ties
      const size_t rb = dtype_row_bytes(type, n);
      std::vector<uint8_t> a(rb), b(rb);
      ref->from_float(x.data(), a.data(), n);
      fast->from_float(x.data(), b.data(), n);
      ASSERT_EQ(a, b) << dtype_name(type) << " seed " << seed;
    }
  }
}

TEST(QuantKernels, Avx2DequantMatchesScalar) {
  if (!test::have_avx2()) GTEST_SKIP() << "no AVX2";
  for (DType type : {DType::F16, DType::Q4_K, DType::Q8_0}) {
    const int64_t n = 512 + (type == DType::F16 ? 3 : 0);
    const auto q = random_blocks(type, 1, n, 3);
    std::vector<float> a(n), b(n);
    quant_traits(type, Isa::Scalar)->to_float(q.data(), a.data(), n);
    quant_traits(type, Isa::Avx2)->to_float(q.data(), b.data(), n);
    ASSERT_EQ(a, b) << dtype_name(type);
  }
}

// ---- float vector kernels ----

TEST(VecKernels, Avx2MatchesScalar) {
  if (!test::have_avx2()) GTEST_SKIP() << "no AVX2";
  const VecKernels& s = vec_kernels(Isa::Scalar);
  const VecKernels& f = vec_kernels(Isa::Avx2);
  for (int64_t n : {1, 7, 8, 64, 1000}) {
    const auto x = random_floats(n, 11, -12, 12);
    const auto u = random_floats(n, 12, -2, 2);
    std::vector<uint16_t> xh(n);
    for (int64_t i = 0; i < n; ++i) xh[i] = fp32_to_fp16(x[i]);
    EXPECT_NEAR(f.dot_f32(x.data(), u.data(), n), s.dot_f32(x.data(), u.data(), n), 1e-4 * n);
    EXPECT_NEAR(f.dot_f16(xh.data(), u.data(), n), s.dot_f16(xh.data(), u.data(), n), 1e-4 * n);
    EXPECT_EQ(f.max(x.data(), n), s.max(x.data(), n));
    auto check = [&](auto fn_f, auto fn_s, const char* what) {
      std::vector<float> a(n), b(n);
      fn_f(a.data());
      fn_s(b.data());
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_NEAR(a[i], b[i], 2e-6 * std::max(1.0f, std::fabs(b[i]))) << what << " n " << n << " i " << i;
      }
    };
    check([&](float* y) { f.silu(x.data(), y, n); }, [&](float* y) { s.silu(x.data(), y, n); }, "silu");
    check([&](float* y) { f.gelu_tanh(x.data(), y, n); }, [&](float* y) { s.gelu_tanh(x.data(), y, n); }, "gelu");
    check([&](float* y) { f.swiglu(x.data(), u.data(), y, n); },
          [&](float* y) { s.swiglu(x.data(), u.data(), y, n); }, "swiglu");
    check([&](float* y) { f.geglu_tanh(x.data(), u.data(), y, n); },
          [&](float* y) { s.geglu_tanh(x.data(), u.data(), y, n); }, "geglu");
    check([&](float* y) { std::copy(x.begin(), x.end(), y); f.softcap(y, n, 5.0f); },
          [&](float* y) { std::copy(x.begin(), x.end(), y); s.softcap(y, n, 5.0f); }, "softcap");
    check([&](float* y) { std::copy(u.begin(), u.end(), y); f.axpy_f16(n, 0.3f, xh.data(), y); },
          [&](float* y) { std::copy(u.begin(), u.end(), y); s.axpy_f16(n, 0.3f, xh.data(), y); }, "axpy_f16");
    float sf = 0, ss = 0;
    check([&](float* y) { std::copy(x.begin(), x.end(), y); sf = f.exp_sum(y, n, 12.0f); },
          [&](float* y) { std::copy(x.begin(), x.end(), y); ss = s.exp_sum(y, n, 12.0f); }, "exp");
    EXPECT_NEAR(sf, ss, 2e-6 * ss);
    // sum_exp: the same sum, with x left as it was.
    std::vector<float> kept(x.begin(), x.begin() + n);
    EXPECT_NEAR(f.sum_exp(kept.data(), n, 12.0f), s.sum_exp(x.data(), n, 12.0f), 2e-6 * ss);
    EXPECT_TRUE(std::equal(kept.begin(), kept.end(), x.begin()));
  }
  // exp edge cases: deep underflow is exactly 0, large inputs stay finite.
  float e[8] = {-200, -88, -87, 0, 1, 10, 80, 88};
  f.exp_sum(e, 8, 0.0f);
  EXPECT_EQ(e[0], 0.0f);
  EXPECT_EQ(e[3], 1.0f);
  EXPECT_NEAR(e[4], std::exp(1.0f), 1e-6);
  EXPECT_TRUE(std::isfinite(e[7]));
  EXPECT_NEAR(e[6] / std::exp(80.0f), 1.0f, 1e-6);
}

}  // namespace
}  // namespace duet::rt
