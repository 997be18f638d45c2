// Tests of dense_attention() (full self-attention as two GEMMs per head) against a naive
// double-precision reference: several heads, head sizes that are not multiples of the SIMD width,
// sequence lengths on both sides of the GEMM's token threshold, 1 to 3 threads (whole heads per
// thread give the same bits), short scratch.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "runtime/attention_dense.hpp"
#include "runtime/thread_pool.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::random_floats;

std::vector<double> reference(const std::vector<float>& q, const std::vector<float>& k,
                              const std::vector<float>& v, int64_t n, int64_t n_head, int64_t hd) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  std::vector<double> out(static_cast<size_t>(n * n_head * hd), 0.0);
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> s(static_cast<size_t>(n));
      double max = -INFINITY, sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        double d = 0;
        for (int64_t c = 0; c < hd; ++c) d += q[(i * n_head + h) * hd + c] * k[(j * n_head + h) * hd + c];
        s[j] = d * scale;
        max = std::max(max, s[j]);
      }
      for (auto& x : s) sum += (x = std::exp(x - max));
      for (int64_t j = 0; j < n; ++j)
        for (int64_t c = 0; c < hd; ++c) out[(i * n_head + h) * hd + c] += s[j] / sum * v[(j * n_head + h) * hd + c];
    }
  return out;
}

struct Qkv {
  std::vector<float> q, k, v;
};

// Keys scaled up so the softmax is far from uniform (a real test of the score GEMM).
Qkv inputs(int64_t n, int64_t n_head, int64_t hd) {
  const size_t size = static_cast<size_t>(n * n_head * hd);
  return {random_floats(size, 11, -2.0f, 2.0f), random_floats(size, 12, -2.0f, 2.0f),
          random_floats(size, 13)};
}

std::vector<float> attend(const Qkv& x, int64_t n, int64_t n_head, int64_t hd, ThreadPool* pool) {
  const DenseAttentionScratch need = dense_attention_scratch(n, hd, pool ? pool->size() : 1);
  std::vector<float> scratch(need.floats);
  std::vector<uint8_t> mm(need.bytes);
  std::vector<float> out(x.q.size(), NAN);
  dense_attention(x.q.data(), x.k.data(), x.v.data(), n, n_head, hd, 0.0f, out.data(), scratch, mm, pool);
  return out;
}

void check(int64_t n, int64_t n_head, int64_t hd, ThreadPool* pool) {
  const Qkv x = inputs(n, n_head, hd);
  const auto out = attend(x, n, n_head, hd, pool);
  const auto want = reference(x.q, x.k, x.v, n, n_head, hd);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], want[i], 2e-5) << "n " << n << " element " << i;
}

TEST(DenseAttention, MatchesTheReferenceForShortAndLongSequences) {
  for (int64_t n : {1, 5, 23, 24, 61, 130}) check(n, 3, 64, nullptr);
}

TEST(DenseAttention, HandlesHeadSizesOffTheSimdWidth) {
  check(40, 2, 20, nullptr);
  check(33, 5, 7, nullptr);
}

TEST(DenseAttention, TwoThreadsGiveTheSameResult) {
  ThreadPool pool(2);
  check(130, 4, 64, &pool);
  check(9, 2, 64, &pool);
}

TEST(DenseAttention, HeadsSpreadOverThreadsGiveTheSameBitsAsOneThread) {
  // Whole heads per thread (6 heads, 3 threads: some threads take two) and one head whose GEMMs
  // are split instead: the arithmetic must not depend on the threading.
  ThreadPool pool(3);
  const Qkv six = inputs(130, 6, 64), one = inputs(61, 1, 64);
  EXPECT_EQ(attend(six, 130, 6, 64, &pool), attend(six, 130, 6, 64, nullptr));
  EXPECT_EQ(attend(one, 61, 1, 64, &pool), attend(one, 61, 1, 64, nullptr));
}

TEST(DenseAttention, ScratchForEveryThreadIsRequired) {
  const int64_t n = 30, hd = 16;
  ThreadPool pool(2);
  std::vector<float> q(n * 2 * hd), out(n * 2 * hd);
  const DenseAttentionScratch one = dense_attention_scratch(n, hd, 1);
  std::vector<float> scratch(one.floats);
  std::vector<uint8_t> mm(one.bytes);
  EXPECT_THROW(dense_attention(q.data(), q.data(), q.data(), n, 2, hd, 0.0f, out.data(), scratch, mm, &pool),
               Error);
}

TEST(DenseAttention, AShortScratchIsAnErrorNotAnOverrun) {
  const int64_t n = 30, hd = 16;
  std::vector<float> q(n * hd), out(n * hd);
  const DenseAttentionScratch need = dense_attention_scratch(n, hd);
  std::vector<float> scratch(need.floats - 1);
  std::vector<uint8_t> mm(need.bytes);
  EXPECT_THROW(dense_attention(q.data(), q.data(), q.data(), n, 1, hd, 0.0f, out.data(), scratch, mm, nullptr),
               Error);
}

}  // namespace
}  // namespace duet::rt
