// VITS text encoder: embedding * sqrt(hidden), post-norm transformer layers whose attention adds
// windowed relative-position terms (keys and values), FFN of two same-padded convs, projection
// to the prior's mean and log-scale. Also the shared conv helper and the noise generator.
// Must never attend outside the sentence (one sentence per call, no padding).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "models/vits_compute.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/vec_math.hpp"

namespace duet::models {

GaussianNoise::GaussianNoise(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) {  // splitmix64 seeding
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    s = z ^ (z >> 31);
  }
}

float GaussianNoise::next() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const auto rotl = [](uint64_t v, int k) { return (v << k) | (v >> (64 - k)); };
  const auto draw = [&] {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return (static_cast<double>(result >> 11) + 0.5) * (1.0 / 9007199254740992.0);  // (0, 1)
  };
  const double u1 = draw();
  const double u2 = draw();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = static_cast<float>(r * std::sin(2.0 * M_PI * u2));
  has_spare_ = true;
  return static_cast<float>(r * std::cos(2.0 * M_PI * u2));
}

void GaussianNoise::fill(float* out, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) out[i] = next() * scale;
}

void apply_conv(const VitsConv& c, const float* x, int64_t t, float* y, rt::VocoderScratch& s,
                rt::ThreadPool* pool) {
  (void)s;
  rt::conv1d_direct(x, t, c.wt, c.b, c.p, y, pool);
}

namespace {

// Relative-position multi-head self-attention over x f32 [n, hidden] -> out f32 [n, hidden]
// (before conv_o). Query rows are split across the pool.
void relative_attention(const VitsEncoderLayer& l, const VitsConfig& c, const float* q,
                        const float* k, const float* v, int64_t n, float* out,
                        rt::ThreadPool* pool) {
  const int64_t hd = c.hidden / c.n_heads;
  const int64_t win = c.window;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const rt::VecKernels& vk = rt::vec_kernels();
  const auto rows = [&](int64_t i0, int64_t i1, int) {
    std::vector<float> scores(static_cast<size_t>(n));
    for (int64_t h = 0; h < c.n_heads; ++h) {
      for (int64_t i = i0; i < i1; ++i) {
        const float* qi = q + i * c.hidden + h * hd;
        for (int64_t j = 0; j < n; ++j) {
          float s = vk.dot_f32(qi, k + j * c.hidden + h * hd, hd);
          const int64_t rel = j - i;
          if (rel >= -win && rel <= win) s += vk.dot_f32(qi, l.rel_k + (rel + win) * hd, hd);
          scores[static_cast<size_t>(j)] = s * scale;
        }
        rt::softmax(scores.data(), scores.data(), 1, n);
        float* oi = out + i * c.hidden + h * hd;
        std::fill(oi, oi + hd, 0.0f);
        for (int64_t j = 0; j < n; ++j) {
          const float p = scores[static_cast<size_t>(j)];
          vk.axpy_f32(hd, p, v + j * c.hidden + h * hd, oi);
          const int64_t rel = j - i;
          if (rel >= -win && rel <= win) vk.axpy_f32(hd, p, l.rel_v + (rel + win) * hd, oi);
        }
      }
    }
  };
  if (pool != nullptr && n > 8) {
    pool->parallel_for(n, rows);
  } else {
    rows(0, n, 0);
  }
}

}  // namespace

EncoderOutput text_encoder(const VitsWeights& w, const VitsConfig& c, std::span<const int64_t> ids,
                           const CancelToken& cancel, rt::ThreadPool* pool) {
  const auto n = static_cast<int64_t>(ids.size());
  if (n == 0) fail("vits: no phoneme ids to speak");
  std::vector<int32_t> ids32(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= c.n_vocab) fail("vits: phoneme id {} is outside [0, {})", ids[i], c.n_vocab);
    ids32[i] = static_cast<int32_t>(ids[i]);
  }
  const auto H = static_cast<size_t>(c.hidden);
  const auto N = static_cast<size_t>(n);
  EncoderOutput out;
  out.x.resize(N * H);
  rt::get_rows(w.emb, ids32.data(), n, out.x.data());
  rt::scale(out.x.data(), std::sqrt(static_cast<float>(c.hidden)), out.x.data(), n * c.hidden);

  rt::VocoderScratch s;
  std::vector<float> q(N * H), k(N * H), v(N * H), att(N * H), y(N * H);
  std::vector<float> ffn(N * static_cast<size_t>(c.filter));
  for (const auto& l : w.enc) {
    rt::check_cancel(cancel);
    apply_conv(l.q, out.x.data(), n, q.data(), s, pool);
    apply_conv(l.k, out.x.data(), n, k.data(), s, pool);
    apply_conv(l.v, out.x.data(), n, v.data(), s, pool);
    relative_attention(l, c, q.data(), k.data(), v.data(), n, att.data(), pool);
    apply_conv(l.o, att.data(), n, y.data(), s, pool);
    rt::add(out.x.data(), y.data(), out.x.data(), n * c.hidden);
    rt::layer_norm(out.x.data(), l.ln1_g, l.ln1_b, out.x.data(), n, c.hidden, 1e-5f);
    apply_conv(l.ffn1, out.x.data(), n, ffn.data(), s, pool);
    for (float& f : ffn) f = std::max(f, 0.0f);
    apply_conv(l.ffn2, ffn.data(), n, y.data(), s, pool);
    rt::add(out.x.data(), y.data(), out.x.data(), n * c.hidden);
    rt::layer_norm(out.x.data(), l.ln2_g, l.ln2_b, out.x.data(), n, c.hidden, 1e-5f);
  }
  std::vector<float> stats(N * 2 * static_cast<size_t>(c.inter));
  apply_conv(w.enc_proj, out.x.data(), n, stats.data(), s, pool);
  out.m_p.resize(N * static_cast<size_t>(c.inter));
  out.logs_p.resize(N * static_cast<size_t>(c.inter));
  for (int64_t i = 0; i < n; ++i) {
    const float* row = stats.data() + i * 2 * c.inter;
    std::memcpy(out.m_p.data() + i * c.inter, row, static_cast<size_t>(c.inter) * sizeof(float));
    std::memcpy(out.logs_p.data() + i * c.inter, row + c.inter,
                static_cast<size_t>(c.inter) * sizeof(float));
  }
  return out;
}

}  // namespace duet::models
