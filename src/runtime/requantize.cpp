// Load-time conversion of weight rows from one type to another through f32 (requantize.hpp).
// Must never be called per token: it allocates.
#include "runtime/requantize.hpp"

#include "core/error.hpp"
#include "runtime/quants.hpp"

namespace duet::rt {

std::vector<uint8_t> requantize_rows(const WeightView& w, DType to) {
  if (w.n_in <= 0 || w.n_out <= 0 || !w.data) fail("requantize: empty weights ({} x {})", w.n_out, w.n_in);
  const size_t out_row = dtype_row_bytes(to, w.n_in);
  std::vector<uint8_t> bytes(out_row * static_cast<size_t>(w.n_out));
  std::vector<float> row(static_cast<size_t>(w.n_in));
  for (int64_t o = 0; o < w.n_out; ++o) {
    dequantize_row(w.type, w.data + static_cast<size_t>(o) * w.row_bytes, row.data(), w.n_in);
    quantize_row(to, row.data(), bytes.data() + static_cast<size_t>(o) * out_row, w.n_in);
  }
  return bytes;
}

WeightView requantized_view(const WeightView& w, DType to, std::vector<std::vector<uint8_t>>& store) {
  store.push_back(requantize_rows(w, to));
  return WeightView::of(to, w.n_in, w.n_out, store.back().data());
}

}  // namespace duet::rt
