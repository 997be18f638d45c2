// The traits tables (one row per type: scalar, AVX2, and AVX2 with the AVX-512 VNNI block
// kernels) and the run-time CPU dispatch. Must never hand out an AVX2 kernel on a CPU without
// AVX2/FMA/F16C or a VNNI one on a CPU without AVX-512 VNNI, and never mutate a table after it is
// built (they are function-local constants).
#include <array>
#include <cstdlib>

#include "core/error.hpp"
#include "runtime/quants_impl.hpp"

namespace duet::rt {
namespace {

using namespace kern;

QuantTraits row(DType type, DType act, ToFloatFn to, FromFloatFn from, VecDotFn dot, GemmTileFn gemm) {
  QuantTraits t;
  t.type = type;
  const auto layout = dtype_layout(static_cast<uint32_t>(type));
  t.block_elems = layout->block_elems;
  t.block_bytes = layout->block_bytes;
  t.act_type = act;
  t.to_float = to;
  t.from_float = from;
  t.vec_dot = dot;
  t.gemm = gemm;
  t.tile_rows = 4;
  t.tile_cols = 4;
  return t;
}

constexpr size_t kTableSize = 16;

std::array<QuantTraits, kTableSize> scalar_table() {
  using D = DType;
  return {{
      row(D::F32, D::F32, f32_to_float, float_to_f32, dot_f32_f32, gemm_by_dot<dot_f32_f32>),
      row(D::F16, D::F32, f16_to_float, float_to_f16, dot_f16_f32, gemm_by_dot<dot_f16_f32>),
      row(D::BF16, D::F32, bf16_to_float, float_to_bf16, dot_bf16_f32, gemm_by_dot<dot_bf16_f32>),
      row(D::Q4_0, D::Q8_0, q4_0_to_float, float_to_q4_0, dot_q4_0_q8_0, gemm_by_dot<dot_q4_0_q8_0>),
      row(D::Q4_1, D::Q8_1, q4_1_to_float, float_to_q4_1, dot_q4_1_q8_1, gemm_by_dot<dot_q4_1_q8_1>),
      row(D::Q5_0, D::Q8_0, q5_0_to_float, float_to_q5_0, dot_q5_0_q8_0, gemm_by_dot<dot_q5_0_q8_0>),
      row(D::Q5_1, D::Q8_1, q5_1_to_float, float_to_q5_1, dot_q5_1_q8_1, gemm_by_dot<dot_q5_1_q8_1>),
      row(D::Q8_0, D::Q8_0, q8_0_to_float, float_to_q8_0, dot_q8_0_q8_0, gemm_by_dot<dot_q8_0_q8_0>),
      row(D::Q8_1, D::Q8_1, q8_1_to_float, float_to_q8_1, nullptr, nullptr),
      row(D::Q2_K, D::Q8_K, q2_k_to_float, nullptr, nullptr, nullptr),
      row(D::Q3_K, D::Q8_K, q3_k_to_float, nullptr, nullptr, nullptr),
      row(D::Q4_K, D::Q8_K, q4_k_to_float, float_to_q4_k, dot_q4_k_q8_k, gemm_by_dot<dot_q4_k_q8_k>),
      row(D::Q5_K, D::Q8_K, q5_k_to_float, float_to_q5_k, dot_q5_k_q8_k, gemm_by_dot<dot_q5_k_q8_k>),
      row(D::Q6_K, D::Q8_K, q6_k_to_float, float_to_q6_k, dot_q6_k_q8_k, gemm_by_dot<dot_q6_k_q8_k>),
      row(D::Q8_K, D::Q8_K, q8_k_to_float, float_to_q8_k, nullptr, nullptr),
      row(D::F64, D::F32, nullptr, nullptr, nullptr, nullptr),  // known, not computable
  }};
}

// AVX2's table with the 32-element block kernels in their VNNI build (bit-identical results).
std::array<QuantTraits, kTableSize> vnni_table(std::array<QuantTraits, kTableSize> table) {
  for (QuantTraits& t : table) vnni_fill_q32(t);
  return table;
}

std::array<QuantTraits, kTableSize> avx2_table() {
  auto table = scalar_table();
  for (QuantTraits& t : table) {
    avx2_fill_q32(t);
    avx2_fill_k(t);
    avx2_fill_float(t);
  }
  return table;
}

const QuantTraits* find(const std::array<QuantTraits, kTableSize>& table, DType type) {
  for (const QuantTraits& t : table) {
    if (t.type == type) return t.to_float || t.vec_dot ? &t : nullptr;
  }
  return nullptr;
}

}  // namespace

bool cpu_has_avx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
  }();
  return has;
}

bool cpu_has_avx512() {
  static const bool has = [] {
    __builtin_cpu_init();
    return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }();
  return has;
}

MicroKernel best_micro_kernel() {
  static const MicroKernel kernel = [] {
    const char* no = std::getenv("DUET_NO_AVX512");
    const bool refused = no && *no && *no != '0';
    return cpu_has_avx512() && !refused ? MicroKernel::Avx512 : MicroKernel::Avx2;
  }();
  return kernel;
}

Isa best_isa() {
  static const Isa isa = [] {
    const char* force = std::getenv("DUET_FORCE_SCALAR");
    const bool forced = force && *force && *force != '0';
    return cpu_has_avx2() && !forced ? Isa::Avx2 : Isa::Scalar;
  }();
  return isa;
}

const QuantTraits* quant_traits(DType type, Isa isa) { return quant_traits(type, isa, best_micro_kernel()); }

const QuantTraits* quant_traits(DType type, Isa isa, MicroKernel kernel) {
  static const auto scalar = scalar_table();
  if (isa == Isa::Avx2 && cpu_has_avx2()) {
    static const auto avx2 = avx2_table();
    if (kernel == MicroKernel::Avx512 && cpu_has_avx512()) {
      static const auto vnni = vnni_table(avx2);
      return find(vnni, type);
    }
    return find(avx2, type);
  }
  return find(scalar, type);
}

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  const QuantTraits* t = quant_traits(type);
  if (!t || !t->to_float) fail("cannot read tensors of type {}", dtype_name(type));
  (void)dtype_row_bytes(type, n);  // checks n is whole blocks
  t->to_float(src, dst, n);
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  const QuantTraits* t = quant_traits(type);
  if (!t || !t->from_float) fail("cannot write tensors of type {}", dtype_name(type));
  (void)dtype_row_bytes(type, n);
  t->from_float(src, dst, n);
}

}  // namespace duet::rt
