// Tests of matmul_group() and of the tile shapes behind matmul(): a group's outputs are bit for
// bit what each matmul() gives alone (shared quantized input, mixed weight types, float weights,
// 1 and 2 threads), and a token's output never depends on how many tokens share its matmul call
// (a prompt decoded in one batch or token by token gives the same logits).
#include <gtest/gtest.h>

#include <vector>

#include "core/error.hpp"
#include "runtime/matmul_group.hpp"
#include "runtime/thread_pool.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::quantize_rows;
using test::random_floats;

struct Weight {
  std::vector<uint8_t> bytes;
  WeightView view;
};

Weight make_weight(DType type, int64_t n_in, int64_t n_out, uint32_t seed) {
  Weight w;
  w.bytes = quantize_rows(type, random_floats(static_cast<size_t>(n_in * n_out), seed, -1, 1), n_out, n_in);
  w.view = WeightView::of(type, n_in, n_out, w.bytes.data());
  return w;
}

size_t scratch_for(const std::vector<Weight>& ws, int64_t n_tokens) {
  size_t s = 0;
  for (const Weight& w : ws) s = std::max(s, matmul_scratch_bytes(w.view.type, w.view.n_in, n_tokens));
  return s;
}

TEST(MatmulGroup, EachOutputIsExactlyItsOwnMatmul) {
  // Gemma 3's Q/K/V mix (Q5_0, Q5_0, Q8_0: one Q8_0 input), SmolLM2's all-Q4_1 gate/up, a group
  // whose kernels want different inputs (Q4_K's Q8_K next to Q8_0) and float weights.
  const std::vector<std::vector<DType>> groups = {
      {DType::Q5_0, DType::Q5_0, DType::Q8_0}, {DType::Q4_1, DType::Q4_1},
      {DType::Q4_K, DType::Q8_0, DType::Q6_K}, {DType::F32, DType::F16}};
  ThreadPool pool2(2);
  for (const auto& types : groups) {
    for (int64_t n_tokens : {1, 3, 8, 13}) {
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool2}) {
        const int64_t n_in = 512;
        std::vector<Weight> ws;
        for (size_t i = 0; i < types.size(); ++i) ws.push_back(make_weight(types[i], n_in, 37 + 16 * static_cast<int64_t>(i), 7 + static_cast<uint32_t>(i)));
        const auto x = random_floats(static_cast<size_t>(n_in * n_tokens), 3, -2, 2);
        std::vector<uint8_t> scratch(scratch_for(ws, n_tokens));
        std::vector<std::vector<float>> got(ws.size()), want(ws.size());
        std::vector<MatmulTarget> targets;
        for (size_t i = 0; i < ws.size(); ++i) {
          got[i].assign(static_cast<size_t>(n_tokens * ws[i].view.n_out), -1.0f);
          want[i].assign(got[i].size(), -2.0f);
          matmul(ws[i].view, x.data(), n_tokens, want[i].data(), scratch, pool);
          targets.push_back({&ws[i].view, got[i].data()});
        }
        matmul_group(targets, x.data(), n_tokens, scratch, pool);
        for (size_t i = 0; i < ws.size(); ++i) {
          EXPECT_EQ(got[i], want[i]) << dtype_name(types[i]) << ", " << n_tokens << " tokens, "
                                     << (pool ? 2 : 1) << " threads";
        }
      }
    }
  }
}

TEST(MatmulGroup, RejectsMismatchedInputsAndTooManyTargets) {
  std::vector<Weight> ws = {make_weight(DType::Q8_0, 64, 8, 1), make_weight(DType::Q8_0, 96, 8, 2)};
  const auto x = random_floats(96, 3);
  std::vector<float> y0(8), y1(8);
  std::vector<uint8_t> scratch(scratch_for(ws, 1));
  const MatmulTarget two[] = {{&ws[0].view, y0.data()}, {&ws[1].view, y1.data()}};
  EXPECT_THROW(matmul_group(two, x.data(), 1, scratch, nullptr), Error);
  const MatmulTarget five[] = {{&ws[0].view, y0.data()}, {&ws[0].view, y0.data()}, {&ws[0].view, y0.data()},
                               {&ws[0].view, y0.data()}, {&ws[0].view, y0.data()}};
  EXPECT_THROW(matmul_group(five, x.data(), 1, scratch, nullptr), Error);
}

TEST(MatmulTiles, ATokenNeverDependsOnItsBatch) {
  // Every quantized weight type, a batch of 13 tokens (tiles of 8, 4 and 1 tokens) against each
  // token alone.
  for (DType type : test::weight_types()) {
    if (quant_traits(type)->act_type == DType::F32) continue;  // float weights: gemm_float's rules
    const bool k_type = dtype_layout(static_cast<uint32_t>(type))->block_elems == 256;
    const int64_t n_in = k_type ? 512 : 160, n_out = 11, n_tokens = 13;
    const Weight w = make_weight(type, n_in, n_out, 5);
    const auto x = random_floats(static_cast<size_t>(n_in * n_tokens), 6, -2, 2);
    std::vector<uint8_t> scratch(matmul_scratch_bytes(type, n_in, n_tokens));
    std::vector<float> batch(static_cast<size_t>(n_out * n_tokens)), one(static_cast<size_t>(n_out));
    matmul(w.view, x.data(), n_tokens, batch.data(), scratch, nullptr);
    for (int64_t t = 0; t < n_tokens; ++t) {
      matmul(w.view, x.data() + t * n_in, 1, one.data(), scratch, nullptr);
      for (int64_t o = 0; o < n_out; ++o) {
        ASSERT_EQ(batch[static_cast<size_t>(t * n_out + o)], one[static_cast<size_t>(o)])
            << dtype_name(type) << " token " << t << " row " << o;
      }
    }
  }
}

}  // namespace
}  // namespace duet::rt
