// Internal to src/runtime: writing a micro-kernel's 6 x 16 tile of f32 results (twelve ymm, two per
// token row) into the output, masked to the columns that exist and added to what the output holds
// when a later input slice accumulates. Shared by the packed float GEMM and the integer GEMM. Must
// only be included inside a `#pragma GCC target("avx2,...")` region, and never write a column past
// nr or a row past m.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace duet::rt::kern {

// Stores the first m rows of acc[2 * row + half] to y (row stride ys), only columns < nr (of 16),
// adding what y holds when accumulating.
inline void store_tile_rows(const __m256* acc, int m, float* y, size_t ys, int nr, bool accumulate) {
  if (nr == 16) {
    for (int r = 0; r < m; ++r) {
      float* yr = y + static_cast<size_t>(r) * ys;
      __m256 lo = acc[2 * r], hi = acc[2 * r + 1];
      if (accumulate) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(yr));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(yr + 8));
      }
      _mm256_storeu_ps(yr, lo);
      _mm256_storeu_ps(yr + 8, hi);
    }
    return;
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i mask_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
  const __m256i mask_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
  for (int r = 0; r < m; ++r) {
    float* yr = y + static_cast<size_t>(r) * ys;
    __m256 lo = acc[2 * r], hi = acc[2 * r + 1];
    if (accumulate) {
      lo = _mm256_add_ps(lo, _mm256_maskload_ps(yr, mask_lo));
      hi = _mm256_add_ps(hi, _mm256_maskload_ps(yr + 8, mask_hi));
    }
    _mm256_maskstore_ps(yr, mask_lo, lo);
    _mm256_maskstore_ps(yr + 8, mask_hi, hi);
  }
}

}  // namespace duet::rt::kern
