// The quantized block layouts exactly as GGUF/ggml store them on disk (little-endian, packed).
// Must never change a field or its order: static_asserts pin every size to the file format.
#pragma once

#include <cstddef>
#include <cstdint>

namespace duet::rt {

inline constexpr int kQK = 32;    // elements per block of the 32-wide types
inline constexpr int kQKK = 256;  // elements per K-quant super-block
inline constexpr int kKScaleBytes = 12;

// x = d * (q - 8); q in [0, 15]; element j in the low nibble of qs[j], element j+16 in the high.
struct BlockQ4_0 {
  uint16_t d;               // fp16 scale
  uint8_t qs[kQK / 2];      // 4-bit quants
};
// x = d * q + m
struct BlockQ4_1 {
  uint16_t d;               // fp16 scale
  uint16_t m;               // fp16 min
  uint8_t qs[kQK / 2];
};
// x = d * (q - 16); q = low 4 bits from qs (as Q4_0) | bit j of qh << 4
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];            // 5th bit of each of the 32 quants, little-endian uint32
  uint8_t qs[kQK / 2];
};
// x = d * q + m; q as Q5_0
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
// x = d * q
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
// x = d * q; s = d * sum(q) (fp16), so mins of Q4_1/Q5_1 fold into one product per block
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};
// 16 sub-blocks of 16: x = d * (scale4 * q2) - dmin * min4
struct BlockQ2_K {
  uint8_t scales[kQKK / 16];  // low nibble scale, high nibble min
  uint8_t qs[kQKK / 4];       // 2-bit quants
  uint16_t d;
  uint16_t dmin;
};
// 16 sub-blocks of 16: x = d * (scale6 - 32) * (q2 - 4 * !hbit)
struct BlockQ3_K {
  uint8_t hmask[kQKK / 8];
  uint8_t qs[kQKK / 4];
  uint8_t scales[kKScaleBytes];  // 16 6-bit scales
  uint16_t d;
};
// 8 sub-blocks of 32: x = d * sc * q - dmin * m, sc and m 6-bit, packed in `scales`:
// bytes 0-3: sc[0..3] (low 6 bits), high 2 bits = sc[4..7] bits 4-5
// bytes 4-7: m[0..3] (low 6 bits),  high 2 bits = m[4..7] bits 4-5
// bytes 8-11: low nibble sc[4..7] bits 0-3, high nibble m[4..7] bits 0-3
// qs: 4 chunks of 32 bytes; chunk c holds sub-block 2c in low nibbles, 2c+1 in high nibbles.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQKK / 2];
};
// As Q4_K plus a 5th bit: bit 2c of qh[l] for element l of sub-block 2c, bit 2c+1 for 2c+1.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
// 16 sub-blocks of 16: x = d * scales[i] * (q6 - 32). Two halves of 128; in half h, for l < 32:
// q(l)    = ql[l] & 15      | (qh[l] >> 0 & 3) << 4      q(l+32) = ql[l+32] & 15 | (qh[l] >> 2 & 3) << 4
// q(l+64) = ql[l] >> 4      | (qh[l] >> 4 & 3) << 4      q(l+96) = ql[l+32] >> 4 | (qh[l] >> 6 & 3) << 4
// with ql = ql + 64h, qh = qh + 32h.
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
// Activations for K-quant dots: x = d * q, bsums[i] = sum of q over the 16 elements of group i.
struct BlockQ8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(alignof(BlockQ4_0) == 2 && alignof(BlockQ8_K) == 4);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block.
inline void k_scale_min(const uint8_t* q, int j, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace duet::rt
