// Operations a neural vocoder needs on top of runtime/conv1d (VITS/HiFi-GAN now): transposed 1-D
// convolution (upsampling), depthwise dilated 1-D convolution, leaky ReLU, and conv1d run over
// time blocks so long audio never needs a whole-signal im2col buffer. Time-major layout:
// x f32 [t, c]. Must never keep state between calls; scratch is the caller's and only grows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/conv1d.hpp"
#include "runtime/matmul.hpp"

namespace duet::rt {

class ThreadPool;

// Reusable buffers for the calls below; grown on demand, never shrunk.
struct VocoderScratch {
  std::vector<float> cols;
  std::vector<uint8_t> mm;
};

// conv1d() of runtime/conv1d.hpp over output blocks of at most `block` steps (same result, bounded
// scratch). x f32 [t_in, c_in] -> y f32 [conv1d_out_len(t_in, p), c_out].
void conv1d_blocked(const float* x, int64_t t_in, const WeightView& w, const float* b,
                    const Conv1dParams& p, float* y, VocoderScratch& scratch, ThreadPool* pool,
                    int64_t block = 1024);

// What conv1d_direct does to each output as it stores it: y += residual (f32 [t_out, c_out]) when
// residual is set, then, when act is set, also act = leaky_relu(y, slope) (f32 [t_out, c_out]),
// and when sum is set, also sum += y (f32 [t_out, c_out]). None may alias x; residual may equal y
// only if it is read before being written (it is: the same element, once).
struct ConvEpilogue {
  const float* residual = nullptr;
  float* act = nullptr;
  float slope = 0.0f;
  float* sum = nullptr;
};

// Direct 1-D convolution (no im2col) with weights laid out for it: wt f32 [kernel, c_in, c_out]
// (output channels contiguous). y[t, o] = b[o] + sum_{k,i} wt[k, i, o] *
// x[t*stride + k*dilation - pad_left, i] (0 outside x). b f32 [c_out] or null. AVX2 when the CPU
// has it; time steps are split across the pool. kernel must be at most 64.
void conv1d_direct(const float* x, int64_t t_in, const float* wt, const float* b,
                   const Conv1dParams& p, float* y, ThreadPool* pool,
                   const ConvEpilogue& ep = {});

// Weights of conv1d_direct repacked once (at load time) so each tile of output channels reads
// its weights contiguously: panels of 16 output channels (then one of 8), each panel
// [kernel][c_in][width], panels in channel order. Only for c_out a multiple of 8.
bool conv1d_packable(const Conv1dParams& p);
size_t conv1d_packed_floats(const Conv1dParams& p);
// wt f32 [kernel, c_in, c_out] (conv1d_direct's layout) -> out (conv1d_packed_floats(p) floats).
void conv1d_pack(const float* wt, const Conv1dParams& p, float* out);

// conv1d_direct on weights packed by conv1d_pack. y_stride: floats between the rows of y,
// ep.residual and ep.act (0: c_out).
void conv1d_direct_packed(const float* x, int64_t t_in, const float* packed, const float* b,
                          const Conv1dParams& p, float* y, ThreadPool* pool,
                          const ConvEpilogue& ep = {}, int64_t y_stride = 0);

struct ConvTranspose1dParams {
  int64_t c_in = 0;
  int64_t c_out = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padding = 0;  // trimmed from both ends of the full output (PyTorch's `padding`)
};

// (t_in - 1) * stride - 2 * padding + kernel; 0 when that is not positive.
int64_t conv_transpose1d_out_len(int64_t t_in, const ConvTranspose1dParams& p);

// y[t*stride + k - padding, o] += sum_i x[t, i] * wt[i, k, o], plus b[o]. wt f32
// [c_in, kernel, c_out] (PyTorch's [Cin, Cout, K] with the last two axes swapped). b: f32 [c_out]
// or null. y: f32 [out_len, c_out].
void conv_transpose1d(const float* x, int64_t t_in, const float* wt, const float* b,
                      const ConvTranspose1dParams& p, float* y, VocoderScratch& scratch,
                      ThreadPool* pool);

// Transposed convolution as `stride` phases, each an ordinary convolution of
// ceil(kernel / stride) taps run by conv1d_direct_packed (no overlap-add, no zero fill).
// Needs kernel >= stride and c_out a multiple of 8.
bool conv_transpose1d_packable(const ConvTranspose1dParams& p);
size_t conv_transpose1d_packed_floats(const ConvTranspose1dParams& p);
// wt f32 [c_in, kernel, c_out] (conv_transpose1d's layout) -> out (the floats above).
void conv_transpose1d_pack(const float* wt, const ConvTranspose1dParams& p, float* out);
// Rows [o0, o1) of conv_transpose1d's output for p.padding == 0 (the full output,
// conv_transpose1d_out_len(t_in, p with padding 0) rows) into y f32 [o1 - o0, c_out], from
// weights packed by conv_transpose1d_pack. b f32 [c_out] or null. act, when set, also gets
// leaky_relu(y, slope) (f32 [o1 - o0, c_out]).
void conv_transpose1d_packed(const float* x, int64_t t_in, const float* packed, const float* b,
                             const ConvTranspose1dParams& p, int64_t o0, int64_t o1, float* y,
                             ThreadPool* pool, float* act = nullptr, float slope = 0.0f);

// Depthwise (one filter per channel) dilated convolution with "same" zero padding
// (dilation * (kernel - 1) / 2 each side, kernel odd): y[t, c] = b[c] +
// sum_k w[k, c] * x[t + (k - (kernel-1)/2) * dilation, c]. w f32 [kernel, c]; x, y f32 [t, c]
// (y must not alias x).
void depthwise_conv1d_same(const float* x, int64_t t, int64_t c, const float* w, const float* b,
                           int64_t kernel, int64_t dilation, float* y);

// y = x >= 0 ? x : slope * x over n values; y may be x.
void leaky_relu(const float* x, float* y, int64_t n, float slope);

// x = tanh(x) over n values (vectorized; absolute error about 1e-7).
void tanh_inplace(float* x, int64_t n);

// WaveNet's gated activation: x f32 [rows, 2h] -> y f32 [rows, h],
// y[r, k] = tanh(x[r, k]) * sigmoid(x[r, h + k]). x is overwritten (scratch).
void wavenet_gate(float* x, float* y, int64_t rows, int64_t h);

}  // namespace duet::rt
