// 1-D convolution as im2col + matmul. Must never allocate or read outside x.
#include "runtime/conv1d.hpp"

#include <cstring>

#include "core/error.hpp"
#include "runtime/ops.hpp"
#include "runtime/thread_pool.hpp"

namespace duet::rt {

int64_t conv1d_out_len(int64_t t_in, const Conv1dParams& p) {
  const int64_t span = p.dilation * (p.kernel - 1) + 1;
  const int64_t padded = t_in + p.pad_left + p.pad_right;
  if (padded < span || p.stride <= 0) return 0;
  return (padded - span) / p.stride + 1;
}

size_t conv1d_scratch_floats(int64_t t_in, const Conv1dParams& p) {
  return static_cast<size_t>(conv1d_out_len(t_in, p) * p.c_in * p.kernel);
}

size_t conv1d_matmul_scratch_bytes(DType w_type, int64_t t_in, const Conv1dParams& p) {
  return matmul_scratch_bytes(w_type, p.c_in * p.kernel, conv1d_out_len(t_in, p));
}

size_t conv1d_matmul_scratch_bytes(const WeightView& w, int64_t t_in, const Conv1dParams& p) {
  return matmul_scratch_bytes(w, conv1d_out_len(t_in, p));
}

void conv1d(const float* x, int64_t t_in, const WeightView& w, const float* b,
            const Conv1dParams& p, float* y, std::span<float> cols, std::span<uint8_t> mm_scratch,
            ThreadPool* pool) {
  if (p.c_in <= 0 || p.c_out <= 0 || p.kernel <= 0 || p.stride <= 0 || p.dilation <= 0 ||
      p.pad_left < 0 || p.pad_right < 0) {
    fail("conv1d: bad parameters (c_in {}, c_out {}, kernel {}, stride {}, dilation {})", p.c_in,
         p.c_out, p.kernel, p.stride, p.dilation);
  }
  if (w.n_out != p.c_out || w.n_in != p.c_in * p.kernel) {
    fail("conv1d: weight is [{} x {}], expected [{} x {}*{}]", w.n_out, w.n_in, p.c_out, p.c_in,
         p.kernel);
  }
  const int64_t t_out = conv1d_out_len(t_in, p);
  if (t_out == 0) return;
  const int64_t row = p.c_in * p.kernel;
  if (cols.size() < static_cast<size_t>(t_out * row)) {
    fail("conv1d: im2col scratch holds {} floats, needs {}", cols.size(), t_out * row);
  }
  // cols[t, i*kernel + k] = x[t*stride + k*dilation - pad_left, i], matching w's [c_in, kernel] rows.
  auto fill = [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      float* c = cols.data() + t * row;
      for (int64_t k = 0; k < p.kernel; ++k) {
        const int64_t s = t * p.stride + k * p.dilation - p.pad_left;
        if (s < 0 || s >= t_in) {
          for (int64_t i = 0; i < p.c_in; ++i) c[i * p.kernel + k] = 0.0f;
        } else {
          const float* xs = x + s * p.c_in;
          for (int64_t i = 0; i < p.c_in; ++i) c[i * p.kernel + k] = xs[i];
        }
      }
    }
  };
  if (pool) {
    pool->parallel_for(t_out, fill);
  } else {
    fill(0, t_out, 0);
  }
  matmul(w, cols.data(), t_out, y, mm_scratch, pool);
  if (b) add_row(y, b, t_out, p.c_out);
}

}  // namespace duet::rt
