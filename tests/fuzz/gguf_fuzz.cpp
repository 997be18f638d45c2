// libFuzzer target for the GGUF reader: any byte string must parse or raise duet::Error, and every
// tensor view must lie inside the input. Must never catch anything but duet::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.hpp"
#include "runtime/gguf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = duet::rt::GgufFile::parse({data, size}, "fuzz.gguf");
    for (const auto& t : f.tensors()) {
      if (t.data < data || t.data + t.nbytes > data + size) std::abort();
    }
  } catch (const duet::Error&) {
  }
  return 0;
}
