// VITS coupling flow, reverse direction: for each mean-only residual coupling layer (last first),
// flip the channels, then subtract a WaveNet-predicted mean from the second half.
// Must never change the first half of the channels inside a coupling layer.
#include <algorithm>
#include <cmath>

#include "models/vits_compute.hpp"
#include "runtime/ops.hpp"

namespace duet::models {
namespace {

// WaveNet stack: h f32 [t, hidden] -> out f32 [t, hidden] (the summed skips).
void wavenet(const VitsCoupling& f, const VitsConfig& c, std::vector<float>& h, int64_t t,
             const float* g_all, std::vector<float>& out, rt::VocoderScratch& s,
             rt::ThreadPool* pool) {
  const int64_t H = c.hidden;
  const auto TH = static_cast<size_t>(t * H);
  std::vector<float> x_in(2 * TH), acts(TH), rs(2 * TH);
  out.assign(TH, 0.0f);
  for (size_t li = 0; li < f.wn.size(); ++li) {
    const VitsWnLayer& l = f.wn[li];
    apply_conv(l.in, h.data(), t, x_in.data(), s, pool);
    if (g_all != nullptr) rt::add_row(x_in.data(), g_all + li * 2 * static_cast<size_t>(H), t, 2 * H);
    rt::wavenet_gate(x_in.data(), acts.data(), t, H);
    apply_conv(l.res_skip, acts.data(), t, rs.data(), s, pool);
    if (li + 1 < f.wn.size()) {
      for (int64_t i = 0; i < t; ++i) {
        const float* r = rs.data() + i * 2 * H;
        rt::add(h.data() + i * H, r, h.data() + i * H, H);
        rt::add(out.data() + i * H, r + H, out.data() + i * H, H);
      }
    } else {
      rt::add(out.data(), rs.data(), out.data(), t * H);
    }
  }
}

}  // namespace

void flow_reverse(const VitsWeights& w, const VitsConfig& c, std::vector<float>& z, int64_t t,
                  const float* g, const CancelToken& cancel, rt::ThreadPool* pool) {
  const int64_t C = c.inter;
  const int64_t half = C / 2;
  rt::VocoderScratch s;
  std::vector<float> x0(static_cast<size_t>(t * half)), h(static_cast<size_t>(t * c.hidden)),
      out, m(static_cast<size_t>(t * half));
  for (size_t fi = w.flows.size(); fi-- > 0;) {
    rt::check_cancel(cancel);
    for (int64_t i = 0; i < t; ++i) std::reverse(z.begin() + i * C, z.begin() + (i + 1) * C);
    const VitsCoupling& f = w.flows[fi];
    std::vector<float> g_all;
    if (g != nullptr && f.cond.present()) {
      g_all.resize(static_cast<size_t>(f.cond.p.c_out));
      apply_conv(f.cond, g, 1, g_all.data(), s, pool);
    }
    for (int64_t i = 0; i < t; ++i) {
      std::copy(z.begin() + i * C, z.begin() + i * C + half, x0.begin() + i * half);
    }
    apply_conv(f.pre, x0.data(), t, h.data(), s, pool);
    wavenet(f, c, h, t, g_all.empty() ? nullptr : g_all.data(), out, s, pool);
    apply_conv(f.post, out.data(), t, m.data(), s, pool);
    for (int64_t i = 0; i < t; ++i) {
      float* x1 = z.data() + i * C + half;
      const float* mi = m.data() + i * half;
      for (int64_t k = 0; k < half; ++k) x1[k] -= mi[k];
    }
  }
}

}  // namespace duet::models
