// Recurrent cells for streaming models (Silero VAD's LSTM now; any LSTM later): one time step of
// an LSTM cell over the runtime's matmul, and the logistic sigmoid its gates use. PyTorch's
// nn.LSTMCell semantics and gate order (i, f, g, o), which is also how ONNX exporters store
// them before reslicing. Must never allocate or keep state: h and c belong to the caller (a
// per-stream state object) and the scratch is sized once with lstm_scratch_*().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/matmul.hpp"

namespace duet::rt {

class ThreadPool;

// y = 1 / (1 + exp(-x)) over n values; y may be x.
void sigmoid(const float* x, float* y, int64_t n);

struct LstmWeights {
  WeightView w_ih;              // [4*hidden, n_input] (n_out = 4*hidden, n_in = n_input)
  WeightView w_hh;              // [4*hidden, hidden]
  const float* b_ih = nullptr;  // f32 [4*hidden] or null
  const float* b_hh = nullptr;  // f32 [4*hidden] or null
  int64_t hidden() const { return w_hh.n_in; }
  int64_t n_input() const { return w_ih.n_in; }
};

// Floats of gate scratch and bytes of matmul scratch lstm_cell() needs.
size_t lstm_scratch_floats(const LstmWeights& w);
size_t lstm_matmul_scratch_bytes(const LstmWeights& w);

// One step, in place on the state:
//   gates = W_ih x + b_ih + W_hh h + b_hh            (i, f, g, o blocks of `hidden`)
//   c = sigmoid(f) * c + sigmoid(i) * tanh(g);  h = sigmoid(o) * tanh(c)
// x f32 [n_input] (must not alias h or c); h, c f32 [hidden] (read, then overwritten). Throws
// duet::Error on inconsistent shapes or short scratch. pool may be null.
void lstm_cell(const LstmWeights& w, const float* x, float* h, float* c, std::span<float> scratch,
               std::span<uint8_t> mm_scratch, ThreadPool* pool);

}  // namespace duet::rt
