// Internal to the integer GEMMs' packing (gemm_int16.cpp, gemm_int8.cpp): one weight row read as
// floats and quantized symmetrically with one scale for the row. Runs at load only; must never be
// used while multiplying.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.hpp"
#include "runtime/matmul.hpp"
#include "runtime/quants.hpp"

namespace duet::rt {

// Reads row o of w into `row` (w.n_in floats), checks that every value is finite (`what` names the
// packing in the error), hands put(k, q) each input's quantized value q = round(row[k] / scale)
// clamped to [-q_max, q_max], and returns scale = max |row| / q_max (0 for an all-zero row, whose
// q are all 0).
template <class Put>
float quantize_weight_row(const WeightView& w, int64_t o, int32_t q_max, const char* what, std::vector<float>& row,
                          Put&& put) {
  row.resize(static_cast<size_t>(w.n_in));
  dequantize_row(w.type, w.data + static_cast<size_t>(o) * w.row_bytes, row.data(), w.n_in);
  float max_abs = 0.0f;
  for (int64_t k = 0; k < w.n_in; ++k) {
    if (!std::isfinite(row[k])) fail("{}: weight row {} holds a non-finite value", what, o);
    max_abs = std::max(max_abs, std::fabs(row[k]));
  }
  const float scale = max_abs / static_cast<float>(q_max);
  const float inv = max_abs > 0.0f ? 1.0f / scale : 0.0f;
  for (int64_t k = 0; k < w.n_in; ++k) {
    put(k, static_cast<int32_t>(std::clamp<long>(std::lrint(row[k] * inv), -q_max, q_max)));
  }
  return scale;
}

}  // namespace duet::rt
