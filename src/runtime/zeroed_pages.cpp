// ZeroedPages: see zeroed_pages.hpp. The kernel maps every page of a fresh anonymous mapping to
// the shared zero page until it is written, so reading untouched memory costs nothing either.
#include "runtime/zeroed_pages.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.hpp"

namespace duet::rt {

ZeroedPages::ZeroedPages(size_t bytes) {
  if (bytes == 0) return;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    fail("cannot reserve {} MiB of zeroed memory: {} (lower the context size or free memory)",
         bytes >> 20, std::strerror(errno));
  }
  data_ = static_cast<uint8_t*>(p);
  size_ = bytes;
}

ZeroedPages::~ZeroedPages() { release(); }

ZeroedPages::ZeroedPages(ZeroedPages&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ZeroedPages& ZeroedPages::operator=(ZeroedPages&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void ZeroedPages::release() {
  if (data_) munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace duet::rt
