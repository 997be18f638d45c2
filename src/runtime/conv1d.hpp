// 1-D convolution for audio models (Whisper's encoder stem now; Piper/VITS vocoder layers later):
// any stride, zero padding on both sides and dilation, computed as im2col + the runtime's matmul so
// it uses the same kernels and thread pool. Layout is time-major: x f32 [t_in, c_in],
// y f32 [t_out, c_out]; weights are PyTorch's [c_out, c_in, kernel] in any matmul-readable type.
// Must never allocate: the caller sizes the scratch once with conv1d_scratch_*().
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/matmul.hpp"

namespace duet::rt {

class ThreadPool;

struct Conv1dParams {
  int64_t c_in = 0;
  int64_t c_out = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t pad_left = 0;   // zeros before the first sample
  int64_t pad_right = 0;  // zeros after the last sample
  int64_t dilation = 1;
};

// Output length for t_in input steps; 0 when the padded input is shorter than the dilated kernel.
int64_t conv1d_out_len(int64_t t_in, const Conv1dParams& p);
// Floats of im2col scratch and bytes of matmul scratch for t_in input steps.
size_t conv1d_scratch_floats(int64_t t_in, const Conv1dParams& p);
size_t conv1d_matmul_scratch_bytes(DType w_type, int64_t t_in, const Conv1dParams& p);
size_t conv1d_matmul_scratch_bytes(const WeightView& w, int64_t t_in, const Conv1dParams& p);

// y[t, o] = b[o] + sum_{i,k} w[o, i, k] * x[t*stride + k*dilation - pad_left, i] (0 outside).
// w: a WeightView with n_out = c_out, n_in = c_in * kernel. b: f32 [c_out] or null.
// Throws duet::Error on inconsistent shapes or short scratch.
void conv1d(const float* x, int64_t t_in, const WeightView& w, const float* b,
            const Conv1dParams& p, float* y, std::span<float> cols, std::span<uint8_t> mm_scratch,
            ThreadPool* pool);

}  // namespace duet::rt
