// Zero-filled memory whose pages become resident only when first written: an anonymous private
// mapping. Caches sized for the longest context (an LLM's KV cache, Whisper's cross-attention
// keys for 30 s of audio) then cost each session only the positions it actually uses, and the
// memory goes back to the system the moment the buffer is destroyed.
// Must never be copied (it owns a mapping) and never hand out memory past size().
#pragma once

#include <cstddef>
#include <cstdint>

namespace duet::rt {

class ZeroedPages {
 public:
  ZeroedPages() = default;
  // Throws duet::Error when the system refuses the mapping.
  explicit ZeroedPages(size_t bytes);
  ~ZeroedPages();
  ZeroedPages(ZeroedPages&& other) noexcept;
  ZeroedPages& operator=(ZeroedPages&& other) noexcept;
  ZeroedPages(const ZeroedPages&) = delete;
  ZeroedPages& operator=(const ZeroedPages&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void release();
};

}  // namespace duet::rt
