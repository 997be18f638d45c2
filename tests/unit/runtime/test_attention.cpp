// Tests of attention() over the KV cache against a naive double-precision reference: grouped-query
// heads, causal masking with a past, sliding window, soft-capping, full (non-causal) attention,
// F16 and F32 caches, 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "runtime/attention.hpp"
#include "runtime/half.hpp"
#include "runtime/thread_pool.hpp"
#include "test_util.hpp"

namespace duet::rt {
namespace {

using test::random_floats;

// k, v: f32 [n_kv, n_head_kv, hd] (already rounded as the cache holds them). With an F16 cache
// (f16_operands) the query and the probabilities are rounded to F16 too, as llama.cpp's CPU path
// does and as attention() mirrors.
std::vector<double> reference(const std::vector<float>& q_in, int64_t n_tokens, const std::vector<float>& k,
                              const std::vector<float>& v, int64_t n_past, int64_t n_kv,
                              const AttentionParams& p, bool f16_operands) {
  std::vector<float> q = q_in;
  if (f16_operands) for (float& x : q) x = fp16_to_fp32(fp32_to_fp16(x));
  const int64_t hd = p.head_dim, group = p.n_head / p.n_head_kv;
  const double scale = p.scale != 0 ? p.scale : 1.0 / std::sqrt(static_cast<double>(hd));
  std::vector<double> out(static_cast<size_t>(n_tokens * p.n_head * hd), 0.0);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t h = 0; h < p.n_head; ++h) {
      const int64_t g = h / group, qpos = n_past + t;
      std::vector<double> s(n_kv, -INFINITY);
      double max = -INFINITY;
      for (int64_t j = 0; j < n_kv; ++j) {
        if (p.causal && j > qpos) continue;
        if (p.sliding_window > 0 && qpos - j >= p.sliding_window) continue;
        double d = 0;
        for (int64_t i = 0; i < hd; ++i) d += q[(t * p.n_head + h) * hd + i] * k[(j * p.n_head_kv + g) * hd + i];
        d *= scale;
        if (p.softcap > 0) d = p.softcap * std::tanh(d / p.softcap);
        s[j] = d;
        max = std::max(max, d);
      }
      if (std::isinf(max)) continue;
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - max));
      for (int64_t j = 0; j < n_kv; ++j) {
        double prob = s[j] / sum;
        if (f16_operands) prob = fp16_to_fp32(fp32_to_fp16(static_cast<float>(prob)));
        for (int64_t i = 0; i < hd; ++i) out[(t * p.n_head + h) * hd + i] += prob * v[(j * p.n_head_kv + g) * hd + i];
      }
    }
  return out;
}

struct Case {
  const char* name;
  int64_t n_head, n_head_kv, hd, n_past, n_tokens;
  bool causal;
  int64_t window;
  float softcap;
};

TEST(Attention, MatchesReference) {
  const Case cases[] = {
      {"decode_gqa", 6, 2, 64, 40, 1, true, 0, 0},
      {"prefill_gqa_past", 6, 2, 32, 5, 9, true, 0, 0},
      {"prefill_from_zero", 4, 4, 16, 0, 12, true, 0, 0},
      {"sliding_window", 4, 1, 16, 20, 6, true, 7, 0},
      {"softcap", 2, 1, 8, 3, 4, true, 0, 2.0f},
      {"full_cross", 3, 3, 8, 0, 5, false, 0, 0},
  };
  ThreadPool pool(2);
  for (const Case& c : cases) {
    for (DType type : {DType::F32, DType::F16}) {
      const int64_t n_kv = c.causal ? c.n_past + c.n_tokens : 17;
      KvCache cache(1, 64, c.n_head_kv, c.hd, type);
      KvLayer layer = cache.layer(0);
      auto k = random_floats(static_cast<size_t>(n_kv * c.n_head_kv * c.hd), 1, -1, 1);
      auto v = random_floats(static_cast<size_t>(n_kv * c.n_head_kv * c.hd), 2, -1, 1);
      kv_store(layer, 0, k.data(), v.data(), n_kv);
      if (type == DType::F16) {
        for (float& x : k) x = fp16_to_fp32(fp32_to_fp16(x));
        for (float& x : v) x = fp16_to_fp32(fp32_to_fp16(x));
      }
      const auto q = random_floats(static_cast<size_t>(c.n_tokens * c.n_head * c.hd), 3, -2, 2);
      AttentionParams p;
      p.n_head = c.n_head;
      p.n_head_kv = c.n_head_kv;
      p.head_dim = c.hd;
      p.causal = c.causal;
      p.sliding_window = c.window;
      p.softcap = c.softcap;
      const auto want = reference(q, c.n_tokens, k, v, c.n_past, n_kv, p, type == DType::F16);
      for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> scratch(attention_scratch_floats(n_kv, tp ? tp->size() : 1));
        std::vector<float> out(want.size(), NAN);
        attention(q.data(), c.n_tokens, layer, c.n_past, n_kv, p, out.data(), scratch, tp);
        for (size_t i = 0; i < out.size(); ++i) {
          ASSERT_NEAR(out[i], want[i], 2e-5) << c.name << " " << dtype_name(type) << " i " << i << " threads " << (tp ? 2 : 1);
        }
      }
    }
  }
}

// F16 values live in transposed chunks of kKvVChunk positions: windows that start and end inside
// a chunk, several chunks, and values that no query may see (infinite ones before the window and
// past n_kv, as stale cache contents can be) must never reach the output.
TEST(Attention, F16ValueChunksMaskWhatNoQuerySees) {
  const int64_t n_head = 4, n_head_kv = 2, hd = 64, n_past = 100, n_tokens = 50, window = 30;
  const int64_t n_kv = n_past + n_tokens, n_stale = 10, hidden = 71;  // query 100 sees [71, 100]
  KvCache cache(1, 200, n_head_kv, hd, DType::F16);
  KvLayer layer = cache.layer(0);
  const size_t row = static_cast<size_t>(n_head_kv * hd);
  auto k = random_floats(static_cast<size_t>(n_kv) * row, 11, -1, 1);
  auto v = random_floats(static_cast<size_t>(n_kv) * row, 12, -1, 1);
  std::vector<float> v_cache = v;
  for (size_t i = 0; i < static_cast<size_t>(hidden) * row; ++i) {
    v_cache[i] = INFINITY;
    v[i] = 0.0f;  // the reference multiplies every value by its (zero) probability
  }
  kv_store(layer, 0, k.data(), v_cache.data(), n_kv);
  const std::vector<float> stale(static_cast<size_t>(n_stale) * row, INFINITY);
  kv_store(layer, n_kv, stale.data(), stale.data(), n_stale);
  for (float& x : k) x = fp16_to_fp32(fp32_to_fp16(x));
  for (float& x : v) x = fp16_to_fp32(fp32_to_fp16(x));
  const auto q = random_floats(static_cast<size_t>(n_tokens * n_head * hd), 13, -2, 2);
  AttentionParams p;
  p.n_head = n_head;
  p.n_head_kv = n_head_kv;
  p.head_dim = hd;
  p.sliding_window = window;
  const auto want = reference(q, n_tokens, k, v, n_past, n_kv, p, true);
  ThreadPool pool(2);
  for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
    std::vector<float> scratch(attention_scratch_floats(n_kv, tp ? tp->size() : 1));
    std::vector<float> out(want.size(), NAN);
    attention(q.data(), n_tokens, layer, n_past, n_kv, p, out.data(), scratch, tp);
    for (size_t i = 0; i < out.size(); ++i) {
      // 5e-5: over 30 positions, a probability the reference rounds to the other F16 neighbour
      // (its double softmax differs from the float one in the last bits) moves a sum by ~2e-5.
      ASSERT_TRUE(std::isfinite(out[i])) << "i " << i;
      ASSERT_NEAR(out[i], want[i], 5e-5) << "i " << i << " threads " << (tp ? 2 : 1);
    }
  }
}

TEST(Attention, NoVisibleKeysGivesZerosAndErrorsAreReported) {
  KvCache cache(2, 8, 1, 4, DType::F32);
  KvLayer layer = cache.layer(1);
  AttentionParams p;
  p.n_head = 2;
  p.n_head_kv = 1;
  p.head_dim = 4;
  p.causal = false;
  std::vector<float> q(8, 1.0f), out(8, NAN), scratch(attention_scratch_floats(0, 1));
  attention(q.data(), 1, layer, 0, 0, p, out.data(), scratch, nullptr);
  for (float x : out) EXPECT_EQ(x, 0.0f);
  std::vector<float> kv(4 * 9);
  EXPECT_THROW(kv_store(layer, 0, kv.data(), kv.data(), 9), Error);  // past n_ctx
  p.n_head = 3;
  p.n_head_kv = 2;
  EXPECT_THROW(attention(q.data(), 1, layer, 0, 0, p, out.data(), scratch, nullptr), Error);
  EXPECT_THROW(cache.layer(2), Error);
}

}  // namespace
}  // namespace duet::rt
