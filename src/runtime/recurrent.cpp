// LSTM cell step and sigmoid. Must never allocate or touch memory beyond the spans it was given.
#include "runtime/recurrent.hpp"

#include <cmath>

#include "core/error.hpp"

namespace duet::rt {

void sigmoid(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
}

size_t lstm_scratch_floats(const LstmWeights& w) { return static_cast<size_t>(8 * w.hidden()); }

size_t lstm_matmul_scratch_bytes(const LstmWeights& w) {
  const size_t a = matmul_scratch_bytes(w.w_ih.type, w.n_input(), 1);
  const size_t b = matmul_scratch_bytes(w.w_hh.type, w.hidden(), 1);
  return a > b ? a : b;
}

void lstm_cell(const LstmWeights& w, const float* x, float* h, float* c, std::span<float> scratch,
               std::span<uint8_t> mm_scratch, ThreadPool* pool) {
  const int64_t hid = w.hidden();
  if (hid <= 0 || w.w_hh.n_out != 4 * hid || w.w_ih.n_out != 4 * hid || w.n_input() <= 0) {
    fail("lstm_cell: weights are ih [{} x {}], hh [{} x {}]; expected [4*hidden x n_input] and "
         "[4*hidden x hidden]", w.w_ih.n_out, w.w_ih.n_in, w.w_hh.n_out, w.w_hh.n_in);
  }
  if (scratch.size() < lstm_scratch_floats(w)) {
    fail("lstm_cell: scratch holds {} floats, needs {}", scratch.size(), lstm_scratch_floats(w));
  }
  float* gates = scratch.data();          // f32 [4*hidden]: W_ih x, then the summed gates
  float* rec = scratch.data() + 4 * hid;  // f32 [4*hidden]: W_hh h
  matmul(w.w_ih, x, 1, gates, mm_scratch, pool);
  matmul(w.w_hh, h, 1, rec, mm_scratch, pool);
  for (int64_t j = 0; j < 4 * hid; ++j) {
    float g = gates[j] + rec[j];
    if (w.b_ih) g += w.b_ih[j];
    if (w.b_hh) g += w.b_hh[j];
    gates[j] = g;
  }
  const float* gi = gates;
  const float* gf = gates + hid;
  const float* gg = gates + 2 * hid;
  const float* go = gates + 3 * hid;
  for (int64_t j = 0; j < hid; ++j) {
    const float i = 1.0f / (1.0f + std::exp(-gi[j]));
    const float f = 1.0f / (1.0f + std::exp(-gf[j]));
    const float o = 1.0f / (1.0f + std::exp(-go[j]));
    const float cj = f * c[j] + i * std::tanh(gg[j]);
    c[j] = cj;
    h[j] = o * std::tanh(cj);
  }
}

}  // namespace duet::rt
