// Scalar reference quantizers: f32 rows -> F16/BF16/Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q8_1/Q4_K/Q5_K/
// Q6_K/Q8_K blocks. Activation quantizers (Q8_0, Q8_1, Q8_K) round half to even so the AVX2 ones
// give the same bytes. Weight quantizers are simple (no error search): good enough for tests and
// small conversions. Must never read or write past n elements / n / block_elems blocks.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/half.hpp"
#include "runtime/quant_blocks.hpp"
#include "runtime/quants_impl.hpp"

namespace duet::rt::kern {
namespace {

// Round half to even (the default FP rounding mode), as the AVX2 conversions do.
inline int round_even(float x) { return static_cast<int>(std::nearbyint(x)); }

// The element with the largest magnitude, keeping its sign (ggml's choice for symmetric types).
inline float signed_absmax(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

inline float absmax(const float* x, int n) {
  float amax = 0;
  for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

// Packs 32 quants (0..15 after masking) into 16 bytes: j low nibble, j+16 high nibble.
inline void pack_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
}

inline void pack_high_bits(const uint8_t* q, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  std::memcpy(qh_bytes, &qh, 4);
}

// Asymmetric 32-block quantization to `levels` (15 or 31): returns d and min.
inline void quantize_asym32(const float* x, int levels, uint8_t* q, float* d_out, float* m_out) {
  float mn = x[0], mx = x[0];
  for (int j = 1; j < kQK; ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
  }
  const float d = (mx - mn) / static_cast<float>(levels);
  const float id = d != 0 ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) {
    const int v = static_cast<int>((x[j] - mn) * id + 0.5f);  // truncation, as ggml
    q[j] = static_cast<uint8_t>(std::clamp(v, 0, levels));
  }
  *d_out = d;
  *m_out = mn;
}

// Symmetric 32-block quantization to [0, 2*half-1] around `half` (8 or 16).
inline float quantize_sym32(const float* x, int half, uint8_t* q) {
  const float max = signed_absmax(x, kQK);
  const float d = max / static_cast<float>(-half);
  const float id = d != 0 ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) {
    const int v = static_cast<int>(x[j] * id + static_cast<float>(half) + 0.5f);
    q[j] = static_cast<uint8_t>(std::clamp(v, 0, 2 * half - 1));
  }
  return d;
}

// Q4_K/Q5_K: per sub-block of 32, scale and (non-negative) min; then 6-bit codes of both.
template <int Levels>
void quantize_k_asym(const float* x, uint16_t* d_out, uint16_t* dmin_out, uint8_t* scales,
                     uint8_t* q /* [256], 0..Levels */) {
  float sub_scale[8], sub_min[8];
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    float mn = 0, mx = xs[0];  // min is clamped at 0 so the stored min is >= 0
    for (int l = 0; l < 32; ++l) {
      mn = std::min(mn, xs[l]);
      mx = std::max(mx, xs[l]);
    }
    sub_scale[s] = (mx - mn) / static_cast<float>(Levels);
    sub_min[s] = -mn;
  }
  const float max_scale = *std::max_element(sub_scale, sub_scale + 8);
  const float max_min = *std::max_element(sub_min, sub_min + 8);
  *d_out = fp32_to_fp16(max_scale / 63.0f);
  *dmin_out = fp32_to_fp16(max_min / 63.0f);
  const float d = fp16_to_fp32(*d_out);
  const float dmin = fp16_to_fp32(*dmin_out);
  uint8_t sc[8], mq[8];
  for (int s = 0; s < 8; ++s) {
    // Round the scale up so the largest quant still fits; the min to nearest.
    sc[s] = static_cast<uint8_t>(d > 0 ? std::clamp(static_cast<int>(std::ceil(sub_scale[s] / d)), 0, 63) : 0);
    mq[s] = static_cast<uint8_t>(dmin > 0 ? std::clamp(round_even(sub_min[s] / dmin), 0, 63) : 0);
  }
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>((mq[j] & 63) | ((mq[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mq[j + 4] & 0xF) << 4));
  }
  for (int s = 0; s < 8; ++s) {
    const float ds = d * static_cast<float>(sc[s]);
    const float ms = dmin * static_cast<float>(mq[s]);
    const float id = ds != 0 ? 1.0f / ds : 0.0f;
    for (int l = 0; l < 32; ++l) {
      q[32 * s + l] = static_cast<uint8_t>(std::clamp(round_even((x[32 * s + l] + ms) * id), 0, Levels));
    }
  }
}

}  // namespace

void float_to_f32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void float_to_f16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
}

void float_to_bf16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]);
}

void float_to_q4_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_0*>(dst);
  uint8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    b[i].d = fp32_to_fp16(quantize_sym32(src, 8, q));
    pack_nibbles(q, b[i].qs);
  }
}

void float_to_q4_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_1*>(dst);
  uint8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float d, m;
    quantize_asym32(src, 15, q, &d, &m);
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(m);
    pack_nibbles(q, b[i].qs);
  }
}

void float_to_q5_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_0*>(dst);
  uint8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    b[i].d = fp32_to_fp16(quantize_sym32(src, 16, q));
    pack_nibbles(q, b[i].qs);
    pack_high_bits(q, b[i].qh);
  }
}

void float_to_q5_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_1*>(dst);
  uint8_t q[kQK];
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    float d, m;
    quantize_asym32(src, 31, q, &d, &m);
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(m);
    pack_nibbles(q, b[i].qs);
    pack_high_bits(q, b[i].qh);
  }
}

// Activation quantizers: q = round_even(x * (127 / amax)); d = amax / 127 (Q8_0, Q8_1) or
// 1 / (127 / amax) (Q8_K), as llama.cpp stores each.
void float_to_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const float amax = absmax(src, kQK);
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    b[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) b[i].qs[j] = static_cast<int8_t>(round_even(src[j] * id));
  }
}

void float_to_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const float amax = absmax(src, kQK);
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b[i].qs[j] = static_cast<int8_t>(round_even(src[j] * id));
      sum += b[i].qs[j];
    }
    b[i].d = fp32_to_fp16(d);
    b[i].s = fp32_to_fp16(d * static_cast<float>(sum));
  }
}

void float_to_q8_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    const float amax = absmax(src, kQKK);
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    // The scale is the reciprocal of id (not amax / 127), as llama.cpp's Q8_K stores it.
    b[i].d = amax != 0 ? 1.0f / id : 0.0f;
    for (int j = 0; j < kQKK; ++j) b[i].qs[j] = static_cast<int8_t>(round_even(src[j] * id));
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b[i].qs[16 * g + l];
      b[i].bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

void float_to_q4_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_K*>(dst);
  uint8_t q[kQKK];
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    quantize_k_asym<15>(src, &b[i].d, &b[i].dmin, b[i].scales, q);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        b[i].qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
      }
    }
  }
}

void float_to_q5_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_K*>(dst);
  uint8_t q[kQKK];
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    quantize_k_asym<31>(src, &b[i].d, &b[i].dmin, b[i].scales, q);
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        b[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        b[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void float_to_q6_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
    float sub_scale[16];
    float max_scale = 0;
    for (int s = 0; s < 16; ++s) {
      sub_scale[s] = absmax(src + 16 * s, 16) / 31.0f;
      max_scale = std::max(max_scale, sub_scale[s]);
    }
    b[i].d = fp32_to_fp16(max_scale / 127.0f);
    const float d = fp16_to_fp32(b[i].d);
    uint8_t q[kQKK];
    for (int s = 0; s < 16; ++s) {
      // Rounded up so every quant of the sub-block fits in [-31, 31].
      const int sc = d > 0 ? std::clamp(static_cast<int>(std::ceil(sub_scale[s] / d)), 0, 127) : 0;
      b[i].scales[s] = static_cast<int8_t>(sc);
      const float ds = d * static_cast<float>(sc);
      const float id = ds != 0 ? 1.0f / ds : 0.0f;
      for (int l = 0; l < 16; ++l) {
        q[16 * s + l] = static_cast<uint8_t>(std::clamp(round_even(src[16 * s + l] * id), -32, 31) + 32);
      }
    }
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int h = 0; h < 2; ++h) {
      const uint8_t* qq = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b[i].ql[64 * h + l] = static_cast<uint8_t>((qq[l] & 0xF) | ((qq[l + 64] & 0xF) << 4));
        b[i].ql[64 * h + l + 32] = static_cast<uint8_t>((qq[l + 32] & 0xF) | ((qq[l + 96] & 0xF) << 4));
        b[i].qh[32 * h + l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) |
                                                   ((qq[l + 64] >> 4) << 4) | ((qq[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace duet::rt::kern
