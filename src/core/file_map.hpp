// A read-only memory map of a whole file. Model weights are used straight from the map, never
// copied. Must never hand out a pointer past the end of the file: callers get spans from bytes().
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace duet {

class FileMap {
 public:
  FileMap() = default;
  explicit FileMap(const std::filesystem::path& path);  // throws duet::Error
  ~FileMap();
  FileMap(FileMap&& other) noexcept;
  FileMap& operator=(FileMap&& other) noexcept;
  FileMap(const FileMap&) = delete;
  FileMap& operator=(const FileMap&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  void release() noexcept;
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace duet
