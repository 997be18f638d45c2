// Test-only: how many times the global operator new has run in this process, so a test can check
// that a steady-state call makes no heap allocation. Must never be linked into the product.
#pragma once

namespace duet::test {
long allocation_count();
}  // namespace duet::test
