// GGUF reader: parses the header, metadata and tensor table from a byte span with a bounds-checked
// cursor, then resolves each tensor's data range inside the data section. Any inconsistency is a
// duet::Error that names the file, the offset or tensor, and what to do; nothing is read unchecked.
#include "runtime/gguf.hpp"

#include <cstring>
#include <limits>
#include <type_traits>

#include "core/error.hpp"

namespace duet::rt {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxStringBytes = 1ull << 30;
constexpr int kMaxDims = 4;

enum ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// Minimal encoded size of one value of a type, used to reject absurd element counts up front.
uint64_t min_encoded_size(uint32_t type) {
  switch (type) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kU64: case kI64: case kF64: case kString: return 8;
    case kArray: return 12;
    default: return 0;
  }
}

class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  template <typename T>
  T read(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string read_string(const char* what) {
    const auto len = read<uint64_t>(what);
    if (len > kMaxStringBytes) {
      fail("{}: {} at offset {} claims {} bytes; the file is corrupt or not GGUF", name_, what,
           pos_ - 8, len);
    }
    need(len, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }

  void need(uint64_t n, const char* what) const {
    if (n > bytes_.size() - pos_) {
      fail("{}: truncated file: {} needs {} bytes at offset {} but only {} remain; "
           "re-download or re-convert the model (duet models pull)",
           name_, what, n, pos_, bytes_.size() - pos_);
    }
  }

  uint64_t remaining() const { return bytes_.size() - pos_; }
  uint64_t pos() const { return pos_; }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& name_;
  uint64_t pos_ = 0;
};

template <typename T>
int64_t read_int_as_i64(Cursor& c, const char* what) {
  return static_cast<int64_t>(c.read<T>(what));
}

GgufValue read_scalar(Cursor& c, uint32_t type, const std::string& key, const std::string& file) {
  const char* what = "metadata value";
  switch (type) {
    case kU8: return read_int_as_i64<uint8_t>(c, what);
    case kI8: return read_int_as_i64<int8_t>(c, what);
    case kU16: return read_int_as_i64<uint16_t>(c, what);
    case kI16: return read_int_as_i64<int16_t>(c, what);
    case kU32: return read_int_as_i64<uint32_t>(c, what);
    case kI32: return read_int_as_i64<int32_t>(c, what);
    case kI64: return c.read<int64_t>(what);
    case kU64: return c.read<uint64_t>(what);
    case kF32: return static_cast<double>(c.read<float>(what));
    case kF64: return c.read<double>(what);
    case kBool: {
      const auto b = c.read<uint8_t>(what);
      if (b > 1) fail("{}: metadata key '{}' has a bool of value {}", file, key, b);
      return b == 1;
    }
    case kString: return c.read_string("metadata string");
    default: fail("{}: metadata key '{}' has unknown value type {}", file, key, type);
  }
}

GgufArray read_array(Cursor& c, const std::string& key, const std::string& file) {
  GgufArray arr;
  arr.elem_type = c.read<uint32_t>("array element type");
  const auto count = c.read<uint64_t>("array length");
  const uint64_t min_size = min_encoded_size(arr.elem_type);
  if (min_size == 0) fail("{}: metadata array '{}' has unknown element type {}", file, key, arr.elem_type);
  if (arr.elem_type == kArray) fail("{}: metadata array '{}' nests arrays, which Duet does not read", file, key);
  if (count > c.remaining() / min_size) {
    fail("{}: metadata array '{}' claims {} elements, more than the file can hold", file, key, count);
  }
  for (uint64_t i = 0; i < count; ++i) {
    GgufValue v = read_scalar(c, arr.elem_type, key, file);
    if (auto* s = std::get_if<std::string>(&v)) {
      arr.strings.push_back(std::move(*s));
    } else if (auto* d = std::get_if<double>(&v)) {
      arr.floats.push_back(*d);
    } else if (auto* u = std::get_if<uint64_t>(&v)) {
      arr.ints.push_back(static_cast<int64_t>(*u));
    } else if (auto* b = std::get_if<bool>(&v)) {
      arr.ints.push_back(*b ? 1 : 0);
    } else {
      arr.ints.push_back(std::get<int64_t>(v));
    }
  }
  return arr;
}

const char* value_kind(const GgufValue& v) {
  switch (v.index()) {
    case 0: case 1: return "integer";
    case 2: return "float";
    case 3: return "bool";
    case 4: return "string";
    default: return "array";
  }
}

}  // namespace

GgufFile GgufFile::open(const std::filesystem::path& path) {
  FileMap map(path);
  GgufFile file = parse(map.bytes(), path.string());
  file.map_ = std::move(map);  // moving a FileMap keeps its pointers valid
  return file;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
  GgufFile f;
  f.name_ = std::move(name);
  const std::string& file = f.name_;
  Cursor c(bytes, file);

  if (bytes.size() < 4) fail("{}: file of {} bytes is too small to be GGUF", file, bytes.size());
  const auto magic = c.read<uint32_t>("magic");
  if (magic != kMagic) {
    fail("{}: not a GGUF file (magic bytes {:02x} {:02x} {:02x} {:02x}, expected 'GGUF'); "
         "convert the model to GGUF first",
         file, bytes[0], bytes[1], bytes[2], bytes[3]);
  }
  f.version_ = c.read<uint32_t>("version");
  if (f.version_ != 2 && f.version_ != 3) {
    fail("{}: GGUF version {} is not supported (Duet reads versions 2 and 3)", file, f.version_);
  }
  const auto n_tensors = c.read<uint64_t>("tensor count");
  const auto n_kv = c.read<uint64_t>("metadata count");
  // Each key-value pair needs at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at
  // least 8 + 4 + 4 + 8.
  if (n_kv > c.remaining() / 13) fail("{}: metadata count {} is larger than the file allows", file, n_kv);
  if (n_tensors > c.remaining() / 24) {
    fail("{}: tensor count {} is larger than the file allows", file, n_tensors);
  }

  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string("metadata key");
    const auto type = c.read<uint32_t>("metadata type");
    GgufValue value = type == kArray ? GgufValue(read_array(c, key, file)) : read_scalar(c, type, key, file);
    if (!f.meta_.emplace(key, std::move(value)).second) {
      fail("{}: metadata key '{}' appears twice", file, key);
    }
  }

  uint64_t alignment = 32;
  if (f.has("general.alignment")) {
    const int64_t a = f.get_int("general.alignment");
    if (a <= 0 || (a & (a - 1)) != 0 || a > 65536) {
      fail("{}: general.alignment = {} is not a power of two up to 65536", file, a);
    }
    alignment = static_cast<uint64_t>(a);
  }

  struct PendingTensor {
    TensorInfo info;
    uint64_t offset;
  };
  std::vector<PendingTensor> pending;
  pending.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    PendingTensor p;
    p.info.name = c.read_string("tensor name");
    const auto n_dims = c.read<uint32_t>("tensor dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) {
      fail("{}: tensor '{}' has {} dimensions (Duet supports 1 to {})", file, p.info.name, n_dims, kMaxDims);
    }
    p.info.n_dims = static_cast<int>(n_dims);
    uint64_t total = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = c.read<uint64_t>("tensor dimension");
      if (ne == 0 || ne > (1ull << 40) || total > (1ull << 42) / ne) {
        fail("{}: tensor '{}' has an absurd dimension {} (dimension {})", file, p.info.name, ne, d);
      }
      total *= ne;
      p.info.ne[d] = static_cast<int64_t>(ne);
    }
    const auto type_id = c.read<uint32_t>("tensor type");
    const auto layout = dtype_layout(type_id);
    if (!layout) {
      fail("{}: tensor '{}' has type id {}, which Duet does not support; re-quantize the model to a "
           "supported type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)",
           file, p.info.name, type_id);
    }
    p.info.type = static_cast<DType>(type_id);
    if (p.info.ne[0] % layout->block_elems != 0) {
      fail("{}: tensor '{}' has a row of {} elements, not a multiple of the {} block size {}", file,
           p.info.name, p.info.ne[0], layout->name, layout->block_elems);
    }
    p.info.nbytes = dtype_row_bytes(p.info.type, p.info.ne[0]) * static_cast<size_t>(p.info.rows());
    p.offset = c.read<uint64_t>("tensor offset");
    if (p.offset % alignment != 0) {
      fail("{}: tensor '{}' offset {} is not aligned to {}", file, p.info.name, p.offset, alignment);
    }
    pending.push_back(std::move(p));
  }

  const uint64_t data_start = (c.pos() + alignment - 1) / alignment * alignment;
  if (data_start > bytes.size() && n_tensors > 0) {
    fail("{}: truncated file: the tensor data section would start at {} but the file has {} bytes",
         file, data_start, bytes.size());
  }
  const uint64_t data_size = n_tensors > 0 ? bytes.size() - data_start : 0;
  f.tensors_.reserve(pending.size());
  for (auto& p : pending) {
    if (p.offset > data_size || p.info.nbytes > data_size - p.offset) {
      fail("{}: tensor '{}' data [{}, +{}) lies outside the file's data section of {} bytes; the "
           "file is truncated or corrupt: re-download it (duet models pull)",
           file, p.info.name, p.offset, p.info.nbytes, data_size);
    }
    p.info.data = bytes.data() + data_start + p.offset;
    if (!f.tensor_index_.emplace(p.info.name, f.tensors_.size()).second) {
      fail("{}: tensor '{}' appears twice", file, p.info.name);
    }
    f.tensors_.push_back(std::move(p.info));
  }
  return f;
}

bool GgufFile::has(std::string_view key) const { return meta_.find(key) != meta_.end(); }

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = meta_.find(key);
  return it == meta_.end() ? nullptr : &it->second;
}

namespace {
[[noreturn]] void missing_key(const std::string& file, std::string_view key) {
  fail("{}: required metadata key '{}' is missing; the file was not written for this model "
       "family or is incomplete",
       file, key);
}
[[noreturn]] void wrong_type(const std::string& file, std::string_view key, const char* want,
                             const GgufValue& v) {
  fail("{}: metadata key '{}' should be {} but is {}", file, key, want, value_kind(v));
}
}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) missing_key(name_, key);
  if (auto* s = std::get_if<std::string>(v)) return *s;
  wrong_type(name_, key, "a string", *v);
}

int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) missing_key(name_, key);
  if (auto* i = std::get_if<int64_t>(v)) return *i;
  if (auto* u = std::get_if<uint64_t>(v)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("{}: metadata key '{}' = {} is out of range", name_, key, *u);
    }
    return static_cast<int64_t>(*u);
  }
  wrong_type(name_, key, "an integer", *v);
}

double GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) missing_key(name_, key);
  if (auto* d = std::get_if<double>(v)) return *d;
  if (std::holds_alternative<int64_t>(*v) || std::holds_alternative<uint64_t>(*v)) {
    return static_cast<double>(get_int(key));
  }
  wrong_type(name_, key, "a number", *v);
}

bool GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) missing_key(name_, key);
  if (auto* b = std::get_if<bool>(v)) return *b;
  wrong_type(name_, key, "a bool", *v);
}

const GgufArray& GgufFile::get_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) missing_key(name_, key);
  if (auto* a = std::get_if<GgufArray>(v)) return *a;
  wrong_type(name_, key, "an array", *v);
}

int64_t GgufFile::get_int(std::string_view key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double GgufFile::get_float(std::string_view key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}

std::string GgufFile::get_string(std::string_view key, std::string fallback) const {
  return has(key) ? get_string(key) : fallback;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& GgufFile::tensor(std::string_view name) const {
  const TensorInfo* t = find_tensor(name);
  if (!t) fail("{}: tensor '{}' is missing; the file does not match its declared architecture", name_, name);
  return *t;
}

}  // namespace duet::rt
