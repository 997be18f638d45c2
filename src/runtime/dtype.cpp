// The table of tensor element types Duet knows: GGUF id, name, block shape. Must never guess a
// layout for an id it does not list: unknown ids give nullopt so the caller can name the problem.
#include "runtime/dtype.hpp"

#include <array>

#include "core/error.hpp"

namespace duet::rt {
namespace {

struct Row {
  uint32_t id;
  DTypeLayout layout;
};

// Sizes follow ggml's block structs (see quant_blocks.hpp, which static_asserts the same numbers).
constexpr std::array<Row, 20> kRows = {{
    {0, {"F32", 1, 4}},
    {1, {"F16", 1, 2}},
    {2, {"Q4_0", 32, 18}},
    {3, {"Q4_1", 32, 20}},
    {6, {"Q5_0", 32, 22}},
    {7, {"Q5_1", 32, 24}},
    {8, {"Q8_0", 32, 34}},
    {9, {"Q8_1", 32, 36}},
    {10, {"Q2_K", 256, 84}},
    {11, {"Q3_K", 256, 110}},
    {12, {"Q4_K", 256, 144}},
    {13, {"Q5_K", 256, 176}},
    {14, {"Q6_K", 256, 210}},
    {15, {"Q8_K", 256, 292}},
    {24, {"I8", 1, 1}},
    {25, {"I16", 1, 2}},
    {26, {"I32", 1, 4}},
    {27, {"I64", 1, 8}},
    {28, {"F64", 1, 8}},
    {30, {"BF16", 1, 2}},
}};

}  // namespace

std::optional<DTypeLayout> dtype_layout(uint32_t id) {
  for (const Row& row : kRows) {
    if (row.id == id) return row.layout;
  }
  return std::nullopt;
}

std::string_view dtype_name(DType type) {
  auto layout = dtype_layout(static_cast<uint32_t>(type));
  return layout ? layout->name : std::string_view("unknown");
}

size_t dtype_row_bytes(DType type, int64_t n) {
  auto layout = dtype_layout(static_cast<uint32_t>(type));
  if (!layout) fail("unknown tensor type id {}", static_cast<uint32_t>(type));
  if (n < 0 || n % layout->block_elems != 0) {
    fail("{} elements is not a whole number of {} blocks ({} elements each)", n, layout->name,
         layout->block_elems);
  }
  return static_cast<size_t>(n / layout->block_elems) * layout->block_bytes;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const Row& row : kRows) {
    if (row.layout.name == name) return static_cast<DType>(row.id);
  }
  return std::nullopt;
}

}  // namespace duet::rt
