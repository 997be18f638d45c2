// Weights converted at load to the type a model's kernels read fastest (for example F16 rows to
// Q8_0 for a memory-bound decoder: half the bytes each token must stream). The caller owns the
// bytes; views made from them stay valid while the vector lives (moving it keeps its buffer).
// Must never be called on the audio path: it allocates and walks every weight.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/matmul.hpp"

namespace duet::rt {

// w's rows converted to `to` (through f32), as the bytes of a [w.n_out, w.n_in] tensor of that
// type. Throws duet::Error when Duet cannot read w's type or write `to`, or n_in is not a whole
// number of `to`'s blocks.
std::vector<uint8_t> requantize_rows(const WeightView& w, DType to);

// requantize_rows() kept in `store`, and a view of it.
WeightView requantized_view(const WeightView& w, DType to, std::vector<std::vector<uint8_t>>& store);

}  // namespace duet::rt
