// VitsModel: load (config + weights), infer_latent (encoder -> durations -> prior sampling ->
// flow) and windowed decoding. Must never mutate the model after load (shared by sessions).
#include "models/vits.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "models/vits_compute.hpp"
#include "models/vits_weights.hpp"
#include "runtime/ops.hpp"

namespace duet::models {
namespace {

constexpr int64_t kMaxFramesPerId = 200;  // ~2.3 s at 22.05 kHz; guards a runaway duration

std::vector<float> speaker_vector(const VitsWeights& w, const VitsConfig& c, int speaker_id) {
  if (speaker_id < 0 || speaker_id >= c.num_speakers) {
    fail("vits: speaker id {} is outside 0..{}", speaker_id, c.num_speakers - 1);
  }
  if (c.gin <= 0) return {};
  std::vector<float> g(static_cast<size_t>(c.gin));
  const int32_t id = speaker_id;
  rt::get_rows(w.speaker_emb, &id, 1, g.data());
  return g;
}

}  // namespace

VitsModel::~VitsModel() = default;

std::shared_ptr<const VitsModel> VitsModel::load(const std::filesystem::path& path) {
  return with_context("loading the Piper voice " + path.string(), [&] {
    rt::GgufFile file = rt::GgufFile::open(path);
    std::shared_ptr<VitsModel> m(new VitsModel());
    m->config_ = VitsConfig::from_gguf(file);
    m->weights_ = std::make_unique<VitsWeights>(VitsWeights::bind(std::move(file), m->config_));
    return std::shared_ptr<const VitsModel>(std::move(m));
  });
}

VitsParams VitsModel::default_params() const {
  VitsParams p;
  p.noise_scale = config_.noise_scale;
  p.length_scale = config_.length_scale;
  p.noise_w = config_.noise_w;
  p.speaker_id = static_cast<int>(config_.default_speaker);
  return p;
}

VitsLatent VitsModel::infer_latent(std::span<const int64_t> ids, const VitsParams& params,
                                   const CancelToken& cancel, rt::ThreadPool* pool) const {
  VitsLatent lat = infer_prior(ids, params, cancel, pool);
  flow_until(lat, lat.n_frames, params.speaker_id, cancel, pool);
  return lat;
}

int64_t VitsModel::flow_context_frames() const {
  int64_t per_coupling = 0;
  for (const int64_t d : config_.wn_dilations) per_coupling += d * (config_.wn_kernel - 1) / 2;
  return per_coupling * static_cast<int64_t>(config_.flows.size());
}

void VitsModel::flow_until(VitsLatent& lat, int64_t frame_end, int speaker_id,
                           const CancelToken& cancel, rt::ThreadPool* pool) const {
  frame_end = std::min(frame_end, lat.n_frames);
  if (frame_end <= lat.flowed) return;
  const int64_t C = config_.inter;
  if (lat.prior.size() != static_cast<size_t>(lat.n_frames * C) ||
      lat.z.size() != lat.prior.size()) {
    fail("vits: the latent has no prior left to flow frames {}..{}", lat.flowed, frame_end);
  }
  const std::vector<float> g = speaker_vector(*weights_, config_, speaker_id);
  const int64_t ctx = flow_context_frames();
  const int64_t a0 = std::max<int64_t>(0, lat.flowed - ctx);
  const int64_t a1 = frame_end == lat.n_frames ? frame_end : std::min(lat.n_frames, frame_end + ctx);
  std::vector<float> piece(lat.prior.begin() + a0 * C, lat.prior.begin() + a1 * C);
  flow_reverse(*weights_, config_, piece, a1 - a0, g.empty() ? nullptr : g.data(), cancel, pool);
  std::copy(piece.begin() + (lat.flowed - a0) * C, piece.begin() + (frame_end - a0) * C,
            lat.z.begin() + lat.flowed * C);
  lat.flowed = frame_end;
  if (lat.flowed == lat.n_frames) std::vector<float>().swap(lat.prior);
}

VitsLatent VitsModel::infer_prior(std::span<const int64_t> ids, const VitsParams& params,
                                  const CancelToken& cancel, rt::ThreadPool* pool) const {
  const VitsConfig& c = config_;
  const VitsWeights& w = *weights_;
  if (!(params.length_scale > 0.0f && params.length_scale <= 20.0f)) {
    fail("vits: length scale {} is outside (0, 20]", params.length_scale);
  }
  if (!(params.noise_scale >= 0.0f && params.noise_scale <= 10.0f) ||
      !(params.noise_w >= 0.0f && params.noise_w <= 10.0f)) {
    fail("vits: noise scales {} / {} are outside [0, 10]", params.noise_scale, params.noise_w);
  }
  const std::vector<float> g = speaker_vector(w, c, params.speaker_id);
  const float* gp = g.empty() ? nullptr : g.data();
  rt::check_cancel(cancel);
  const EncoderOutput enc = text_encoder(w, c, ids, cancel, pool);
  const auto n = static_cast<int64_t>(ids.size());
  GaussianNoise noise(params.seed);
  const std::vector<float> logw =
      duration_predictor(w, c, enc.x, n, gp, params.noise_w, noise, cancel, pool);

  VitsLatent lat;
  lat.frames_per_id.resize(static_cast<size_t>(n));
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float d = std::ceil(std::exp(logw[static_cast<size_t>(i)]) * params.length_scale);
    const int64_t f = std::isfinite(d) ? std::clamp<int64_t>(static_cast<int64_t>(d), 0, kMaxFramesPerId)
                                       : kMaxFramesPerId;
    lat.frames_per_id[static_cast<size_t>(i)] = static_cast<int32_t>(f);
    total += f;
  }
  lat.n_frames = std::max<int64_t>(total, 1);
  const int64_t C = c.inter;
  lat.z.assign(static_cast<size_t>(lat.n_frames * C), 0.0f);
  int64_t frame = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int32_t k = 0; k < lat.frames_per_id[static_cast<size_t>(i)]; ++k, ++frame) {
      std::copy(enc.m_p.begin() + i * C, enc.m_p.begin() + (i + 1) * C, lat.z.begin() + frame * C);
    }
  }
  if (params.noise_scale > 0.0f) {
    frame = 0;
    std::vector<float> eps(static_cast<size_t>(lat.n_frames * C));
    noise.fill(eps.data(), lat.n_frames * C, 1.0f);
    for (int64_t i = 0; i < n; ++i) {
      for (int32_t k = 0; k < lat.frames_per_id[static_cast<size_t>(i)]; ++k, ++frame) {
        for (int64_t ch = 0; ch < C; ++ch) {
          const size_t at = static_cast<size_t>(frame * C + ch);
          lat.z[at] += eps[at] * std::exp(enc.logs_p[static_cast<size_t>(i * C + ch)]) *
                       params.noise_scale;
        }
      }
    }
  }
  lat.prior.swap(lat.z);
  lat.z.assign(lat.prior.size(), 0.0f);
  lat.flowed = 0;
  return lat;
}

int64_t VitsModel::total_context_frames() const {
  const VitsConfig& c = config_;
  double frames = static_cast<double>(c.conv_pre_kernel / 2);
  double cum = 1.0;
  for (size_t i = 0; i < c.up_rates.size(); ++i) {
    frames += static_cast<double>(c.up_kernels[i]) / (2.0 * static_cast<double>(c.up_rates[i])) / cum;
    cum *= static_cast<double>(c.up_rates[i]);
    int64_t widest = 0;
    for (size_t j = 0; j < c.resblock_kernels.size(); ++j) {
      int64_t sum = 0;
      for (const int64_t d : c.resblock_dilations[j]) {
        sum += d * (c.resblock_kernels[j] - 1) / 2;
        if (c.resblock_type == 1) sum += (c.resblock_kernels[j] - 1) / 2;
      }
      widest = std::max(widest, sum);
    }
    frames += static_cast<double>(widest) / cum;
  }
  frames += static_cast<double>(c.conv_post_kernel / 2) / cum;
  return static_cast<int64_t>(std::ceil(frames)) + 1;
}

VitsDecodeScratch::VitsDecodeScratch() : hifigan_(std::make_unique<HifiganScratch>()) {}
VitsDecodeScratch::~VitsDecodeScratch() = default;

std::vector<float> VitsModel::decode(const VitsLatent& latent, int64_t frame_begin,
                                     int64_t frame_end, const CancelToken& cancel, rt::ThreadPool* pool,
                                     int speaker_id, VitsDecodeScratch* scratch) const {
  if (frame_begin < 0 || frame_end > latent.n_frames || frame_begin >= frame_end) {
    fail("vits: decode window [{}, {}) is outside the {} frames", frame_begin, frame_end,
         latent.n_frames);
  }
  const std::vector<float> g = speaker_vector(*weights_, config_, speaker_id);
  const int64_t hop = config_.hop;
  const int64_t a1 =
      hifigan_input_frames(*weights_, config_, latent.n_frames, frame_begin * hop, frame_end * hop)
          .second;
  if (a1 > latent.flowed) {
    fail("vits: decode window needs frames up to {} but only {} went through the flow", a1,
         latent.flowed);
  }
  return hifigan_decode(*weights_, config_, latent.z.data(), 0, latent.flowed, latent.n_frames,
                        frame_begin * hop, frame_end * hop, g.empty() ? nullptr : g.data(), cancel,
                        pool, scratch != nullptr ? &scratch->hifigan() : nullptr);
}

std::vector<float> VitsModel::synthesize(std::span<const int64_t> ids, const VitsParams& params,
                                         const CancelToken& cancel, rt::ThreadPool* pool) const {
  const VitsLatent lat = infer_latent(ids, params, cancel, pool);
  return decode(lat, 0, lat.n_frames, cancel, pool, params.speaker_id);
}

}  // namespace duet::models
