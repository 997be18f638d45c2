// VITS stochastic duration predictor, reverse direction: DDSConv conditioning, then noise pushed
// through the flows (Flip, ConvFlow with an inverse rational-quadratic spline, ..., the
// elementwise affine flow) to log-durations. Must never run the dropped flow (dp.flows.1).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "models/vits_compute.hpp"
#include "runtime/ops.hpp"

namespace duet::models {
namespace {

constexpr float kMinBinWidth = 1e-3f;
constexpr float kMinBinHeight = 1e-3f;
constexpr float kMinDerivative = 1e-3f;

float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

// DDSConv in place on x f32 [n, ch]: per layer depthwise dilated conv -> LN -> GELU -> 1x1 -> LN
// -> GELU, residual.
void dds_conv(const std::vector<VitsDdsLayer>& layers, const VitsConfig& c, float* x, int64_t n,
              rt::VocoderScratch& s, rt::ThreadPool* pool) {
  const int64_t ch = c.dp_filter;
  std::vector<float> y(static_cast<size_t>(n * ch)), z(static_cast<size_t>(n * ch));
  for (const auto& l : layers) {
    rt::depthwise_conv1d_same(x, n, ch, l.sep_w, l.sep_b, c.dp_kernel, l.dilation, y.data());
    rt::layer_norm(y.data(), l.n1_g, l.n1_b, y.data(), n, ch, 1e-5f);
    rt::gelu(y.data(), y.data(), n * ch, rt::GeluKind::Erf);
    apply_conv(l.conv1x1, y.data(), n, z.data(), s, pool);
    rt::layer_norm(z.data(), l.n2_g, l.n2_b, z.data(), n, ch, 1e-5f);
    rt::gelu(z.data(), z.data(), n * ch, rt::GeluKind::Erf);
    rt::add(x, z.data(), x, n * ch);
  }
}

}  // namespace

float rq_spline_inverse(float y, const float* uw, const float* uh, const float* ud, int bins,
                        float tail) {
  if (y < -tail || y > tail) return y;  // linear tails: identity
  constexpr int kMaxBins = 64;
  if (bins <= 0 || bins > kMaxBins) fail("vits: spline with {} bins", bins);
  float widths[kMaxBins], heights[kMaxBins], cumw[kMaxBins + 1], cumh[kMaxBins + 1],
      derivs[kMaxBins + 1];
  const auto normalize = [&](const float* logits, float min_size, float* sizes, float* cum) {
    float mx = logits[0];
    for (int i = 1; i < bins; ++i) mx = std::max(mx, logits[i]);
    float sum = 0.0f;
    for (int i = 0; i < bins; ++i) {
      sizes[i] = std::exp(logits[i] - mx);
      sum += sizes[i];
    }
    cum[0] = -tail;
    float acc = 0.0f;
    for (int i = 0; i < bins; ++i) {
      const float p = min_size + (1.0f - min_size * static_cast<float>(bins)) * (sizes[i] / sum);
      acc += p;
      cum[i + 1] = 2.0f * tail * acc - tail;
    }
    cum[bins] = tail;
    for (int i = 0; i < bins; ++i) sizes[i] = cum[i + 1] - cum[i];
  };
  normalize(uw, kMinBinWidth, widths, cumw);
  normalize(uh, kMinBinHeight, heights, cumh);
  // Boundary derivatives are 1: softplus(log(exp(1 - min_d) - 1)) + min_d.
  derivs[0] = derivs[bins] = 1.0f;
  for (int i = 1; i < bins; ++i) derivs[i] = kMinDerivative + softplus(ud[i - 1]);

  // Bin: the number of knots (last one nudged up by 1e-6) at or below y, minus one.
  int bin = -1;
  for (int i = 0; i <= bins; ++i) {
    const float knot = i == bins ? cumh[i] + 1e-6f : cumh[i];
    if (y >= knot) ++bin;
  }
  bin = std::clamp(bin, 0, bins - 1);
  const float in_cumw = cumw[bin], in_w = widths[bin];
  const float in_cumh = cumh[bin], in_h = heights[bin];
  const float delta = in_h / in_w;
  const float d0 = derivs[bin], d1 = derivs[bin + 1];
  const float dy = y - in_cumh;
  const float a = dy * (d0 + d1 - 2.0f * delta) + in_h * (delta - d0);
  const float b = in_h * d0 - dy * (d0 + d1 - 2.0f * delta);
  const float cc = -delta * dy;
  const float disc = std::max(b * b - 4.0f * a * cc, 0.0f);
  const float root = (2.0f * cc) / (-b - std::sqrt(disc));
  return root * in_w + in_cumw;
}

std::vector<float> duration_predictor(const VitsWeights& w, const VitsConfig& c,
                                      const std::vector<float>& x, int64_t n, const float* g,
                                      float noise_w, GaussianNoise& noise,
                                      const CancelToken& cancel, rt::ThreadPool* pool) {
  const int64_t ch = c.dp_filter;
  const auto N = static_cast<size_t>(n);
  rt::VocoderScratch s;
  std::vector<float> h(N * static_cast<size_t>(ch)), cond(N * static_cast<size_t>(ch));
  apply_conv(w.dp_pre, x.data(), n, h.data(), s, pool);
  if (g != nullptr && w.dp_cond.present()) {
    std::vector<float> g_dp(static_cast<size_t>(ch));
    apply_conv(w.dp_cond, g, 1, g_dp.data(), s, pool);
    rt::add_row(h.data(), g_dp.data(), n, ch);
  }
  dds_conv(w.dp_convs, c, h.data(), n, s, pool);
  apply_conv(w.dp_proj, h.data(), n, cond.data(), s, pool);

  // z f32 [n, 2]: channel 0 and 1 per phoneme. Noise drawn channel-major, as torch.randn(1, 2, n).
  std::vector<float> z(N * 2);
  for (int ci = 0; ci < 2; ++ci) {
    for (size_t i = 0; i < N; ++i) z[i * 2 + static_cast<size_t>(ci)] = noise.next() * noise_w;
  }
  const int bins = static_cast<int>(c.dp_bins);
  const int64_t proj_out = 3 * c.dp_bins - 1;
  const float inv_sqrt = 1.0f / std::sqrt(static_cast<float>(ch));
  std::vector<float> z0(N), fh(N * static_cast<size_t>(ch)), params(N * static_cast<size_t>(proj_out));
  // Reverse order: Flip, flow[last], Flip, ..., Flip, flow[first], then the affine flow.
  for (size_t fi = w.dp_flows.size(); fi-- > 0;) {
    rt::check_cancel(cancel);
    for (size_t i = 0; i < N; ++i) std::swap(z[i * 2], z[i * 2 + 1]);  // Flip
    const VitsConvFlow& f = w.dp_flows[fi];
    for (size_t i = 0; i < N; ++i) z0[i] = z[i * 2];
    apply_conv(f.pre, z0.data(), n, fh.data(), s, pool);
    // The ConvFlow's DDSConv is conditioned on the whole `cond` sequence, added first.
    rt::add(fh.data(), cond.data(), fh.data(), n * ch);
    dds_conv(f.convs, c, fh.data(), n, s, pool);
    apply_conv(f.proj, fh.data(), n, params.data(), s, pool);
    for (size_t i = 0; i < N; ++i) {
      float* p = params.data() + i * static_cast<size_t>(proj_out);
      float uw[64], uh[64];
      for (int b = 0; b < bins; ++b) {
        uw[b] = p[b] * inv_sqrt;
        uh[b] = p[bins + b] * inv_sqrt;
      }
      z[i * 2 + 1] = rq_spline_inverse(z[i * 2 + 1], uw, uh, p + 2 * bins, bins, c.dp_tail_bound);
    }
  }
  for (size_t i = 0; i < N; ++i) std::swap(z[i * 2], z[i * 2 + 1]);  // the last Flip
  std::vector<float> logw(N);
  for (size_t i = 0; i < N; ++i) logw[i] = (z[i * 2] - w.dp_m[0]) * w.dp_exp_neg_logs[0];
  return logw;
}

}  // namespace duet::models
