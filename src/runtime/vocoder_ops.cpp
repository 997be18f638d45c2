// Vocoder operations: direct conv1d (plain or packed weights, one shared set-up; the scalar
// kernel here, the AVX2 and AVX-512 builds of vocoder_conv_tiles.hpp), blocked conv1d,
// transposed conv1d (matmul then overlap-add, or stride phases of packed convolutions), depthwise
// dilated conv1d and leaky ReLU. Must never read outside the inputs it is given.
#include "runtime/vocoder_ops.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "runtime/ops.hpp"
#include "runtime/quants.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/vec_math.hpp"
#include "runtime/vocoder_conv_impl.hpp"

namespace duet::rt {

namespace {

using vocoder_impl::ConvJob;

void conv1d_direct_range_scalar(const ConvJob& j, int64_t t0, int64_t t1) {
  const Conv1dParams& p = j.p;
  std::vector<float> acc(static_cast<size_t>(p.c_out));
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t o = 0; o < p.c_out; ++o) {
      acc[static_cast<size_t>(o)] = j.b != nullptr ? j.b[o] : 0.0f;
    }
    for (int64_t k = 0; k < p.kernel; ++k) {
      const int64_t s = t * p.stride + k * p.dilation - p.pad_left;
      if (s < 0 || s >= j.t_in) continue;
      const float* xs = j.x + s * p.c_in;
      for (int64_t o0 = 0; o0 < p.c_out;) {
        const int64_t width = j.packed ? j.panel_width(o0) : p.c_out;
        const float* wp = j.tile_base(o0) + k * j.k_stride(width);
        const int64_t is = j.i_stride(width);
        for (int64_t i = 0; i < p.c_in; ++i) {
          const float a = xs[i];
          const float* w = wp + i * is;
          for (int64_t o = 0; o < width; ++o) acc[static_cast<size_t>(o0 + o)] += a * w[o];
        }
        o0 += width;
      }
    }
    for (int64_t o = 0; o < p.c_out; ++o) {
      const int64_t at = t * j.y_stride + o;
      float v = acc[static_cast<size_t>(o)];
      if (j.ep.residual != nullptr) v += j.ep.residual[at];
      j.y[at] = v;
      if (j.ep.sum != nullptr) j.ep.sum[at] += v;
      if (j.ep.act != nullptr) j.ep.act[at] = std::max(v, 0.0f) + j.ep.slope * std::min(v, 0.0f);
    }
  }
}

void check_conv(const char* what, const Conv1dParams& p) {
  if (p.c_in <= 0 || p.c_out <= 0 || p.kernel <= 0 || p.kernel > 64 || p.stride <= 0 ||
      p.dilation <= 0 || p.pad_left < 0 || p.pad_right < 0) {
    fail("{}: bad parameters (c_in {}, c_out {}, kernel {}, stride {}, dilation {}, pad {}/{})",
         what, p.c_in, p.c_out, p.kernel, p.stride, p.dilation, p.pad_left, p.pad_right);
  }
}

void run_conv(ConvJob& j, ThreadPool* pool) {
  const int64_t t_out = conv1d_out_len(j.t_in, j.p);
  if (t_out <= 0) return;
  if (j.y_stride == 0) j.y_stride = j.p.c_out;
  const bool avx2 = best_isa() == Isa::Avx2;
  const bool avx512 = avx2 && best_micro_kernel() == MicroKernel::Avx512;
  const std::vector<float> zeros(static_cast<size_t>(j.p.c_in), 0.0f);
  j.zero_row = zeros.data();
  const auto run = [&](int64_t t0, int64_t t1) {
    if (avx512) {
      vocoder_avx512::conv1d_direct_range(j, t0, t1);
    } else if (avx2) {
      vocoder_avx2::conv1d_direct_range(j, t0, t1);
    } else {
      conv1d_direct_range_scalar(j, t0, t1);
    }
  };
  // Split in blocks of the kernel's tile steps so each thread gets whole tiles.
  const int64_t step = avx512 ? vocoder_avx512::kTileSteps : vocoder_avx2::kTileSteps;
  const int64_t tiles = (t_out + step - 1) / step;
  const auto run_tiles = [&](int64_t a, int64_t e, int) { run(a * step, std::min(t_out, e * step)); };
  if (pool != nullptr && tiles > 1) {
    pool->parallel_for(tiles, run_tiles);
  } else {
    run_tiles(0, tiles, 0);
  }
}

// conv1d_direct and conv1d_direct_packed: the same job but for the weights' layout (and the
// packed call's row stride), so it is checked and set up here once.
void direct_conv(const char* what, const float* x, int64_t t_in, const float* w, bool packed,
                 const float* b, const Conv1dParams& p, float* y, int64_t y_stride,
                 const ConvEpilogue& ep, ThreadPool* pool) {
  check_conv(what, p);
  if ((packed && !conv1d_packable(p)) || (y_stride != 0 && y_stride < p.c_out)) {
    fail("{}: c_out {} (must be a multiple of 8), row stride {}", what, p.c_out, y_stride);
  }
  ConvJob j;
  j.x = x;
  j.t_in = t_in;
  j.w = w;
  j.packed = packed;
  j.b = b;
  j.p = p;
  j.y = y;
  j.y_stride = y_stride;
  j.ep = ep;
  run_conv(j, pool);
}

}  // namespace

void conv1d_direct(const float* x, int64_t t_in, const float* wt, const float* b,
                   const Conv1dParams& p, float* y, ThreadPool* pool, const ConvEpilogue& ep) {
  direct_conv("conv1d_direct", x, t_in, wt, /*packed=*/false, b, p, y, /*y_stride=*/0, ep, pool);
}

bool conv1d_packable(const Conv1dParams& p) { return p.c_out > 0 && p.c_out % 8 == 0; }

size_t conv1d_packed_floats(const Conv1dParams& p) {
  return static_cast<size_t>(p.kernel * p.c_in * p.c_out);
}

void conv1d_pack(const float* wt, const Conv1dParams& p, float* out) {
  if (!conv1d_packable(p)) fail("conv1d_pack: c_out {} is not a multiple of 8", p.c_out);
  ConvJob j;  // for its layout arithmetic only
  j.p = p;
  j.packed = true;
  j.w = out;
  for (int64_t o0 = 0; o0 < p.c_out;) {
    const int64_t width = j.panel_width(o0);
    float* panel = out + (j.tile_base(o0) - out);
    for (int64_t k = 0; k < p.kernel; ++k) {
      for (int64_t i = 0; i < p.c_in; ++i) {
        const float* src = wt + (k * p.c_in + i) * p.c_out + o0;
        std::copy(src, src + width, panel + k * j.k_stride(width) + i * j.i_stride(width));
      }
    }
    o0 += width;
  }
}

void conv1d_direct_packed(const float* x, int64_t t_in, const float* packed, const float* b,
                          const Conv1dParams& p, float* y, ThreadPool* pool,
                          const ConvEpilogue& ep, int64_t y_stride) {
  direct_conv("conv1d_direct_packed", x, t_in, packed, /*packed=*/true, b, p, y, y_stride, ep,
              pool);
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

bool conv_transpose1d_packable(const ConvTranspose1dParams& p) {
  return p.c_in > 0 && p.stride > 0 && p.kernel >= p.stride && p.c_out > 0 && p.c_out % 8 == 0;
}

namespace {

// Phase r of a transposed convolution: outputs o = q * stride + r, each the sum over taps
// j < taps of x[q - j] * w[r + j * stride] (0 past the kernel). As a convolution: tap k' reads
// x[q + k' - (taps - 1)] with weight w[r + (taps - 1 - k') * stride].
Conv1dParams phase_params(const ConvTranspose1dParams& p) {
  Conv1dParams c;
  c.c_in = p.c_in;
  c.c_out = p.c_out;
  c.kernel = (p.kernel + p.stride - 1) / p.stride;
  return c;
}

}  // namespace

size_t conv_transpose1d_packed_floats(const ConvTranspose1dParams& p) {
  return static_cast<size_t>(p.stride) * conv1d_packed_floats(phase_params(p));
}

void conv_transpose1d_pack(const float* wt, const ConvTranspose1dParams& p, float* out) {
  if (!conv_transpose1d_packable(p)) {
    fail("conv_transpose1d_pack: needs kernel {} >= stride {} and c_out {} a multiple of 8",
         p.kernel, p.stride, p.c_out);
  }
  const Conv1dParams c = phase_params(p);
  std::vector<float> plain(static_cast<size_t>(c.kernel * c.c_in * c.c_out));
  for (int64_t r = 0; r < p.stride; ++r) {
    for (int64_t k = 0; k < c.kernel; ++k) {
      const int64_t src_k = r + (c.kernel - 1 - k) * p.stride;
      for (int64_t i = 0; i < c.c_in; ++i) {
        float* dst = plain.data() + (k * c.c_in + i) * c.c_out;
        if (src_k < p.kernel) {
          const float* src = wt + (i * p.kernel + src_k) * p.c_out;
          std::copy(src, src + p.c_out, dst);
        } else {
          std::fill(dst, dst + c.c_out, 0.0f);
        }
      }
    }
    conv1d_pack(plain.data(), c, out + static_cast<size_t>(r) * conv1d_packed_floats(c));
  }
}

void conv_transpose1d_packed(const float* x, int64_t t_in, const float* packed, const float* b,
                             const ConvTranspose1dParams& p, int64_t o0, int64_t o1, float* y,
                             ThreadPool* pool, float* act, float slope) {
  if (!conv_transpose1d_packable(p) || p.padding != 0 || t_in <= 0) {
    fail("conv_transpose1d_packed: kernel {}, stride {}, c_out {}, padding {}, {} input steps",
         p.kernel, p.stride, p.c_out, p.padding, t_in);
  }
  ConvTranspose1dParams full = p;
  full.padding = 0;
  const int64_t t_out = conv_transpose1d_out_len(t_in, full);
  if (o0 < 0 || o1 > t_out || o0 > o1) {
    fail("conv_transpose1d_packed: rows [{}, {}) of {}", o0, o1, t_out);
  }
  const Conv1dParams c = phase_params(p);
  const size_t phase_floats = conv1d_packed_floats(c);
  for (int64_t r = 0; r < p.stride; ++r) {
    // Phase outputs q with o0 <= q * stride + r < o1.
    const int64_t q0 = o0 - r <= 0 ? 0 : (o0 - r + p.stride - 1) / p.stride;
    const int64_t q1 = o1 - r <= 0 ? 0 : (o1 - 1 - r) / p.stride + 1;
    if (q1 <= q0) continue;
    // Inputs [q0 - taps + 1, q1) within [0, t_in); the rest is zero padding.
    const int64_t a = std::max<int64_t>(0, q0 - c.kernel + 1);
    const int64_t e = std::max(a, std::min(t_in, q1));
    Conv1dParams cp = c;
    cp.pad_left = a - (q0 - c.kernel + 1);
    cp.pad_right = q1 - e;
    const int64_t row = (q0 * p.stride + r - o0) * p.c_out;
    ConvEpilogue ep;
    if (act != nullptr) {
      ep.act = act + row;
      ep.slope = slope;
    }
    conv1d_direct_packed(x + a * p.c_in, e - a, packed + static_cast<size_t>(r) * phase_floats, b,
                         cp, y + row, pool, ep, p.stride * p.c_out);
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
