// A Piper (VITS) voice on Duet's runtime: phoneme ids -> latent frames (text encoder, stochastic
// duration predictor, coupling flow) -> 22.05 kHz-style PCM (HiFi-GAN decoder), the latter also in
// windows so audio can be streamed while a sentence is still being decoded.
// The model is immutable after load and shared by sessions: every call takes its own parameters,
// noise seed and thread pool. Must never hold per-utterance state or touch text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "core/cancel.hpp"
#include "models/vits_config.hpp"

namespace duet::rt {
class ThreadPool;
}

namespace duet::models {

struct VitsWeights;     // vits_weights.hpp
class HifiganScratch;   // vits_compute.hpp

// Buffers VitsModel::decode reuses from window to window (one per stream, so windows do not
// allocate afresh). Holds no values a later call reads; never used by two calls at once.
class VitsDecodeScratch {
 public:
  VitsDecodeScratch();
  ~VitsDecodeScratch();
  VitsDecodeScratch(const VitsDecodeScratch&) = delete;
  VitsDecodeScratch& operator=(const VitsDecodeScratch&) = delete;
  HifiganScratch& hifigan() { return *hifigan_; }

 private:
  std::unique_ptr<HifiganScratch> hifigan_;
};

struct VitsParams {
  float noise_scale = 0.667f;  // latent noise (0 = deterministic)
  float length_scale = 1.0f;   // > 1 is slower speech
  float noise_w = 0.8f;        // duration noise (0 = deterministic)
  uint64_t seed = 0;           // noise seed; the same seed gives the same audio
  int speaker_id = 0;          // for multi-speaker voices
};

// The latent a sentence decodes from: z f32 [n_frames, inter_channels], and how many frames each
// phoneme id got. z is final on frames [0, flowed); the rest is still to go through the flow,
// from `prior` (the sampled prior, kept until every frame has been through the flow).
struct VitsLatent {
  int64_t n_frames = 0;
  std::vector<float> z;
  std::vector<int32_t> frames_per_id;
  std::vector<float> prior;
  int64_t flowed = 0;
};

class VitsModel {
 public:
  // Loads a GGUF written by tools/convert_piper.py. Throws duet::Error (with the path) for a
  // missing file, a file of another architecture, or tensors that do not match the config.
  static std::shared_ptr<const VitsModel> load(const std::filesystem::path& path);
  ~VitsModel();
  VitsModel(const VitsModel&) = delete;
  VitsModel& operator=(const VitsModel&) = delete;

  const VitsConfig& config() const { return config_; }
  // The params the voice's config recommends.
  VitsParams default_params() const;

  // Encoder, durations and flow for one sentence of ids (each in [0, n_vocab)). Throws
  // duet::Error for empty ids, ids out of range or a bad speaker id; duet::Cancelled between
  // layers once `cancel` is raised. pool may be null.
  VitsLatent infer_latent(std::span<const int64_t> ids, const VitsParams& params,
                          const CancelToken& cancel, rt::ThreadPool* pool) const;
  // infer_latent without the flow (flowed = 0), so that a stream can put only the frames its
  // first window needs through the flow before the first audio.
  VitsLatent infer_prior(std::span<const int64_t> ids, const VitsParams& params,
                         const CancelToken& cancel, rt::ThreadPool* pool) const;
  // Makes z final on [0, frame_end) (clamped to n_frames): the flow runs on the frames not yet
  // final plus flow_context_frames() on each side, so the result matches a whole-latent flow up
  // to rounding. Each call costs 2 * flow_context_frames() extra frames; call it rarely.
  void flow_until(VitsLatent& latent, int64_t frame_end, int speaker_id,
                  const CancelToken& cancel, rt::ThreadPool* pool) const;
  // The flow's receptive field on each side, in latent frames.
  int64_t flow_context_frames() const;

  // PCM in [-1, 1] for frames [frame_begin, frame_end) of `latent`, (frame_end - frame_begin) *
  // hop_length samples, equal to that part of a whole-sentence decode up to rounding. z must be
  // final on the frames the window reads (at most total_context_frames() beyond either end; else
  // duet::Error).
  std::vector<float> decode(const VitsLatent& latent, int64_t frame_begin, int64_t frame_end,
                            const CancelToken& cancel, rt::ThreadPool* pool,
                            int speaker_id = 0, VitsDecodeScratch* scratch = nullptr) const;
  // The decoder's receptive field on each side, in latent frames (rounded up; a bound).
  int64_t total_context_frames() const;

  // infer_latent + decode of the whole sentence.
  std::vector<float> synthesize(std::span<const int64_t> ids, const VitsParams& params,
                                const CancelToken& cancel, rt::ThreadPool* pool) const;

 private:
  VitsModel() = default;
  VitsConfig config_;
  std::unique_ptr<VitsWeights> weights_;
};

}  // namespace duet::models
