// Test helper: writes small GGUF files byte by byte, including deliberately broken ones, so the
// reader's checks can be exercised. Test-only; must never be used by the engine.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace duet::test {

class GgufBuilder {
 public:
  explicit GgufBuilder(uint32_t version = 3, uint32_t magic = 0x46554747) {
    put<uint32_t>(magic);
    put<uint32_t>(version);
    counts_at_ = bytes_.size();
    put<uint64_t>(0);  // tensor count, patched by finish()
    put<uint64_t>(0);  // kv count, patched by finish()
  }

  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }

  GgufBuilder& kv_u32(const std::string& key, uint32_t v) {
    put_string(key);
    put<uint32_t>(4);
    put<uint32_t>(v);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_f32(const std::string& key, float v) {
    put_string(key);
    put<uint32_t>(6);
    put<float>(v);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_string(const std::string& key, const std::string& v) {
    put_string(key);
    put<uint32_t>(8);
    put_string(v);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_strings(const std::string& key, const std::vector<std::string>& v) {
    put_string(key);
    put<uint32_t>(9);
    put<uint32_t>(8);
    put<uint64_t>(v.size());
    for (const auto& s : v) put_string(s);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& kv_i32s(const std::string& key, const std::vector<int32_t>& v) {
    put_string(key);
    put<uint32_t>(9);
    put<uint32_t>(5);
    put<uint64_t>(v.size());
    for (int32_t x : v) put<int32_t>(x);
    ++n_kv_;
    return *this;
  }
  // Declares a tensor; its data is appended by finish() in declaration order unless offset given.
  GgufBuilder& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type,
                      std::vector<uint8_t> data, int64_t offset_override = -1) {
    put_string(name);
    put<uint32_t>(static_cast<uint32_t>(dims.size()));
    for (auto d : dims) put<uint64_t>(d);
    put<uint32_t>(type);
    const uint64_t offset = offset_override >= 0 ? static_cast<uint64_t>(offset_override) : data_.size();
    put<uint64_t>(offset);
    data_.insert(data_.end(), data.begin(), data.end());
    while (data_.size() % 32 != 0) data_.push_back(0);
    ++n_tensors_;
    return *this;
  }

  std::vector<uint8_t> finish() const {
    std::vector<uint8_t> out = bytes_;
    std::memcpy(out.data() + counts_at_, &n_tensors_, 8);
    std::memcpy(out.data() + counts_at_ + 8, &n_kv_, 8);
    while (out.size() % 32 != 0) out.push_back(0);
    out.insert(out.end(), data_.begin(), data_.end());
    return out;
  }

 private:
  std::vector<uint8_t> bytes_;
  std::vector<uint8_t> data_;
  size_t counts_at_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
};

inline std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace duet::test
