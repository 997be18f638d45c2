// Resampler on top of libsamplerate's src_process(). Must never leave a libsamplerate error
// unreported, and never hand libsamplerate a buffer smaller than the frame counts it is told.
#include "audio/resampler.hpp"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.hpp"

namespace duet {
namespace {

constexpr int kMaxRate = 768000;
constexpr size_t kOutputSlackFrames = 64;

int converter_type(ResampleQuality quality) {
  switch (quality) {
    case ResampleQuality::Medium: return SRC_SINC_MEDIUM_QUALITY;
    case ResampleQuality::Fast: return SRC_SINC_FASTEST;
    case ResampleQuality::Best: break;
  }
  return SRC_SINC_BEST_QUALITY;
}

void check_rate(int rate, const char* which) {
  if (rate < 1 || rate > kMaxRate) {
    fail("resampler: {} rate {} Hz is outside 1..{} Hz", which, rate, kMaxRate);
  }
}

}  // namespace

Resampler::Resampler(int input_rate, int output_rate, int channels, ResampleQuality quality)
    : input_rate_(input_rate), output_rate_(output_rate), channels_(channels) {
  check_rate(input_rate, "input");
  check_rate(output_rate, "output");
  if (channels < 1 || channels > 2) {
    fail("resampler: {} channels requested; Duet resamples mono or stereo", channels);
  }
  ratio_ = static_cast<double>(output_rate) / input_rate;
  if (src_is_valid_ratio(ratio_) == 0) {
    fail("resampler: {} Hz -> {} Hz is a ratio of {:.6g}, beyond libsamplerate's 1/256..256; "
         "resample in two steps",
         input_rate, output_rate, ratio_);
  }
  if (input_rate == output_rate) return;
  int error = 0;
  state_ = src_new(converter_type(quality), channels, &error);
  if (state_ == nullptr) fail("resampler: libsamplerate could not start: {}", src_strerror(error));
}

Resampler::~Resampler() {
  if (state_ != nullptr) src_delete(state_);
}

Resampler::Resampler(Resampler&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      input_rate_(other.input_rate_),
      output_rate_(other.output_rate_),
      channels_(other.channels_),
      ratio_(other.ratio_),
      input_frames_total_(other.input_frames_total_),
      output_frames_total_(other.output_frames_total_) {}

Resampler& Resampler::operator=(Resampler&& other) noexcept {
  if (this != &other) {
    if (state_ != nullptr) src_delete(state_);
    state_ = std::exchange(other.state_, nullptr);
    input_rate_ = other.input_rate_;
    output_rate_ = other.output_rate_;
    channels_ = other.channels_;
    ratio_ = other.ratio_;
    input_frames_total_ = other.input_frames_total_;
    output_frames_total_ = other.output_frames_total_;
  }
  return *this;
}

size_t Resampler::push(std::span<const float> input, std::vector<float>& output) {
  const auto stride = static_cast<size_t>(channels_);
  if (input.size() % stride != 0) {
    fail("resampler: got {} samples, not a whole number of {}-channel frames", input.size(),
         channels_);
  }
  input_frames_total_ += input.size() / stride;
  if (state_ == nullptr) {
    output.insert(output.end(), input.begin(), input.end());
    output_frames_total_ += input.size() / stride;
    return input.size() / stride;
  }
  return convert(input, false, output);
}

size_t Resampler::flush(std::vector<float>& output) {
  const auto stride = static_cast<size_t>(channels_);
  size_t appended = state_ != nullptr ? convert({}, true, output) : 0;
  // Trim or pad the tail so the stream's length is exactly round(input * ratio).
  const auto expected = static_cast<unsigned long long>(
      std::llround(static_cast<double>(input_frames_total_) * ratio_));
  if (output_frames_total_ > expected) {
    const size_t excess =
        std::min<size_t>(static_cast<size_t>(output_frames_total_ - expected), appended);
    output.resize(output.size() - excess * stride);
    appended -= excess;
  } else if (output_frames_total_ < expected) {
    const auto missing = static_cast<size_t>(expected - output_frames_total_);
    output.resize(output.size() + missing * stride, 0.0f);
    appended += missing;
  }
  reset();
  return appended;
}

void Resampler::reset() {
  if (state_ != nullptr) src_reset(state_);
  input_frames_total_ = 0;
  output_frames_total_ = 0;
}

size_t Resampler::convert(std::span<const float> input, bool end_of_input,
                          std::vector<float>& output) {
  const auto stride = static_cast<size_t>(channels_);
  // libsamplerate ignores end_of_input when data_in is null, so an empty input still needs a
  // valid pointer for the final drain to happen.
  static constexpr float kNoInput = 0.0f;
  const float* next_input = input.empty() ? &kNoInput : input.data();
  auto frames_left = static_cast<long>(input.size() / stride);
  size_t appended = 0;
  while (true) {
    const double expected_frames = std::ceil(static_cast<double>(frames_left) * ratio_);
    const size_t capacity = static_cast<size_t>(expected_frames) + kOutputSlackFrames;
    const size_t old_size = output.size();
    output.resize(old_size + capacity * stride);
    SRC_DATA request{};
    request.data_in = next_input;
    request.data_out = output.data() + old_size;
    request.input_frames = frames_left;
    request.output_frames = static_cast<long>(capacity);
    request.end_of_input = end_of_input ? 1 : 0;
    request.src_ratio = ratio_;
    const int error = src_process(state_, &request);
    const auto generated = static_cast<size_t>(error == 0 ? request.output_frames_gen : 0);
    output.resize(old_size + generated * stride);
    if (error != 0) fail("resampler: libsamplerate failed: {}", src_strerror(error));
    appended += generated;
    frames_left -= request.input_frames_used;
    next_input += static_cast<size_t>(request.input_frames_used) * stride;
    const bool progressed = request.input_frames_used > 0 || generated > 0;
    if (!progressed) break;
    if (frames_left == 0 && !end_of_input) break;
  }
  output_frames_total_ += appended;
  return appended;
}

AudioBuffer resample(const AudioBuffer& input, int target_rate, ResampleQuality quality) {
  if (input.sample_rate == target_rate) return input;
  Resampler resampler(input.sample_rate, target_rate, input.channels, quality);
  AudioBuffer output{target_rate, input.channels, {}};
  output.samples.reserve(static_cast<size_t>(
      std::ceil(static_cast<double>(input.samples.size()) * target_rate / input.sample_rate)) +
      kOutputSlackFrames * static_cast<size_t>(input.channels));
  const size_t whole_samples = input.frames() * static_cast<size_t>(input.channels);
  resampler.push(std::span<const float>(input.samples).first(whole_samples), output.samples);
  resampler.flush(output.samples);
  return output;
}

}  // namespace duet
