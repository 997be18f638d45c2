// The table-driven core of the runtime: one traits row per tensor type with its row converters and
// dot-product kernels, in two flavours: the scalar reference (the definition every test compares
// against) and the AVX2/FMA one chosen at run time (whose 32-element block kernels have an
// AVX-512 VNNI build too, with the same bits). Must never hold mutable state: the tables are
// built once into function-local constants.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/dtype.hpp"

namespace duet::rt {

enum class Isa { Scalar, Avx2 };

// AVX2+FMA+F16C when this CPU has them and DUET_FORCE_SCALAR is not set in the environment
// (read once); Scalar otherwise.
Isa best_isa();
bool cpu_has_avx2();

// The micro-kernels of the packed GEMMs (gemm_float.hpp, gemm_int16.hpp) come in two widths over
// the same packed data, with bit-identical results: AVX2 (8 f32 lanes) and AVX-512 (16 lanes,
// and VNNI's multiply-add of int16 pairs).
enum class MicroKernel { Avx2, Avx512 };
// Avx512 when this CPU has AVX-512 F/BW/VL/VNNI (cpu_has_avx512()) and DUET_NO_AVX512 is not set
// in the environment (read once); Avx2 otherwise.
MicroKernel best_micro_kernel();
bool cpu_has_avx512();

// dst f32 [n] <- src row of n elements (n a multiple of the block size).
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
// dst row of n elements <- src f32 [n].
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot of one weight row (n elements of the traits' type) with one activation row (n elements of
// the traits' act_type).
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
// A tile of dots: y[c * y_stride + r] = dot(row r of w, row c of a) for r < nr, c < nc, where row r
// of w starts at w + r * w_stride bytes and row c of a at a + c * a_stride bytes.
// nr <= tile_rows and nc <= tile_cols of the traits row.
using GemmTileFn = void (*)(int64_t n, const void* w, size_t w_stride, int nr, const void* a,
                            size_t a_stride, int nc, float* y, size_t y_stride);

struct QuantTraits {
  DType type = DType::F32;
  int64_t block_elems = 1;  // elements per block
  size_t block_bytes = 4;   // bytes per block
  DType act_type = DType::F32;      // activations are converted to this type for dots
  ToFloatFn to_float = nullptr;     // nullptr: Duet cannot read this type
  FromFloatFn from_float = nullptr; // nullptr: Duet cannot write this type
  VecDotFn vec_dot = nullptr;       // nullptr: not usable as a matmul weight
  GemmTileFn gemm = nullptr;
  // Optional: the same dots as gemm, bit for bit, for any nr and nc (a whole prompt against a run
  // of rows); it decodes each weight row once for all the tokens. nullptr: call gemm per tile.
  GemmTileFn gemm_rows = nullptr;
  int tile_rows = 1;  // largest nr gemm takes
  int tile_cols = 1;  // largest nc gemm takes
};

// The traits row of a type for an ISA (Avx2 on a CPU without it falls back to Scalar); nullptr for
// types Duet has no kernels for. With Avx2, the micro-kernel width picks the 32-element block
// kernels' build: Avx512 uses VNNI's byte dot product (on a CPU without it, AVX2's). Both builds
// give bit-identical results.
const QuantTraits* quant_traits(DType type, Isa isa = best_isa());
const QuantTraits* quant_traits(DType type, Isa isa, MicroKernel kernel);

// Convenience wrappers over the table (best ISA); they throw duet::Error for unsupported types.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);
void quantize_row(DType type, const float* src, void* dst, int64_t n);

}  // namespace duet::rt
