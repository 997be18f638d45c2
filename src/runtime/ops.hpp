// Float32 tensor operations for model forward passes (LLMs, Whisper, VITS, Silero VAD): norms,
// activations, elementwise math, softmax, reductions over a row of logits, RoPE, embedding
// lookup, and (attention.hpp) attention over a KV cache. Plain pointers with shapes in comments,
// row-major, last dimension contiguous. Must never allocate in these calls (RopeCache and KvCache
// allocate when built) and never keep state between calls.
#pragma once

#include <cstdint>
#include <vector>

#include "core/cancel.hpp"
#include "runtime/attention.hpp"
#include "runtime/matmul.hpp"

namespace duet::rt {

// Throws duet::Cancelled when the token was raised; call between layers / units of work.
inline void check_cancel(const CancelToken& token) {
  if (token.cancelled()) throw Cancelled{};
  token.yield();  // a yield point: more urgent work of another session may run first
}

// ---- normalization: x, y f32 [n_rows, n]; y may be x ----
// y = x / sqrt(mean(x^2) + eps) * w; w f32 [n] or null (no weight).
void rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps);
// y = (x - mean) / sqrt(var + eps) * w + b; w, b f32 [n] or null.
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n_rows,
                int64_t n, float eps);

// ---- elementwise: all f32 [n]; outputs may alias inputs ----
void add(const float* a, const float* b, float* y, int64_t n);
void mul(const float* a, const float* b, float* y, int64_t n);
void scale(const float* x, float s, float* y, int64_t n);
// y f32 [n_rows, n] += b f32 [n] on every row (bias).
void add_row(float* y, const float* b, int64_t n_rows, int64_t n);
// y f32 [n_rows, n] *= w f32 [n] on every row.
void mul_row(float* y, const float* w, int64_t n_rows, int64_t n);

enum class GeluKind { Tanh, Erf };
void silu(const float* x, float* y, int64_t n);
void gelu(const float* x, float* y, int64_t n, GeluKind kind = GeluKind::Tanh);
// y = silu(gate) * up (SwiGLU); y = gelu(gate) * up (GeGLU). gate, up, y f32 [n].
void swiglu(const float* gate, const float* up, float* y, int64_t n);
void geglu(const float* gate, const float* up, float* y, int64_t n, GeluKind kind = GeluKind::Tanh);

// ---- softmax: row-wise over x f32 [n_rows, n], y may be x ----
// y = softmax(x * scale + mask); mask f32 [n_rows, n] (additive, -inf hides) or null. A row that is
// entirely masked becomes zeros.
void softmax(const float* x, float* y, int64_t n_rows, int64_t n, float scale = 1.0f,
             const float* mask = nullptr);

// ---- reductions over one row x f32 [n] (a vocabulary's logits), x left as it is ----
// The largest value (-inf for n == 0), and the first index holding the largest value that is not
// NaN (-1 for n == 0; 0 for a row of NaN alone).
float max_value(const float* x, int64_t n);
int64_t argmax(const float* x, int64_t n);
// log(sum exp x[i]): max + log of the float sum of exp(x[i] - max); -inf for an empty or all -inf
// row.
double log_sum_exp(const float* x, int64_t n);

// ---- embeddings ----
// out f32 [n_ids, table.n_in] = rows `ids` of table (any readable type: F32, F16, BF16, Q*).
// Throws duet::Error for an id outside [0, table.n_out).
void get_rows(const WeightView& table, const int32_t* ids, int64_t n_ids, float* out);

// ---- rotary position embedding ----
// Normal: rotates pairs (x[2i], x[2i+1]) (GGUF llama); NeoX: pairs (x[i], x[i + n_rot/2]) (Gemma,
// Qwen, GPT-NeoX). theta(p, i) = p * freq_scale * freq_base^(-2i / n_rot).
enum class RopeMode { Normal, NeoX };

struct RopeCache {
  int n_rot = 0;           // rotated dimensions per head (even, <= head_dim); the rest pass through
  int64_t max_pos = 0;     // positions [0, max_pos) are tabulated
  std::vector<float> cos;  // f32 [max_pos, n_rot / 2]
  std::vector<float> sin;  // f32 [max_pos, n_rot / 2]

  static RopeCache make(int n_rot, int64_t max_pos, float freq_base, float freq_scale = 1.0f);
};

// In place on x f32 [n_tokens, n_heads, head_dim]; pos i32 [n_tokens], each in [0, max_pos).
void rope(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* pos,
          const RopeCache& cache, RopeMode mode);

}  // namespace duet::rt
