// dequant_dump TYPE IN OUT: reads raw blocks of TYPE (a GGUF type name such as Q4_K) from IN and
// writes their dequantized values to OUT as little-endian float32, using the scalar reference
// kernels. For peer checks against gguf-py. Must never accept a file that is not whole blocks.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runtime/dtype.hpp"
#include "runtime/quants.hpp"

int main(int argc, char** argv) {
  using namespace duet::rt;
  if (argc != 4) {
    std::fprintf(stderr, "usage: dequant_dump TYPE IN OUT\n");
    return 2;
  }
  const auto type = dtype_from_name(argv[1]);
  if (!type) {
    std::fprintf(stderr, "dequant_dump: unknown type %s\n", argv[1]);
    return 2;
  }
  const QuantTraits* t = quant_traits(*type, Isa::Scalar);
  if (!t || !t->to_float) {
    std::fprintf(stderr, "dequant_dump: cannot dequantize %s\n", argv[1]);
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "dequant_dump: cannot read %s\n", argv[2]);
    return 1;
  }
  const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (raw.size() % t->block_bytes != 0) {
    std::fprintf(stderr, "dequant_dump: %zu bytes is not a whole number of %s blocks (%zu bytes)\n",
                 raw.size(), argv[1], t->block_bytes);
    return 1;
  }
  const int64_t n = static_cast<int64_t>(raw.size() / t->block_bytes) * t->block_elems;
  std::vector<float> out(static_cast<size_t>(n));
  t->to_float(raw.data(), out.data(), n);
  std::ofstream os(argv[3], std::ios::binary);
  os.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(float)));
  if (!os) {
    std::fprintf(stderr, "dequant_dump: cannot write %s\n", argv[3]);
    return 1;
  }
  return 0;
}
