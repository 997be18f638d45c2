// Tensor element types, with the numeric ids GGUF uses, and their block layout (elements per block
// and bytes per block). Must never change an id: they are the on-disk format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace duet::rt {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

struct DTypeLayout {
  std::string_view name;
  int64_t block_elems;  // elements per block (1 for plain types)
  size_t block_bytes;   // bytes per block
};

// Layout of a type Duet can store; nullopt for ids Duet does not know (a clear error upstream).
std::optional<DTypeLayout> dtype_layout(uint32_t id);
std::string_view dtype_name(DType type);
// The type with this name ("Q4_K", "F16", as dtype_name spells it); nullopt when unknown.
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes for n elements of type t (n must be a multiple of the block size).
size_t dtype_row_bytes(DType type, int64_t n);

}  // namespace duet::rt
