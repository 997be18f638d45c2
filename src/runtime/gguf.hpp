// GGUF (v2/v3) model files: metadata and tensor views straight from a memory map, never copied.
// Every offset and size is checked against the file before use; a malformed file gives one
// duet::Error naming the file and the problem. Must never read outside the mapped bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/file_map.hpp"
#include "runtime/dtype.hpp"

namespace duet::rt {

// One metadata value. Arrays of numbers are widened to int64/double vectors for simplicity;
// arrays of strings keep their text (tokenizer vocabularies live here).
struct GgufArray {
  std::vector<int64_t> ints;         // for integer and bool arrays
  std::vector<double> floats;        // for float arrays
  std::vector<std::string> strings;  // for string arrays
  uint32_t elem_type = 0;            // GGUF value type of the elements
};
using GgufValue = std::variant<int64_t, uint64_t, double, bool, std::string, GgufArray>;

// A tensor as stored: ne[0] is the fastest-varying dimension (ggml order).
struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // elements per dimension, unused ones are 1
  const uint8_t* data = nullptr;  // into the map
  size_t nbytes = 0;
  int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  static GgufFile open(const std::filesystem::path& path);              // throws duet::Error
  static GgufFile parse(std::span<const uint8_t> bytes, std::string name);  // for fuzzing/tests; bytes must outlive it

  uint32_t version() const { return version_; }
  const std::string& name() const { return name_; }
  const std::map<std::string, GgufValue, std::less<>>& metadata() const { return meta_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  bool has(std::string_view key) const;
  const GgufValue* find(std::string_view key) const;
  // Typed getters: throw duet::Error naming the key when missing or of another type.
  std::string get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;  // any integer type, range-checked
  double get_float(std::string_view key) const;  // float or integer
  bool get_bool(std::string_view key) const;
  const GgufArray& get_array(std::string_view key) const;
  // Optional forms return the fallback when the key is absent (but still throw on a wrong type).
  int64_t get_int(std::string_view key, int64_t fallback) const;
  double get_float(std::string_view key, double fallback) const;
  std::string get_string(std::string_view key, std::string fallback) const;

  const TensorInfo* find_tensor(std::string_view name) const;
  const TensorInfo& tensor(std::string_view name) const;  // throws when missing

 private:
  GgufFile() = default;
  FileMap map_;
  std::string name_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue, std::less<>> meta_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace duet::rt
