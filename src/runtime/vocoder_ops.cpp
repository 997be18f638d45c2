// Vocoder operations: blocked conv1d, transposed conv1d (matmul then overlap-add), depthwise
// dilated conv1d and leaky ReLU. Must never read outside the inputs it is given.
#include "runtime/vocoder_ops.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "runtime/ops.hpp"
#include "runtime/quants.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/vec_math.hpp"

namespace duet::rt {

namespace vocoder_avx2 {
void conv1d_direct_range(const float* x, int64_t t_in, const float* wt, const float* b,
                         const Conv1dParams& p, float* y, int64_t t0, int64_t t1,
                         const float* zero_row, const ConvEpilogue& ep);
}  // namespace vocoder_avx2

namespace {

void conv1d_direct_range_scalar(const float* x, int64_t t_in, const float* wt, const float* b,
                                const Conv1dParams& p, float* y, int64_t t0, int64_t t1,
                                const ConvEpilogue& ep) {
  for (int64_t t = t0; t < t1; ++t) {
    float* yt = y + t * p.c_out;
    for (int64_t o = 0; o < p.c_out; ++o) yt[o] = b != nullptr ? b[o] : 0.0f;
    for (int64_t k = 0; k < p.kernel; ++k) {
      const int64_t s = t * p.stride + k * p.dilation - p.pad_left;
      if (s < 0 || s >= t_in) continue;
      const float* xs = x + s * p.c_in;
      for (int64_t i = 0; i < p.c_in; ++i) {
        const float* w = wt + (k * p.c_in + i) * p.c_out;
        const float a = xs[i];
        for (int64_t o = 0; o < p.c_out; ++o) yt[o] += a * w[o];
      }
    }
    for (int64_t o = 0; o < p.c_out; ++o) {
      const int64_t at = t * p.c_out + o;
      if (ep.residual != nullptr) yt[o] += ep.residual[at];
      if (ep.act != nullptr) ep.act[at] = std::max(yt[o], 0.0f) + ep.slope * std::min(yt[o], 0.0f);
    }
  }
}

}  // namespace

void conv1d_direct(const float* x, int64_t t_in, const float* wt, const float* b,
                   const Conv1dParams& p, float* y, ThreadPool* pool, const ConvEpilogue& ep) {
  if (p.c_in <= 0 || p.c_out <= 0 || p.kernel <= 0 || p.kernel > 64 || p.stride <= 0 ||
      p.dilation <= 0 || p.pad_left < 0 || p.pad_right < 0) {
    fail("conv1d_direct: bad parameters (c_in {}, c_out {}, kernel {}, stride {}, dilation {})",
         p.c_in, p.c_out, p.kernel, p.stride, p.dilation);
  }
  const int64_t t_out = conv1d_out_len(t_in, p);
  if (t_out <= 0) return;
  const bool avx2 = best_isa() == Isa::Avx2;
  const std::vector<float> zeros(static_cast<size_t>(p.c_in), 0.0f);
  const auto run = [&](int64_t t0, int64_t t1, int) {
    if (avx2) {
      vocoder_avx2::conv1d_direct_range(x, t_in, wt, b, p, y, t0, t1, zeros.data(), ep);
    } else {
      conv1d_direct_range_scalar(x, t_in, wt, b, p, y, t0, t1, ep);
    }
  };
  // Split in blocks of 6 steps (the kernel's tile) so each thread gets whole tiles.
  const int64_t tiles = (t_out + 5) / 6;
  const auto run_tiles = [&](int64_t a, int64_t e, int th) { run(a * 6, std::min(t_out, e * 6), th); };
  if (pool != nullptr && tiles > 1) {
    pool->parallel_for(tiles, run_tiles);
  } else {
    run_tiles(0, tiles, 0);
  }
}

void conv1d_blocked(const float* x, int64_t t_in, const WeightView& w, const float* b,
                    const Conv1dParams& p, float* y, VocoderScratch& scratch, ThreadPool* pool,
                    int64_t block) {
  const int64_t t_out = conv1d_out_len(t_in, p);
  if (t_out <= 0) return;
  block = std::max<int64_t>(block, 1);
  const int64_t span = p.dilation * (p.kernel - 1) + 1;
  for (int64_t o0 = 0; o0 < t_out; o0 += block) {
    const int64_t o1 = std::min(t_out, o0 + block);
    // Input steps [s0, s1) in padded coordinates feed outputs [o0, o1).
    const int64_t s0 = o0 * p.stride - p.pad_left;
    const int64_t s1 = (o1 - 1) * p.stride + span - p.pad_left;
    const int64_t in0 = std::max<int64_t>(s0, 0);
    const int64_t in1 = std::min<int64_t>(s1, t_in);
    const int64_t n_in = std::max<int64_t>(in1 - in0, 0);
    Conv1dParams bp = p;
    bp.pad_left = n_in > 0 ? in0 - s0 : s1 - s0;  // a block over padding only: all zeros
    bp.pad_right = n_in > 0 ? s1 - in1 : 0;
    const size_t need_cols = conv1d_scratch_floats(n_in, bp);
    const size_t need_mm = conv1d_matmul_scratch_bytes(w.type, n_in, bp);
    if (scratch.cols.size() < need_cols) scratch.cols.resize(need_cols);
    if (scratch.mm.size() < need_mm) scratch.mm.resize(need_mm);
    if (conv1d_out_len(n_in, bp) != o1 - o0) {
      fail("conv1d_blocked: block [{}, {}) gives {} outputs", o0, o1, conv1d_out_len(n_in, bp));
    }
    conv1d(x + in0 * p.c_in, n_in, w, b, bp, y + o0 * p.c_out, scratch.cols, scratch.mm, pool);
  }
}

int64_t conv_transpose1d_out_len(int64_t t_in, const ConvTranspose1dParams& p) {
  const int64_t n = (t_in - 1) * p.stride - 2 * p.padding + p.kernel;
  return t_in > 0 && n > 0 ? n : 0;
}

void conv_transpose1d(const float* x, int64_t t_in, const float* wt, const float* b,
                      const ConvTranspose1dParams& p, float* y, VocoderScratch& scratch,
                      ThreadPool* pool) {
  if (p.c_in <= 0 || p.c_out <= 0 || p.kernel <= 0 || p.stride <= 0 || p.padding < 0) {
    fail("conv_transpose1d: bad parameters (c_in {}, c_out {}, kernel {}, stride {})", p.c_in,
         p.c_out, p.kernel, p.stride);
  }
  const int64_t t_out = conv_transpose1d_out_len(t_in, p);
  if (t_out == 0) return;
  for (int64_t t = 0; t < t_out; ++t) {
    float* yt = y + t * p.c_out;
    if (b != nullptr) {
      std::memcpy(yt, b, static_cast<size_t>(p.c_out) * sizeof(float));
    } else {
      std::memset(yt, 0, static_cast<size_t>(p.c_out) * sizeof(float));
    }
  }
  // Each input step's contributions, cols[t, k*c_out + o], are one 1x1 convolution with
  // c_out * kernel outputs; then they are overlap-added into y.
  const int64_t row = p.kernel * p.c_out;
  Conv1dParams one;
  one.c_in = p.c_in;
  one.c_out = row;
  const int64_t block = std::max<int64_t>(6, (1 << 18) / std::max<int64_t>(row, 1) / 6 * 6);
  for (int64_t t0 = 0; t0 < t_in; t0 += block) {
    const int64_t n = std::min(block, t_in - t0);
    const size_t need_cols = static_cast<size_t>(n * row);
    if (scratch.cols.size() < need_cols) scratch.cols.resize(need_cols);
    conv1d_direct(x + t0 * p.c_in, n, wt, nullptr, one, scratch.cols.data(), pool);
    for (int64_t i = 0; i < n; ++i) {
      const float* contrib = scratch.cols.data() + i * row;
      const int64_t base = (t0 + i) * p.stride - p.padding;
      for (int64_t k = 0; k < p.kernel; ++k) {
        const int64_t o = base + k;
        if (o < 0 || o >= t_out) continue;
        add(y + o * p.c_out, contrib + k * p.c_out, y + o * p.c_out, p.c_out);
      }
    }
  }
}

void depthwise_conv1d_same(const float* x, int64_t t, int64_t c, const float* w, const float* b,
                           int64_t kernel, int64_t dilation, float* y) {
  const int64_t half = (kernel - 1) / 2;
  for (int64_t i = 0; i < t; ++i) {
    float* yi = y + i * c;
    for (int64_t ch = 0; ch < c; ++ch) yi[ch] = b != nullptr ? b[ch] : 0.0f;
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t s = i + (k - half) * dilation;
      if (s < 0 || s >= t) continue;
      const float* xs = x + s * c;
      const float* wk = w + k * c;
      for (int64_t ch = 0; ch < c; ++ch) yi[ch] += wk[ch] * xs[ch];
    }
  }
}

void leaky_relu(const float* x, float* y, int64_t n, float slope) {
  // max/min form so the compiler vectorizes it (same values as the ternary for 0 <= slope <= 1).
  for (int64_t i = 0; i < n; ++i) y[i] = std::max(x[i], 0.0f) + slope * std::min(x[i], 0.0f);
}

void tanh_inplace(float* x, int64_t n) { vec_kernels().softcap(x, n, 1.0f); }

void wavenet_gate(float* x, float* y, int64_t rows, int64_t h) {
  // sigmoid(b) = (1 + tanh(b / 2)) / 2, so one vectorized tanh pass serves both halves.
  for (int64_t r = 0; r < rows; ++r) {
    float* b = x + r * 2 * h + h;
    for (int64_t k = 0; k < h; ++k) b[k] *= 0.5f;
  }
  tanh_inplace(x, rows * 2 * h);
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = x + r * 2 * h;
    const float* b = a + h;
    float* o = y + r * h;
    for (int64_t k = 0; k < h; ++k) o[k] = a[k] * (0.5f + 0.5f * b[k]);
  }
}

}  // namespace duet::rt
