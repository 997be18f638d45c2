// GELU (tanh form) evaluated through a table over every F16 input, as llama.cpp does on the CPU:
// the input is rounded to F16, looked up, and the F16 result widened; |x| >= 10 short-cuts to 0 or
// x. Faster than tanh per element and keeps Duet's Gemma logits next to llama.cpp's. The table is
// built once, on first use, and never changes.
#pragma once

#include <cstdint>

namespace duet::rt {

// y = gelu_f16table(x), and y = gelu_f16table(gate) * up; outputs may alias inputs.
void gelu_table(const float* x, float* y, int64_t n);
void geglu_table(const float* gate, const float* up, float* y, int64_t n);

}  // namespace duet::rt
