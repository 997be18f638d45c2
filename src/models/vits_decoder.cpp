// HiFi-GAN generator: conv_pre, then per stage leaky ReLU (0.1), transposed-conv upsampling and
// the mean of the stage's multi-receptive-field residual blocks; finally leaky ReLU (0.01),
// conv_post and tanh. Decodes any range of output samples of a sentence: the ranges each layer
// must produce are worked out backwards from the samples asked for, so a window costs its own
// samples plus each layer's own receptive field, not a whole-network context at every layer, and
// the result equals the whole-sentence decode up to rounding. The same planning lets a window be
// cut over time into one piece per thread, each decoded whole with no barrier between layers.
// Must never clip samples other than through the final tanh, nor read latent frames outside
// hifigan_input_frames().
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "models/vits_compute.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/vocoder_ops.hpp"

namespace duet::models {
namespace {

constexpr float kSlope = 0.1f;
constexpr float kFinalSlope = 0.01f;

struct Range {
  int64_t a = 0, b = 0;  // [a, b) in the layer's own time steps
  int64_t len() const { return b - a; }
};

Range widen(Range r, int64_t h, int64_t total) {
  return {std::max<int64_t>(0, r.a - h), std::min(total, r.b + h)};
}

// Values of one layer on `r` of its `total` steps: f32 [r.len(), ch].
struct Act {
  std::vector<float> v;
  Range r;
  int64_t ch = 0;
  const float* at(int64_t t) const { return v.data() + (t - r.a) * ch; }
};

int64_t half_width(const VitsConv& c) { return c.p.pad_left; }  // "same" convolutions only

// y on `want` of a stride-1 "same" convolution over a sequence of `total` steps, reading x
// (which must cover what `want` reads inside the sequence; zeros outside it).
void conv_same(const VitsConv& c, const Act& x, int64_t total, Range want, float* y,
               rt::ThreadPool* pool, const rt::ConvEpilogue& ep = {}) {
  const int64_t h = half_width(c);
  const Range in = widen(want, h, total);
  if (in.a < x.r.a || in.b > x.r.b) {
    fail("hifigan: a window needs steps [{}, {}) but [{}, {}) were computed", in.a, in.b, x.r.a,
         x.r.b);
  }
  rt::Conv1dParams p = c.p;
  p.pad_left = in.a - (want.a - h);
  p.pad_right = (want.b + h) - in.b;
  if (c.packed != nullptr) {
    rt::conv1d_direct_packed(x.at(in.a), in.len(), c.packed, c.b, p, y, pool, ep);
  } else {
    rt::conv1d_direct(x.at(in.a), in.len(), c.wt, c.b, p, y, pool, ep);
  }
}

// Input steps of a transposed convolution that feed its outputs `out` (inputs: total_in steps).
Range transposed_inputs(const rt::ConvTranspose1dParams& p, Range out, int64_t total_in) {
  const int64_t lo = out.a + p.padding - p.kernel + 1;
  const int64_t a = lo <= 0 ? 0 : (lo + p.stride - 1) / p.stride;
  const int64_t b = (out.b - 1 + p.padding) / p.stride + 1;
  return {std::max<int64_t>(0, a), std::min(total_in, b)};
}

// The chain of convolutions of one residual block, in application order.
int64_t block_half_width(const std::vector<VitsConv>& convs) {
  int64_t h = 0;
  for (const VitsConv& c : convs) h += half_width(c);
  return h;
}

// Buffers reused by every layer of a piece, and by later windows through HifiganScratch (large
// vectors: allocating them per layer or per window costs page faults).
struct Scratch {
  Act cur, t, t2, y, y2;
  std::vector<float> raw;
  rt::VocoderScratch vs;
};

void reshape(Act& a, Range r, int64_t ch) {
  a.r = r;
  a.ch = ch;
  a.v.resize(static_cast<size_t>(r.len() * ch));
}

// acc[want] += block(x)[want]; x covers what the block reads. Each convolution adds its residual
// and writes the next one's leaky-ReLU input as it stores its outputs (ConvEpilogue); the last
// one adds its outputs to acc.
// x_act: leaky_relu(x) on x's range when the caller has it (null: computed here).
void resblock(const std::vector<VitsConv>& convs, int64_t type, const Act& x, const Act* x_act,
              int64_t total, Range want, std::vector<float>& acc, Scratch& s,
              rt::ThreadPool* pool) {
  const int64_t ch = x.ch;
  int64_t after = block_half_width(convs);
  const Range in = widen(want, after, total);
  const Act* tin = x_act;  // leaky_relu(cur): the next convolution's input
  if (tin == nullptr) {
    reshape(s.t, in, ch);
    rt::leaky_relu(x.at(in.a), s.t.v.data(), in.len() * ch, kSlope);
    tin = &s.t;
  }
  Act* tnext = tin == &s.t ? &s.t2 : &s.t;  // never the caller's x_act
  const Act* cur = &x;  // the block's running value (the residual)
  Act* bufs[2] = {&s.cur, &s.y};
  int nb = 0;
  const size_t step = type == 1 ? 2 : 1;
  for (size_t i = 0; i < convs.size(); i += step) {
    after -= half_width(convs[i]);
    Range out = widen(want, after, total);
    const Act* conv_in = tin;
    size_t last_conv = i;
    if (type == 1) {
      reshape(s.y2, out, ch);
      conv_same(convs[i], *tin, total, out, s.y2.v.data(), pool);
      rt::leaky_relu(s.y2.v.data(), s.y2.v.data(), out.len() * ch, kSlope);
      last_conv = i + 1;
      after -= half_width(convs[last_conv]);
      out = widen(want, after, total);
      conv_in = &s.y2;
    }
    Act& dst = *bufs[nb];
    nb ^= 1;
    reshape(dst, out, ch);
    rt::ConvEpilogue ep;
    ep.residual = cur->at(out.a);
    if (i + step < convs.size()) {
      reshape(*tnext, out, ch);
      ep.act = tnext->v.data();
      ep.slope = kSlope;
    } else {
      if (out.a != want.a || out.b != want.b) {
        fail("hifigan: a residual block ends on [{}, {}), not [{}, {})", out.a, out.b, want.a,
             want.b);
      }
      ep.sum = acc.data();  // the last convolution's outputs are exactly `want`
    }
    conv_same(convs[last_conv], *conv_in, total, out, dst.v.data(), pool, ep);
    cur = &dst;
    tin = tnext;
    tnext = tnext == &s.t ? &s.t2 : &s.t;
  }
}

// The ranges every layer must produce for output samples `samples` of a `frames`-frame latent.
struct Plan {
  std::vector<int64_t> stage_len;  // steps after each upsampling stage
  std::vector<Range> up_out;       // what each upsampling must produce
  std::vector<Range> stage_out;    // what each stage's residual blocks must produce
  Range pre_out;                   // conv_pre outputs
  Range z;                         // latent frames read
};

Plan make_plan(const VitsWeights& w, const VitsConfig& c, int64_t frames, Range samples) {
  Plan p;
  const size_t n = w.ups.size();
  int64_t len = frames;
  for (size_t i = 0; i < n; ++i) {
    len = rt::conv_transpose1d_out_len(len, w.ups[i].p);
    p.stage_len.push_back(len);
  }
  p.up_out.resize(n);
  p.stage_out.resize(n);
  const size_t nk = c.resblock_kernels.size();
  Range need = widen(samples, half_width(w.dec_post), len);
  for (size_t i = n; i-- > 0;) {
    p.stage_out[i] = need;
    int64_t widest = 0;
    for (size_t j = 0; j < nk; ++j) widest = std::max(widest, block_half_width(w.resblocks[i * nk + j]));
    p.up_out[i] = widen(need, widest, p.stage_len[i]);
    need = transposed_inputs(w.ups[i].p, p.up_out[i], i > 0 ? p.stage_len[i - 1] : frames);
  }
  p.pre_out = need;
  p.z = widen(need, half_width(w.dec_pre), frames);
  return p;
}

}  // namespace

std::pair<int64_t, int64_t> hifigan_input_frames(const VitsWeights& w, const VitsConfig& c,
                                                 int64_t frames, int64_t s0, int64_t s1) {
  const Plan p = make_plan(w, c, frames, {s0, s1});
  return {p.z.a, p.z.b};
}

namespace {

// One piece's buffers: kept across calls by HifiganScratch so a stream's windows reuse them.
struct PieceBuffers {
  Act zin, x, up, up_act, acc;
  Scratch s;
};

// Samples [s0, s1) of the sentence into audio[0, s1 - s0); pool may be null (one thread).
void decode_piece(const VitsWeights& w, const VitsConfig& c, const float* z, int64_t z0,
                  int64_t z1, int64_t frames, int64_t s0, int64_t s1, const float* g,
                  const CancelToken& cancel, PieceBuffers& b, float* audio,
                  rt::ThreadPool* pool) {
  const Plan plan = make_plan(w, c, frames, {s0, s1});
  if (plan.z.a < z0 || plan.z.b > z1) {
    fail("hifigan: the window reads frames [{}, {}) but [{}, {}) were given", plan.z.a, plan.z.b, z0, z1);
  }
  reshape(b.zin, plan.z, c.inter);
  std::copy(z + (plan.z.a - z0) * c.inter, z + (plan.z.b - z0) * c.inter, b.zin.v.begin());
  Act& x = b.x;
  reshape(x, plan.pre_out, c.up_initial);
  conv_same(w.dec_pre, b.zin, frames, plan.pre_out, x.v.data(), pool);
  if (g != nullptr && w.dec_cond.present()) {
    std::vector<float> gc(static_cast<size_t>(x.ch));
    rt::conv1d_direct(g, 1, w.dec_cond.wt, w.dec_cond.b, w.dec_cond.p, gc.data(), nullptr);
    rt::add_row(x.v.data(), gc.data(), x.r.len(), x.ch);
  }
  Scratch& s = b.s;
  Act& up = b.up;
  const size_t nk = c.resblock_kernels.size();
  for (size_t i = 0; i < w.ups.size(); ++i) {
    rt::check_cancel(cancel);
    const VitsUpsample& u = w.ups[i];
    const int64_t in_len = i > 0 ? plan.stage_len[i - 1] : frames;
    rt::leaky_relu(x.v.data(), x.v.data(), static_cast<int64_t>(x.v.size()), kSlope);
    // Transposed conv without trimming on the inputs that feed up_out, then the rows wanted.
    const Range in = transposed_inputs(u.p, plan.up_out[i], in_len);
    rt::ConvTranspose1dParams full = u.p;
    full.padding = 0;
    const Range want = plan.up_out[i];
    const int64_t first = want.a - (in.a * u.p.stride - u.p.padding);  // row of want.a in raw
    reshape(up, want, u.p.c_out);
    const Act* up_act = nullptr;  // leaky_relu(up), the residual blocks' first input
    if (u.packed != nullptr) {
      reshape(b.up_act, want, u.p.c_out);
      rt::conv_transpose1d_packed(x.at(in.a), in.len(), u.packed, u.b, full, first,
                                  first + want.len(), up.v.data(), pool, b.up_act.v.data(),
                                  kSlope);
      up_act = &b.up_act;
    } else {
      s.raw.resize(static_cast<size_t>(rt::conv_transpose1d_out_len(in.len(), full) * u.p.c_out));
      rt::conv_transpose1d(x.at(in.a), in.len(), u.wt, u.b, full, s.raw.data(), s.vs, pool);
      std::copy(s.raw.begin() + first * u.p.c_out,
                s.raw.begin() + (first + want.len()) * u.p.c_out, up.v.begin());
    }
    const Range out = plan.stage_out[i];
    reshape(b.acc, out, up.ch);
    std::fill(b.acc.v.begin(), b.acc.v.end(), 0.0f);
    for (size_t j = 0; j < nk; ++j) {
      rt::check_cancel(cancel);
      resblock(w.resblocks[i * nk + j], c.resblock_type, up, up_act, plan.stage_len[i], out,
               b.acc.v, s, pool);
    }
    rt::scale(b.acc.v.data(), 1.0f / static_cast<float>(nk), b.acc.v.data(), out.len() * up.ch);
    std::swap(x, b.acc);
  }
  rt::leaky_relu(x.v.data(), x.v.data(), static_cast<int64_t>(x.v.size()), kFinalSlope);
  conv_same(w.dec_post, x, plan.stage_len.back(), {s0, s1}, audio, pool);
  rt::tanh_inplace(audio, s1 - s0);
}

// Windows shorter than this (in samples per piece) are not split over threads: the receptive
// field each piece recomputes would cost more than the second core gives.
constexpr int64_t kMinPieceSamples = 1024;

}  // namespace

struct HifiganScratch::Pieces {
  std::vector<PieceBuffers> pieces;
};

HifiganScratch::HifiganScratch() : p_(std::make_unique<Pieces>()) {}
HifiganScratch::~HifiganScratch() = default;

std::vector<float> hifigan_decode(const VitsWeights& w, const VitsConfig& c, const float* z,
                                  int64_t z0, int64_t z1, int64_t frames, int64_t s0, int64_t s1,
                                  const float* g, const CancelToken& cancel,
                                  rt::ThreadPool* pool, HifiganScratch* scratch) {
  const Plan plan = make_plan(w, c, frames, {s0, s1});
  if (s0 < 0 || s1 > plan.stage_len.back() || s0 >= s1) {
    fail("hifigan: samples [{}, {}) are outside the {} of the sentence", s0, s1, plan.stage_len.back());
  }
  if (plan.z.a < z0 || plan.z.b > z1) {
    fail("hifigan: the window reads frames [{}, {}) but [{}, {}) were given", plan.z.a, plan.z.b, z0, z1);
  }
  HifiganScratch local;
  HifiganScratch& sc = scratch != nullptr ? *scratch : local;
  std::vector<float> audio(static_cast<size_t>(s1 - s0));
  // Split the window over time into one piece per thread, each decoded whole on one thread with
  // its own receptive field: no barrier between layers and the elementwise work runs in parallel.
  const int64_t threads = pool != nullptr ? pool->size() : 1;
  const int64_t parts = std::clamp<int64_t>((s1 - s0) / kMinPieceSamples, 1, threads);
  if (sc.p_->pieces.size() < static_cast<size_t>(parts)) sc.p_->pieces.resize(static_cast<size_t>(parts));
  if (parts == 1) {
    decode_piece(w, c, z, z0, z1, frames, s0, s1, g, cancel, sc.p_->pieces[0], audio.data(), pool);
    return audio;
  }
  pool->parallel_for(parts, [&](int64_t pb, int64_t pe, int) {
    for (int64_t k = pb; k < pe; ++k) {
      int64_t a = 0, e = 0;
      rt::ThreadPool::split(s1 - s0, parts, k, &a, &e);
      decode_piece(w, c, z, z0, z1, frames, s0 + a, s0 + e, g, cancel,
                   sc.p_->pieces[static_cast<size_t>(k)], audio.data() + a, nullptr);
    }
  });
  return audio;
}

}  // namespace duet::models
