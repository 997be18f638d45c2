// Silero VAD: loading both branches from GGUF, the per-stream state, and the one-frame forward
// pass. Must never allocate in silero_forward() or write to the model.
#include "models/silero_vad.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "core/error.hpp"
#include "runtime/vocoder_ops.hpp"

namespace duet::models {
namespace {

constexpr std::string_view kArch = "silero_vad";

std::string rate_prefix(int sample_rate) { return fmt::format("{}k", sample_rate / 1000); }

// A float32 tensor whose GGUF dimensions (ne0 first) are exactly `ne`.
const rt::TensorInfo& f32_tensor(const rt::GgufFile& f, const std::string& name,
                                 std::initializer_list<int64_t> ne) {
  const rt::TensorInfo& t = f.tensor(name);
  if (t.type != rt::DType::F32) {
    fail("{}: tensor '{}' is {}, expected F32", f.name(), name, rt::dtype_name(t.type));
  }
  int i = 0;
  bool ok = true;
  for (const int64_t n : ne) ok = ok && t.ne[i++] == n;
  for (; i < 4; ++i) ok = ok && t.ne[i] == 1;
  if (!ok) {
    fail("{}: tensor '{}' has shape [{}, {}, {}, {}] (ggml order), expected [{}]", f.name(), name,
         t.ne[0], t.ne[1], t.ne[2], t.ne[3], fmt::join(ne, ", "));
  }
  return t;
}

const float* f32_data(const rt::TensorInfo& t) { return reinterpret_cast<const float*>(t.data); }

SileroBranch load_branch(const rt::GgufFile& f, int sample_rate) {
  const std::string pre = rate_prefix(sample_rate);
  const std::string key = fmt::format("{}.{}.", kArch, pre);
  SileroBranch b;
  b.sample_rate = static_cast<int>(f.get_int(key + "sample_rate"));
  if (b.sample_rate != sample_rate) {
    fail("{}: {}sample_rate is {}, expected {}", f.name(), key, b.sample_rate, sample_rate);
  }
  b.window = f.get_int(key + "window");
  b.context = f.get_int(key + "context");
  b.filter_length = f.get_int(key + "filter_length");
  b.hop = f.get_int(key + "hop");
  b.pad_right = f.get_int(key + "pad_right");
  b.n_bins = f.get_int(key + "n_bins");
  b.hidden = f.get_int(key + "hidden");
  if (b.window <= 0 || b.context < 0 || b.filter_length <= 0 || b.hop <= 0 || b.hidden <= 0 ||
      b.pad_right < 0 || b.pad_right >= b.input_len() || b.n_bins != b.filter_length / 2 + 1) {
    fail("{}: inconsistent {} hyperparameters (window {}, context {}, filter {}, hop {}, pad {}, "
         "bins {}, hidden {})", f.name(), pre, b.window, b.context, b.filter_length, b.hop,
         b.pad_right, b.n_bins, b.hidden);
  }

  const auto& basis = f32_tensor(f, pre + ".stft.basis", {b.filter_length, 1, 2 * b.n_bins});
  b.stft = rt::WeightView::of(rt::DType::F32, b.filter_length, 2 * b.n_bins, basis.data);
  b.stft_params = {.c_in = 1, .c_out = 2 * b.n_bins, .kernel = b.filter_length, .stride = b.hop};
  b.stft_frames = rt::conv1d_out_len(b.input_len() + b.pad_right, b.stft_params);
  if (b.stft_frames != f.get_int(key + "stft_frames")) {
    fail("{}: {}stft_frames is {}, but the window gives {}", f.name(), key,
         f.get_int(key + "stft_frames"), b.stft_frames);
  }

  const auto& strides = f.get_array(key + "encoder_strides").ints;
  const auto& pads = f.get_array(key + "encoder_pads").ints;
  const auto& kernels = f.get_array(key + "encoder_kernels").ints;
  const auto& channels = f.get_array(key + "encoder_channels").ints;
  if (strides.size() != 4 || pads.size() != 4 || kernels.size() != 4 || channels.size() != 4) {
    fail("{}: {} must describe 4 encoder blocks", f.name(), pre);
  }
  int64_t c_in = b.n_bins;
  int64_t t = b.stft_frames;
  for (size_t i = 0; i < 4; ++i) {
    auto& blk = b.encoder[i];
    blk.p = {.c_in = c_in, .c_out = channels[i], .kernel = kernels[i], .stride = strides[i],
             .pad_left = pads[i], .pad_right = pads[i]};
    const std::string name = fmt::format("{}.encoder.{}.", pre, i);
    const auto& w = f32_tensor(f, name + "weight", {blk.p.kernel, c_in, blk.p.c_out});
    blk.w = rt::WeightView::of(rt::DType::F32, c_in * blk.p.kernel, blk.p.c_out, w.data);
    blk.b = f32_data(f32_tensor(f, name + "bias", {blk.p.c_out}));
    t = rt::conv1d_out_len(t, blk.p);
    c_in = blk.p.c_out;
  }
  if (t != 1) fail("{}: the {} encoder leaves {} time steps, expected 1", f.name(), pre, t);

  const int64_t g = 4 * b.hidden;
  const auto& wih = f32_tensor(f, pre + ".lstm.weight_ih", {c_in, g});
  const auto& whh = f32_tensor(f, pre + ".lstm.weight_hh", {b.hidden, g});
  b.lstm.w_ih = rt::WeightView::of(rt::DType::F32, c_in, g, wih.data);
  b.lstm.w_hh = rt::WeightView::of(rt::DType::F32, b.hidden, g, whh.data);
  b.lstm.b_ih = f32_data(f32_tensor(f, pre + ".lstm.bias_ih", {g}));
  b.lstm.b_hh = f32_data(f32_tensor(f, pre + ".lstm.bias_hh", {g}));
  b.decoder_w = f32_data(f32_tensor(f, pre + ".decoder.weight", {1, b.hidden, 1}));
  b.decoder_b = f32_data(f32_tensor(f, pre + ".decoder.bias", {1}))[0];
  return b;
}

}  // namespace

SileroModel::SileroModel(rt::GgufFile file) : file_(std::move(file)) {
  const std::string arch = file_.get_string("general.architecture");
  if (arch != kArch) {
    fail("{} is a '{}' model, not Silero VAD; convert one with tools/convert_silero.py",
         file_.name(), arch);
  }
  for (const int64_t sr : file_.get_array(std::string(kArch) + ".sample_rates").ints) {
    if (sr != 16000 && sr != 8000) fail("{}: unsupported sample rate {}", file_.name(), sr);
    branches_.push_back(load_branch(file_, static_cast<int>(sr)));
  }
  if (branches_.empty()) fail("{}: no sample-rate branches", file_.name());
}

std::shared_ptr<const SileroModel> SileroModel::load(const std::filesystem::path& path) {
  return with_context("loading Silero VAD " + path.string(), [&] {
    return std::shared_ptr<const SileroModel>(new SileroModel(rt::GgufFile::open(path)));
  });
}

bool SileroModel::supports(int sample_rate) const {
  return std::any_of(branches_.begin(), branches_.end(),
                     [&](const SileroBranch& b) { return b.sample_rate == sample_rate; });
}

const SileroBranch& SileroModel::branch(int sample_rate) const {
  for (const auto& b : branches_) {
    if (b.sample_rate == sample_rate) return b;
  }
  fail("Silero VAD runs at 16000 or 8000 Hz, not {} (resample first)", sample_rate);
}

SileroState::SileroState(const SileroModel& model, int sample_rate)
    : branch_(&model.branch(sample_rate)) {
  const SileroBranch& b = *branch_;
  h_.assign(b.hidden, 0.0f);
  c_.assign(b.hidden, 0.0f);
  context_.assign(b.context, 0.0f);
  const int64_t n_pad = b.input_len() + b.pad_right;
  padded_.assign(n_pad, 0.0f);
  size_t act = static_cast<size_t>(b.stft_frames * b.stft_params.c_out);
  size_t cols = rt::conv1d_scratch_floats(n_pad, b.stft_params);
  size_t mm = rt::conv1d_matmul_scratch_bytes(b.stft.type, n_pad, b.stft_params);
  int64_t t = b.stft_frames;
  for (const auto& blk : b.encoder) {
    cols = std::max(cols, rt::conv1d_scratch_floats(t, blk.p));
    mm = std::max(mm, rt::conv1d_matmul_scratch_bytes(blk.w.type, t, blk.p));
    t = rt::conv1d_out_len(t, blk.p);
    act = std::max(act, static_cast<size_t>(t * blk.p.c_out));
  }
  act_a_.assign(act, 0.0f);
  act_b_.assign(act, 0.0f);
  cols_.assign(cols, 0.0f);
  lstm_scratch_.assign(rt::lstm_scratch_floats(b.lstm), 0.0f);
  mm_scratch_.assign(std::max(mm, rt::lstm_matmul_scratch_bytes(b.lstm)), 0);
}

void SileroState::reset() {
  std::fill(h_.begin(), h_.end(), 0.0f);
  std::fill(c_.begin(), c_.end(), 0.0f);
  std::fill(context_.begin(), context_.end(), 0.0f);
}

float silero_forward(const SileroModel& model, SileroState& s, std::span<const float> frame) {
  const SileroBranch& b = *s.branch_;
  if (&model.branch(b.sample_rate) != s.branch_) fail("silero: the state belongs to another model");
  if (static_cast<int64_t>(frame.size()) != b.window) {
    fail("silero: a frame at {} Hz must have exactly {} samples, got {}", b.sample_rate, b.window,
         frame.size());
  }
  // padded = context ++ frame ++ reflect(right pad), the graph's Pad(mode=reflect, [0, pad]).
  const int64_t n = b.input_len();
  float* x = s.padded_.data();
  std::copy(s.context_.begin(), s.context_.end(), x);
  for (int64_t i = 0; i < b.window; ++i) {
    const float v = frame[i];
    x[b.context + i] = std::isfinite(v) ? v : 0.0f;
  }
  for (int64_t j = 0; j < b.pad_right; ++j) x[n + j] = x[n - 2 - j];
  std::copy(x + n - b.context, x + n, s.context_.begin());

  // STFT as a strided conv: spec f32 [stft_frames, 2*n_bins] -> magnitude f32 [stft_frames, n_bins].
  float* spec = s.act_b_.data();
  rt::conv1d(x, n + b.pad_right, b.stft, nullptr, b.stft_params, spec, s.cols_, s.mm_scratch_,
             nullptr);
  float* mag = s.act_a_.data();
  for (int64_t t = 0; t < b.stft_frames; ++t) {
    const float* re = spec + t * 2 * b.n_bins;
    const float* im = re + b.n_bins;
    for (int64_t k = 0; k < b.n_bins; ++k) mag[t * b.n_bins + k] = std::sqrt(re[k] * re[k] + im[k] * im[k]);
  }

  // Encoder: conv + ReLU blocks, time-major f32 [t, c], ping-ponging between the two buffers.
  float* in = mag;
  float* out = s.act_b_.data();
  int64_t t = b.stft_frames;
  for (const auto& blk : b.encoder) {
    rt::conv1d(in, t, blk.w, blk.b, blk.p, out, s.cols_, s.mm_scratch_, nullptr);
    t = rt::conv1d_out_len(t, blk.p);
    rt::leaky_relu(out, out, t * blk.p.c_out, 0.0f);
    std::swap(in, out);
  }

  // One LSTM step on the encoder's single time step, then ReLU -> 1x1 conv -> sigmoid.
  rt::lstm_cell(b.lstm, in, s.h_.data(), s.c_.data(), s.lstm_scratch_, s.mm_scratch_, nullptr);
  float logit = b.decoder_b;
  for (int64_t j = 0; j < b.hidden; ++j) logit += b.decoder_w[j] * std::max(s.h_[j], 0.0f);
  float p = 0.0f;
  rt::sigmoid(&logit, &p, 1);
  return p;
}

}  // namespace duet::models
