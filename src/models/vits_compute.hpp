// The stages of VITS inference as free functions over VitsWeights (internal to src/models):
// text encoder, stochastic duration predictor (reverse, with its rational-quadratic spline),
// coupling flow (reverse) and HiFi-GAN decoder, plus the seedable Gaussian noise they use.
// Time-major activations, f32 [frames, channels]. Must never keep state between calls
// (HifiganScratch holds only reusable buffers, never values a later call reads).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "core/cancel.hpp"
#include "models/vits_config.hpp"
#include "models/vits_weights.hpp"

namespace duet::rt {
class ThreadPool;
}

namespace duet::models {

// Deterministic standard-normal noise (xoshiro256** + Box-Muller) from a 64-bit seed.
class GaussianNoise {
 public:
  explicit GaussianNoise(uint64_t seed);
  float next();
  void fill(float* out, int64_t n, float scale);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  float spare_ = 0.0f;
};

// y = conv(x) for x f32 [t, c.p.c_in] -> y f32 [t_out, c.p.c_out].
void apply_conv(const VitsConv& c, const float* x, int64_t t, float* y, rt::VocoderScratch& s,
                rt::ThreadPool* pool);

struct EncoderOutput {
  std::vector<float> x;       // [n, hidden]
  std::vector<float> m_p;     // [n, inter]
  std::vector<float> logs_p;  // [n, inter]
};
EncoderOutput text_encoder(const VitsWeights& w, const VitsConfig& c, std::span<const int64_t> ids,
                           const CancelToken& cancel, rt::ThreadPool* pool);

// log-durations [n] from the encoder output; `g` is the speaker embedding f32 [gin] or null.
std::vector<float> duration_predictor(const VitsWeights& w, const VitsConfig& c,
                                      const std::vector<float>& x, int64_t n, const float* g,
                                      float noise_w, GaussianNoise& noise,
                                      const CancelToken& cancel, rt::ThreadPool* pool);

// Inverse of the monotonic rational-quadratic spline with linear tails outside
// [-tail, tail] (nflows' unconstrained RQS, inverse direction). widths, heights: `bins`
// unnormalized logits; derivatives: bins - 1 unnormalized inner-knot values.
float rq_spline_inverse(float y, const float* widths, const float* heights,
                        const float* derivatives, int bins, float tail);

// In place on z f32 [t, inter]: the coupling flow, reverse direction.
void flow_reverse(const VitsWeights& w, const VitsConfig& c, std::vector<float>& z, int64_t t,
                  const float* g, const CancelToken& cancel, rt::ThreadPool* pool);

// Buffers hifigan_decode reuses from call to call (one per stream, so a stream's windows do not
// allocate and fault in fresh pages). Must never be used by two calls at once.
class HifiganScratch {
 public:
  HifiganScratch();
  ~HifiganScratch();
  HifiganScratch(const HifiganScratch&) = delete;
  HifiganScratch& operator=(const HifiganScratch&) = delete;
  struct Pieces;  // vits_decoder.cpp
  std::unique_ptr<Pieces> p_;
};

// HiFi-GAN on a window: samples [s0, s1) of the audio of a `frames`-frame latent (frames * hop
// samples in all), from z f32 [z1 - z0, inter] holding latent frames [z0, z1), which must cover
// hifigan_input_frames(). Equals the whole-latent decode up to rounding. With a pool the window is
// cut over time into one piece per thread; scratch may be null (buffers for this call only).
std::vector<float> hifigan_decode(const VitsWeights& w, const VitsConfig& c, const float* z,
                                  int64_t z0, int64_t z1, int64_t frames, int64_t s0, int64_t s1,
                                  const float* g, const CancelToken& cancel, rt::ThreadPool* pool,
                                  HifiganScratch* scratch = nullptr);
// The latent frames [first, second) that hifigan_decode reads for samples [s0, s1).
std::pair<int64_t, int64_t> hifigan_input_frames(const VitsWeights& w, const VitsConfig& c,
                                                 int64_t frames, int64_t s0, int64_t s1);

}  // namespace duet::models
