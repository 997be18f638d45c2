// Scalar reference kernels: dequantization of every readable type and the weight x activation dot
// products. These define the numbers: AVX2 kernels are tested against them. Must never use
// CPU-specific code or reassociate in ways the comments do not state.
#include <cstring>

#include "runtime/half.hpp"
#include "runtime/quant_blocks.hpp"
#include "runtime/quants_impl.hpp"

namespace duet::rt::kern {
namespace {

template <typename Block>
const Block* blocks(const void* p) {
  return static_cast<const Block*>(p);
}

// Unpacks a Q5 block's 32 quants (0..31) from 4-bit qs and the qh bit field.
inline void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, uint8_t* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = static_cast<uint8_t>((qs[j] & 0xF) | (((qh >> j) & 1u) << 4));
    q[j + 16] = static_cast<uint8_t>((qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
  }
}

// Unpacks the 16 6-bit Q3_K scales (still biased by 32).
inline void unpack_q3_k_scales(const uint8_t* s, int* out) {
  for (int i = 0; i < 16; ++i) {
    const int low = i < 8 ? (s[i] & 0xF) : (s[i - 8] >> 4);
    const int high = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    out[i] = (low | (high << 4)) - 32;
  }
}

}  // namespace

// ---------------------------------------------------------------- dequantization

void f32_to_float(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void f16_to_float(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
}

void q4_0_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ4_0>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * static_cast<float>((b[i].qs[j] & 0xF) - 8);
      dst[j + 16] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
    }
  }
}

void q4_1_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ4_1>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_fp32(b[i].d);
    const float m = fp16_to_fp32(b[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * static_cast<float>(b[i].qs[j] & 0xF) + m;
      dst[j + 16] = d * static_cast<float>(b[i].qs[j] >> 4) + m;
    }
  }
}

void q5_0_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ5_0>(src);
  uint8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_fp32(b[i].d);
    unpack_q5(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j] - 16);
  }
}

void q5_1_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ5_1>(src);
  uint8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_fp32(b[i].d);
    const float m = fp16_to_fp32(b[i].m);
    unpack_q5(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(q[j]) + m;
  }
}

void q8_0_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ8_0>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void q8_1_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ8_1>(src);
  for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void q2_k_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ2_K>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    const float dmin = fp16_to_fp32(b[i].dmin);
    // Element e = 128h + 32s + l holds bits 2s..2s+1 of qs[32h + l]; sub-block e / 16.
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, s = (e / 32) % 4, l = e % 32;
      const uint8_t sc = b[i].scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0xF);
      const float ml = dmin * static_cast<float>(sc >> 4);
      *dst++ = dl * static_cast<float>((b[i].qs[32 * h + l] >> (2 * s)) & 3) - ml;
    }
  }
}

void q3_k_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ3_K>(src);
  int sc[16];
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    unpack_q3_k_scales(b[i].scales, sc);
    // Element e = 128h + 32s + l: low bits 2s.. of qs[32h + l]; high bit e/32 of hmask[l].
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, s = (e / 32) % 4, l = e % 32;
      const int low = (b[i].qs[32 * h + l] >> (2 * s)) & 3;
      const int hbit = (b[i].hmask[l] >> (e / 32)) & 1;
      const float dl = d * static_cast<float>(sc[e / 16]);
      *dst++ = dl * static_cast<float>(low - (hbit ? 0 : 4));
    }
  }
}

void q4_k_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ4_K>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    const float dmin = fp16_to_fp32(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = b[i].qs + 32 * c;
      for (int half = 0; half < 2; ++half) {
        uint8_t sc, m;
        k_scale_min(b[i].scales, 2 * c + half, &sc, &m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = dmin * static_cast<float>(m);
        for (int l = 0; l < 32; ++l) {
          *dst++ = d1 * static_cast<float>(half ? (q[l] >> 4) : (q[l] & 0xF)) - m1;
        }
      }
    }
  }
}

void q5_k_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ5_K>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    const float dmin = fp16_to_fp32(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = b[i].qs + 32 * c;
      for (int half = 0; half < 2; ++half) {
        const int sub = 2 * c + half;
        uint8_t sc, m;
        k_scale_min(b[i].scales, sub, &sc, &m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = dmin * static_cast<float>(m);
        for (int l = 0; l < 32; ++l) {
          const int low = half ? (q[l] >> 4) : (q[l] & 0xF);
          const int high = (b[i].qh[l] >> sub) & 1;
          *dst++ = d1 * static_cast<float>(low | (high << 4)) - m1;
        }
      }
    }
  }
}

namespace {
// The 6-bit quant (0..63) of element e of a Q6_K block.
inline int q6_k_quant(const BlockQ6_K& b, int e) {
  const int h = e / 128, r = e % 128, part = r / 32, l = r % 32;
  const uint8_t* ql = b.ql + 64 * h;
  const uint8_t qh = b.qh[32 * h + l];
  const int low = (part & 1) ? ql[l + 32] : ql[l];
  const int nib = (part < 2) ? (low & 0xF) : (low >> 4);
  return nib | (((qh >> (2 * part)) & 3) << 4);
}
}  // namespace

void q6_k_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ6_K>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    for (int e = 0; e < kQKK; ++e) {
      const float dl = d * static_cast<float>(b[i].scales[e / 16]);
      *dst++ = dl * static_cast<float>(q6_k_quant(b[i], e) - 32);
    }
  }
}

void q8_k_to_float(const void* src, float* dst, int64_t n) {
  const auto* b = blocks<BlockQ8_K>(src);
  for (int64_t i = 0; i < n / kQKK; ++i) {
    for (int j = 0; j < kQKK; ++j) *dst++ = b[i].d * static_cast<float>(b[i].qs[j]);
  }
}

// ---------------------------------------------------------------- dots
// Float types: one float accumulator in element order.
// 32-blocks: sum over blocks of (d_w * d_a) * isum [+ m_w * s_a], accumulated in float.
// K types: per super-block, (d_w * d_a) * isum - (dmin_w * d_a) * isum_min, accumulated in float.

float dot_f32_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

float dot_f16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += fp16_to_fp32(x[i]) * y[i];
  return sum;
}

float dot_bf16_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += bf16_to_fp32(x[i]) * y[i];
  return sum;
}

float dot_q4_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ4_0>(w);
  const auto* y = blocks<BlockQ8_0>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    }
    sum += fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_1_q8_1(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ4_1>(w);
  const auto* y = blocks<BlockQ8_1>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
    }
    sum += fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d) * static_cast<float>(isum) +
           fp16_to_fp32(x[i].m) * fp16_to_fp32(y[i].s);
  }
  return sum;
}

float dot_q5_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ5_0>(w);
  const auto* y = blocks<BlockQ8_0>(a);
  uint8_t q[kQK];
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_q5(x[i].qs, x[i].qh, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += (q[j] - 16) * y[i].qs[j];
    sum += fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q5_1_q8_1(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ5_1>(w);
  const auto* y = blocks<BlockQ8_1>(a);
  uint8_t q[kQK];
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_q5(x[i].qs, x[i].qh, q);
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += q[j] * y[i].qs[j];
    sum += fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d) * static_cast<float>(isum) +
           fp16_to_fp32(x[i].m) * fp16_to_fp32(y[i].s);
  }
  return sum;
}

float dot_q8_0_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ8_0>(w);
  const auto* y = blocks<BlockQ8_0>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    int isum = 0;
    for (int j = 0; j < kQK; ++j) isum += x[i].qs[j] * y[i].qs[j];
    sum += fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ4_K>(w);
  const auto* y = blocks<BlockQ8_K>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int isum = 0, isum_min = 0;
    for (int sub = 0; sub < 8; ++sub) {
      uint8_t sc, m;
      k_scale_min(x[i].scales, sub, &sc, &m);
      const uint8_t* q = x[i].qs + 32 * (sub / 2);
      const int8_t* qa = y[i].qs + 32 * sub;
      int s = 0;
      for (int l = 0; l < 32; ++l) s += ((sub & 1) ? (q[l] >> 4) : (q[l] & 0xF)) * qa[l];
      isum += sc * s;
      isum_min += m * (y[i].bsums[2 * sub] + y[i].bsums[2 * sub + 1]);
    }
    const float d = fp16_to_fp32(x[i].d) * y[i].d;
    const float dmin = fp16_to_fp32(x[i].dmin) * y[i].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(isum_min);
  }
  return sum;
}

float dot_q5_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ5_K>(w);
  const auto* y = blocks<BlockQ8_K>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int isum = 0, isum_min = 0;
    for (int sub = 0; sub < 8; ++sub) {
      uint8_t sc, m;
      k_scale_min(x[i].scales, sub, &sc, &m);
      const uint8_t* q = x[i].qs + 32 * (sub / 2);
      const int8_t* qa = y[i].qs + 32 * sub;
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        const int low = (sub & 1) ? (q[l] >> 4) : (q[l] & 0xF);
        s += (low | (((x[i].qh[l] >> sub) & 1) << 4)) * qa[l];
      }
      isum += sc * s;
      isum_min += m * (y[i].bsums[2 * sub] + y[i].bsums[2 * sub + 1]);
    }
    const float d = fp16_to_fp32(x[i].d) * y[i].d;
    const float dmin = fp16_to_fp32(x[i].dmin) * y[i].d;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(isum_min);
  }
  return sum;
}

float dot_q6_k_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = blocks<BlockQ6_K>(w);
  const auto* y = blocks<BlockQ8_K>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQKK; ++i) {
    int isum = 0;
    for (int sub = 0; sub < 16; ++sub) {
      int s = 0;
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * sub + l;
        s += (q6_k_quant(x[i], e) - 32) * y[i].qs[e];
      }
      isum += x[i].scales[sub] * s;
    }
    sum += fp16_to_fp32(x[i].d) * y[i].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace duet::rt::kern
