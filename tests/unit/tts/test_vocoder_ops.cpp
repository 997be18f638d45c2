// Vocoder ops against naive reference loops: transposed conv, blocked conv1d, depthwise conv,
// leaky ReLU, the direct conv's fused epilogue; the direct conv's AVX2 and AVX-512 kernels bit
// for bit; and the duration predictor's spline outside its tails.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "models/vits_compute.hpp"
#include "runtime/quants.hpp"
#include "runtime/vocoder_conv_impl.hpp"
#include "runtime/vocoder_ops.hpp"

namespace rt = duet::rt;

namespace {

std::vector<float> random_vec(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

// The header's conv1d formula as a direct loop in double: y[s, o] for time-major x [t, c_in] and
// weights [kernel, c_in, c_out], zero padding outside [0, t).
std::vector<double> conv1d_formula(const std::vector<float>& x, int64_t t, const std::vector<float>& wt,
                                   const std::vector<float>& b, const rt::Conv1dParams& p) {
  const int64_t t_out = rt::conv1d_out_len(t, p);
  std::vector<double> y(static_cast<size_t>(t_out * p.c_out));
  for (int64_t s = 0; s < t_out; ++s) {
    for (int64_t o = 0; o < p.c_out; ++o) {
      double acc = b[static_cast<size_t>(o)];
      for (int64_t k = 0; k < p.kernel; ++k) {
        const int64_t src = s + k * p.dilation - p.pad_left;
        if (src < 0 || src >= t) continue;
        for (int64_t i = 0; i < p.c_in; ++i) {
          acc += static_cast<double>(x[static_cast<size_t>(src * p.c_in + i)]) *
                 wt[static_cast<size_t>((k * p.c_in + i) * p.c_out + o)];
        }
      }
      y[static_cast<size_t>(s * p.c_out + o)] = acc;
    }
  }
  return y;
}
}  // namespace

TEST(VocoderOps, ConvTransposeMatchesReference) {
  const rt::ConvTranspose1dParams p{6, 4, 16, 8, 4};
  const int64_t t_in = 9;
  const auto x = random_vec(static_cast<size_t>(t_in * p.c_in), 1);
  const auto w = random_vec(static_cast<size_t>(p.kernel * p.c_out * p.c_in), 2);  // [Cin][K][Cout]
  const auto b = random_vec(static_cast<size_t>(p.c_out), 3);
  const int64_t t_out = rt::conv_transpose1d_out_len(t_in, p);
  ASSERT_EQ(t_out, t_in * p.stride);
  std::vector<float> y(static_cast<size_t>(t_out * p.c_out));
  rt::VocoderScratch s;
  rt::conv_transpose1d(x.data(), t_in, w.data(), b.data(), p, y.data(), s, nullptr);
  for (int64_t o = 0; o < t_out; ++o) {
    for (int64_t co = 0; co < p.c_out; ++co) {
      double ref = b[static_cast<size_t>(co)];
      for (int64_t t = 0; t < t_in; ++t) {
        const int64_t k = o + p.padding - t * p.stride;
        if (k < 0 || k >= p.kernel) continue;
        for (int64_t ci = 0; ci < p.c_in; ++ci) {
          ref += x[static_cast<size_t>(t * p.c_in + ci)] * w[static_cast<size_t>((ci * p.kernel + k) * p.c_out + co)];
        }
      }
      EXPECT_NEAR(y[static_cast<size_t>(o * p.c_out + co)], ref, 1e-4) << o << "," << co;
    }
  }
}

TEST(VocoderOps, BlockedConvMatchesOneShot) {
  rt::Conv1dParams p;
  p.c_in = 5;
  p.c_out = 3;
  p.kernel = 7;
  p.dilation = 3;
  p.pad_left = p.pad_right = 9;
  const int64_t t = 50;
  const auto x = random_vec(static_cast<size_t>(t * p.c_in), 4);
  const auto w = random_vec(static_cast<size_t>(p.c_out * p.c_in * p.kernel), 5);
  const auto b = random_vec(static_cast<size_t>(p.c_out), 6);
  const auto view = rt::WeightView::of(rt::DType::F32, p.c_in * p.kernel, p.c_out, w.data());
  const int64_t t_out = rt::conv1d_out_len(t, p);
  std::vector<float> one(static_cast<size_t>(t_out * p.c_out)), blocked(one.size());
  std::vector<float> cols(rt::conv1d_scratch_floats(t, p));
  std::vector<uint8_t> mm(rt::conv1d_matmul_scratch_bytes(rt::DType::F32, t, p));
  rt::conv1d(x.data(), t, view, b.data(), p, one.data(), cols, mm, nullptr);
  rt::VocoderScratch s;
  rt::conv1d_blocked(x.data(), t, view, b.data(), p, blocked.data(), s, nullptr, 7);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(one[i], blocked[i], 1e-5) << i;
}

TEST(VocoderOps, DirectConvMatchesIm2colConv) {
  rt::Conv1dParams p;
  p.c_in = 7;
  p.c_out = 21;  // exercises the 16-, 8- and 1-channel paths
  p.kernel = 5;
  p.dilation = 2;
  p.stride = 1;
  p.pad_left = p.pad_right = 4;
  const int64_t t = 23;  // not a multiple of the 6-step tile
  const auto x = random_vec(static_cast<size_t>(t * p.c_in), 12);
  const auto w = random_vec(static_cast<size_t>(p.c_out * p.c_in * p.kernel), 13);  // [Cout][Cin][K]
  const auto b = random_vec(static_cast<size_t>(p.c_out), 14);
  std::vector<float> wt(w.size());  // [K][Cin][Cout]
  for (int64_t o = 0; o < p.c_out; ++o)
    for (int64_t i = 0; i < p.c_in; ++i)
      for (int64_t k = 0; k < p.kernel; ++k)
        wt[static_cast<size_t>((k * p.c_in + i) * p.c_out + o)] = w[static_cast<size_t>((o * p.c_in + i) * p.kernel + k)];
  const int64_t t_out = rt::conv1d_out_len(t, p);
  std::vector<float> ref(static_cast<size_t>(t_out * p.c_out)), got(ref.size());
  std::vector<float> cols(rt::conv1d_scratch_floats(t, p));
  std::vector<uint8_t> mm(rt::conv1d_matmul_scratch_bytes(rt::DType::F32, t, p));
  rt::conv1d(x.data(), t, rt::WeightView::of(rt::DType::F32, p.c_in * p.kernel, p.c_out, w.data()),
             b.data(), p, ref.data(), cols, mm, nullptr);
  rt::conv1d_direct(x.data(), t, wt.data(), b.data(), p, got.data(), nullptr);
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(ref[i], got[i], 1e-4) << i;
}

// The fused epilogue (residual add, leaky-ReLU copy) equals the plain convolution followed by
// separate add and leaky-ReLU passes, on the 16-, 8- and leftover-channel paths and on the
// vectorized single-output (c_out == 1) path.
TEST(VocoderOps, DirectConvEpilogueMatchesSeparatePasses) {
  for (const int64_t c_out : {21, 1}) {
    rt::Conv1dParams p;
    p.c_in = 37;  // not a multiple of 8 or 16
    p.c_out = c_out;
    p.kernel = 3;
    p.dilation = 3;
    p.pad_left = p.pad_right = 3;
    const int64_t t = 29;
    const auto x = random_vec(static_cast<size_t>(t * p.c_in), 21);
    const auto wt = random_vec(static_cast<size_t>(p.kernel * p.c_in * p.c_out), 22);
    const auto b = random_vec(static_cast<size_t>(p.c_out), 23);
    const int64_t t_out = rt::conv1d_out_len(t, p);
    const auto res = random_vec(static_cast<size_t>(t_out * p.c_out), 24);
    // Reference: the direct loop of the header's formula, then the passes.
    const std::vector<double> conv = conv1d_formula(x, t, wt, b, p);
    std::vector<float> ref(conv.size());
    for (size_t i = 0; i < conv.size(); ++i) ref[i] = static_cast<float>(conv[i]) + res[i];
    std::vector<float> ref_act(ref.size());
    rt::leaky_relu(ref.data(), ref_act.data(), static_cast<int64_t>(ref.size()), 0.1f);
    std::vector<float> got(ref.size()), got_act(ref.size());
    rt::ConvEpilogue ep;
    ep.residual = res.data();
    ep.act = got_act.data();
    ep.slope = 0.1f;
    rt::conv1d_direct(x.data(), t, wt.data(), b.data(), p, got.data(), nullptr, ep);
    for (size_t i = 0; i < ref.size(); ++i) {
      EXPECT_NEAR(ref[i], got[i], 1e-4) << "c_out " << c_out << " at " << i;
      EXPECT_NEAR(ref_act[i], got_act[i], 1e-4) << "c_out " << c_out << " at " << i;
    }
  }
}

// Packed weights (16- and 8-channel panels) with the fused epilogue (sum too) and a wider row
// stride give the plain-layout result.
TEST(VocoderOps, PackedDirectConvMatchesPlain) {
  rt::Conv1dParams p;
  p.c_in = 19;
  p.c_out = 40;  // two 16-channel panels and one of 8
  p.kernel = 5;
  p.dilation = 3;
  p.pad_left = p.pad_right = 6;
  const int64_t t = 31;
  const int64_t stride = 48;  // rows of y, residual and act
  const auto x = random_vec(static_cast<size_t>(t * p.c_in), 31);
  const auto wt = random_vec(static_cast<size_t>(p.kernel * p.c_in * p.c_out), 32);
  const auto b = random_vec(static_cast<size_t>(p.c_out), 33);
  const int64_t t_out = rt::conv1d_out_len(t, p);
  ASSERT_TRUE(rt::conv1d_packable(p));
  std::vector<float> packed(rt::conv1d_packed_floats(p));
  rt::conv1d_pack(wt.data(), p, packed.data());
  const auto res = random_vec(static_cast<size_t>(t_out * stride), 34);
  std::vector<float> res_dense(static_cast<size_t>(t_out * p.c_out));
  for (int64_t s = 0; s < t_out; ++s)
    for (int64_t o = 0; o < p.c_out; ++o)
      res_dense[static_cast<size_t>(s * p.c_out + o)] = res[static_cast<size_t>(s * stride + o)];
  rt::ConvEpilogue ep;
  ep.residual = res_dense.data();
  std::vector<float> ref(static_cast<size_t>(t_out * p.c_out)), ref_act(ref.size());
  ep.act = ref_act.data();
  ep.slope = 0.1f;
  rt::conv1d_direct(x.data(), t, wt.data(), b.data(), p, ref.data(), nullptr, ep);
  std::vector<float> got(static_cast<size_t>(t_out * stride), 7.0f), got_act(got.size(), 7.0f);
  std::vector<float> got_sum(got.size(), 2.0f);
  ep.residual = res.data();
  ep.act = got_act.data();
  ep.sum = got_sum.data();
  rt::conv1d_direct_packed(x.data(), t, packed.data(), b.data(), p, got.data(), nullptr, ep,
                           stride);
  for (int64_t s = 0; s < t_out; ++s) {
    for (int64_t o = 0; o < stride; ++o) {
      const size_t g = static_cast<size_t>(s * stride + o);
      if (o >= p.c_out) {  // outside the rows' c_out channels: untouched
        EXPECT_EQ(got[g], 7.0f);
        continue;
      }
      const size_t r = static_cast<size_t>(s * p.c_out + o);
      EXPECT_NEAR(ref[r], got[g], 1e-4) << s << "," << o;
      EXPECT_NEAR(ref_act[r], got_act[g], 1e-4) << s << "," << o;
      EXPECT_NEAR(ref[r] + 2.0f, got_sum[g], 1e-4) << s << "," << o;
    }
  }
}

// The AVX-512 build of the direct conv's kernel gives exactly the AVX2 build's output, epilogue
// included, on every path: 16-channel tiles, 8-channel leftovers, single-channel dots, packed
// panels and the copy-to-panel path of wide plain weights, over many time tiles.
TEST(VocoderOps, DirectConvKernelWidthsAgreeBitForBit) {
  if (!rt::cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  struct Case {
    int64_t c_in, c_out, kernel, dilation, t;
    bool packed;
  };
  const Case cases[] = {
      {19, 40, 5, 3, 31, true},    // two panels of 16 and one of 8
      {23, 44, 3, 1, 200, false},  // 16 + 16 + 8 + 4 leftover channels
      {64, 1, 7, 1, 97, false},    // conv_post: one output, vectorized dots
      {33, 136, 3, 5, 150, false}, // wide rows: the copy-to-panel path, then 8 leftovers
      {8, 16, 1, 1, 13, true},     // one tap, one panel, a short tail of steps
  };
  unsigned seed = 50;
  for (const Case& c : cases) {
    rt::Conv1dParams p;
    p.c_in = c.c_in;
    p.c_out = c.c_out;
    p.kernel = c.kernel;
    p.dilation = c.dilation;
    p.pad_left = p.pad_right = (c.kernel - 1) * c.dilation / 2;
    const int64_t t_out = rt::conv1d_out_len(c.t, p);
    const auto x = random_vec(static_cast<size_t>(c.t * p.c_in), seed++);
    const auto wt = random_vec(static_cast<size_t>(p.kernel * p.c_in * p.c_out), seed++);
    const auto b = random_vec(static_cast<size_t>(p.c_out), seed++);
    const auto res = random_vec(static_cast<size_t>(t_out * p.c_out), seed++);
    std::vector<float> packed;
    if (c.packed) {
      ASSERT_TRUE(rt::conv1d_packable(p));
      packed.resize(rt::conv1d_packed_floats(p));
      rt::conv1d_pack(wt.data(), p, packed.data());
    }
    const std::vector<float> zeros(static_cast<size_t>(p.c_in), 0.0f);
    struct Out {
      std::vector<float> y, act, sum;
    };
    auto run = [&](bool wide) {
      const size_t n = static_cast<size_t>(t_out * p.c_out);
      Out o{std::vector<float>(n), std::vector<float>(n), std::vector<float>(n, 0.5f)};
      duet::rt::vocoder_impl::ConvJob j;
      j.x = x.data();
      j.t_in = c.t;
      j.w = c.packed ? packed.data() : wt.data();
      j.packed = c.packed;
      j.b = b.data();
      j.p = p;
      j.y = o.y.data();
      j.y_stride = p.c_out;
      j.zero_row = zeros.data();
      j.ep.residual = res.data();
      j.ep.act = o.act.data();
      j.ep.slope = 0.2f;
      j.ep.sum = o.sum.data();
      if (wide) {
        rt::vocoder_avx512::conv1d_direct_range(j, 0, t_out);
      } else {
        rt::vocoder_avx2::conv1d_direct_range(j, 0, t_out);
      }
      return o;
    };
    const Out narrow = run(false), wide = run(true);
    const std::string what = "c_in " + std::to_string(c.c_in) + " c_out " + std::to_string(c.c_out);
    EXPECT_EQ(narrow.y, wide.y) << what;
    EXPECT_EQ(narrow.act, wide.act) << what;
    EXPECT_EQ(narrow.sum, wide.sum) << what;
  }
}

// Wide plain weights (c_out >= 128) take the kernel's copy-to-panel path; check it and its
// leftover channels against the formula.
TEST(VocoderOps, WideDirectConvMatchesFormula) {
  rt::Conv1dParams p;
  p.c_in = 13;
  p.c_out = 140;  // 8 panels of 16, then 8 and 4 leftover channels
  p.kernel = 3;
  p.dilation = 2;
  p.pad_left = p.pad_right = 2;
  const int64_t t = 53;
  const auto x = random_vec(static_cast<size_t>(t * p.c_in), 51);
  const auto wt = random_vec(static_cast<size_t>(p.kernel * p.c_in * p.c_out), 52);
  const auto b = random_vec(static_cast<size_t>(p.c_out), 53);
  const int64_t t_out = rt::conv1d_out_len(t, p);
  std::vector<float> got(static_cast<size_t>(t_out * p.c_out));
  rt::conv1d_direct(x.data(), t, wt.data(), b.data(), p, got.data(), nullptr);
  const std::vector<double> ref = conv1d_formula(x, t, wt, b, p);
  for (int64_t s = 0; s < t_out; ++s) {
    for (int64_t o = 0; o < p.c_out; ++o) {
      const auto at = static_cast<size_t>(s * p.c_out + o);
      EXPECT_NEAR(ref[at], got[at], 1e-4) << s << "," << o;
    }
  }
}

// The polyphase transposed convolution on packed weights equals the overlap-add one, for any
// range of output rows, with kernels that are and are not multiples of the stride.
TEST(VocoderOps, PackedConvTransposeMatchesOverlapAdd) {
  for (const rt::ConvTranspose1dParams p :
       {rt::ConvTranspose1dParams{12, 16, 16, 8, 0}, rt::ConvTranspose1dParams{9, 8, 5, 2, 0}}) {
    const int64_t t_in = 11;
    const auto x = random_vec(static_cast<size_t>(t_in * p.c_in), 41);
    const auto w = random_vec(static_cast<size_t>(p.kernel * p.c_out * p.c_in), 42);
    const auto b = random_vec(static_cast<size_t>(p.c_out), 43);
    const int64_t t_out = rt::conv_transpose1d_out_len(t_in, p);
    std::vector<float> ref(static_cast<size_t>(t_out * p.c_out));
    rt::VocoderScratch s;
    rt::conv_transpose1d(x.data(), t_in, w.data(), b.data(), p, ref.data(), s, nullptr);
    ASSERT_TRUE(rt::conv_transpose1d_packable(p));
    std::vector<float> packed(rt::conv_transpose1d_packed_floats(p));
    rt::conv_transpose1d_pack(w.data(), p, packed.data());
    for (const auto& [o0, o1] : {std::pair<int64_t, int64_t>{0, t_out}, {3, t_out - 5}, {9, 10}}) {
      std::vector<float> got(static_cast<size_t>((o1 - o0) * p.c_out));
      rt::conv_transpose1d_packed(x.data(), t_in, packed.data(), b.data(), p, o0, o1, got.data(),
                                  nullptr);
      for (int64_t o = o0; o < o1; ++o) {
        for (int64_t c = 0; c < p.c_out; ++c) {
          EXPECT_NEAR(ref[static_cast<size_t>(o * p.c_out + c)],
                      got[static_cast<size_t>((o - o0) * p.c_out + c)], 1e-4)
              << "kernel " << p.kernel << " row " << o << " channel " << c;
        }
      }
    }
  }
}

TEST(VocoderOps, DepthwiseAndLeakyRelu) {
  const int64_t t = 12, c = 3, k = 3, d = 3;
  const auto x = random_vec(static_cast<size_t>(t * c), 7);
  const auto w = random_vec(static_cast<size_t>(k * c), 8);
  std::vector<float> y(x.size());
  rt::depthwise_conv1d_same(x.data(), t, c, w.data(), nullptr, k, d, y.data());
  for (int64_t i = 0; i < t; ++i) {
    for (int64_t ch = 0; ch < c; ++ch) {
      double ref = 0;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t s = i + (j - 1) * d;
        if (s >= 0 && s < t) ref += w[static_cast<size_t>(j * c + ch)] * x[static_cast<size_t>(s * c + ch)];
      }
      EXPECT_NEAR(y[static_cast<size_t>(i * c + ch)], ref, 1e-5);
    }
  }
  std::vector<float> v = {-2.0f, 0.0f, 3.0f};
  rt::leaky_relu(v.data(), v.data(), 3, 0.1f);
  EXPECT_FLOAT_EQ(v[0], -0.2f);
  EXPECT_FLOAT_EQ(v[2], 3.0f);
}

TEST(VocoderOps, SplineIsIdentityOutsideTailsAndMonotonicInside) {
  const auto uw = random_vec(10, 9), uh = random_vec(10, 10), ud = random_vec(9, 11);
  EXPECT_FLOAT_EQ(duet::models::rq_spline_inverse(7.0f, uw.data(), uh.data(), ud.data(), 10, 5.0f), 7.0f);
  EXPECT_FLOAT_EQ(duet::models::rq_spline_inverse(-6.0f, uw.data(), uh.data(), ud.data(), 10, 5.0f), -6.0f);
  float prev = -5.0f;
  for (float y = -4.99f; y < 5.0f; y += 0.05f) {
    const float x = duet::models::rq_spline_inverse(y, uw.data(), uh.data(), ud.data(), 10, 5.0f);
    EXPECT_GE(x, prev - 1e-5f);
    EXPECT_LE(std::fabs(x), 5.0f + 1e-4f);
    prev = x;
  }
}
