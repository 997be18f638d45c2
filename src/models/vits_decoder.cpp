// HiFi-GAN generator: conv_pre, then per stage leaky ReLU (0.1), transposed-conv upsampling and
// the mean of the stage's multi-receptive-field residual blocks; finally leaky ReLU (0.01),
// conv_post and tanh. Must never clip samples other than through the final tanh.
#include <cmath>

#include "models/vits_compute.hpp"
#include "runtime/ops.hpp"
#include "runtime/vocoder_ops.hpp"

namespace duet::models {
namespace {

constexpr float kSlope = 0.1f;
constexpr float kFinalSlope = 0.01f;

// One residual block on x f32 [t, ch] into acc (acc += block(x)).
void resblock(const std::vector<VitsConv>& convs, int64_t type, const std::vector<float>& x,
              int64_t t, int64_t ch, std::vector<float>& acc, std::vector<float>& cur,
              std::vector<float>& a, std::vector<float>& b, rt::VocoderScratch& s,
              rt::ThreadPool* pool) {
  const int64_t n = t * ch;
  cur.assign(x.begin(), x.begin() + n);
  const size_t step = type == 1 ? 2 : 1;
  for (size_t i = 0; i < convs.size(); i += step) {
    rt::leaky_relu(cur.data(), a.data(), n, kSlope);
    apply_conv(convs[i], a.data(), t, b.data(), s, pool);
    if (type == 1) {
      rt::leaky_relu(b.data(), b.data(), n, kSlope);
      apply_conv(convs[i + 1], b.data(), t, a.data(), s, pool);
      rt::add(cur.data(), a.data(), cur.data(), n);
    } else {
      rt::add(cur.data(), b.data(), cur.data(), n);
    }
  }
  rt::add(acc.data(), cur.data(), acc.data(), n);
}

}  // namespace

std::vector<float> hifigan_decode(const VitsWeights& w, const VitsConfig& c, const float* z,
                                  int64_t t, const float* g, const CancelToken& cancel,
                                  rt::ThreadPool* pool) {
  rt::VocoderScratch s;
  int64_t ch = c.up_initial;
  std::vector<float> x(static_cast<size_t>(t * ch));
  apply_conv(w.dec_pre, z, t, x.data(), s, pool);
  if (g != nullptr && w.dec_cond.present()) {
    std::vector<float> gc(static_cast<size_t>(ch));
    apply_conv(w.dec_cond, g, 1, gc.data(), s, pool);
    rt::add_row(x.data(), gc.data(), t, ch);
  }
  std::vector<float> up, acc, cur, a, b;
  const size_t nk = c.resblock_kernels.size();
  for (size_t i = 0; i < w.ups.size(); ++i) {
    rt::check_cancel(cancel);
    const VitsUpsample& u = w.ups[i];
    rt::leaky_relu(x.data(), x.data(), t * ch, kSlope);
    const int64_t t2 = rt::conv_transpose1d_out_len(t, u.p);
    up.resize(static_cast<size_t>(t2 * u.p.c_out));
    rt::conv_transpose1d(x.data(), t, u.wt, u.b, u.p, up.data(), s, pool);
    t = t2;
    ch = u.p.c_out;
    const auto n = static_cast<size_t>(t * ch);
    acc.assign(n, 0.0f);
    cur.resize(n);
    a.resize(n);
    b.resize(n);
    for (size_t j = 0; j < nk; ++j) {
      rt::check_cancel(cancel);
      resblock(w.resblocks[i * nk + j], c.resblock_type, up, t, ch, acc, cur, a, b, s, pool);
    }
    rt::scale(acc.data(), 1.0f / static_cast<float>(nk), acc.data(), t * ch);
    x.swap(acc);
  }
  rt::leaky_relu(x.data(), x.data(), t * ch, kFinalSlope);
  std::vector<float> audio(static_cast<size_t>(t));
  apply_conv(w.dec_post, x.data(), t, audio.data(), s, pool);
  for (float& v : audio) v = std::tanh(v);
  return audio;
}

}  // namespace duet::models
