// Test-only replacement of the global operator new/delete that counts allocations (kept in its
// own file so the compiler never pairs the malloc inside with a delete it inlines elsewhere).
// Must never be linked into the product.
#include "alloc_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> g_count{0};
}  // namespace

long duet::test::allocation_count() { return g_count.load(std::memory_order_relaxed); }

void* operator new(std::size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
